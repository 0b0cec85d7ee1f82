"""Keras's own files, both ways: ``model.to_json()`` JSON (Keras 3 and Keras 2), the HDF5 weight layouts and the
``.keras`` archive.

- config.py: Keras's architecture JSON <-> Neurona's model config (layers, activations, initializers with
  their seeds, regularizers, dtypes); what Neurona cannot represent is refused, naming the layer and option.
- weights.py: Keras 3's ``.weights.h5`` layout and the legacy ``model.h5`` layouts <-> a model's weights,
  matched by layer structure.
- archive.py: the ``.keras`` zip, every member checked, nothing extracted.
- files.py: the flows ``load_model``, ``load_weights``, ``save``, ``save_weights`` and ``to_json`` use.

The public entry points are Neurona's own: ``models.model_from_json`` and ``models.load_model`` recognise
Keras's files, and ``model.save("m.keras")``, ``model.save_weights(path, format="keras")`` and
``model.to_json(format="keras")`` write them.
"""
