"""Utilities with the names of ``keras.utils``: label encoding, normalization, padding, splitting, seeding, datasets,
pictures of a model's graph (``plot_model``, ``model_to_dot``).

``get_file`` is not provided: Neurona's core never reaches the network.
"""

from ..backend.session import clear_session
from ..registry import CustomObjectScope, custom_object_scope, get_custom_objects
from .data_utils import normalize, to_categorical
from .dataset_utils import split_dataset
from .model_visualization import model_to_dot, plot_model
from .py_dataset import PyDataset, Sequence, unpack_batch
from .rng_utils import set_random_seed
from .sequence_utils import pad_sequences

__all__ = [
    "CustomObjectScope", "PyDataset", "Sequence", "clear_session", "custom_object_scope", "get_custom_objects",
    "model_to_dot", "normalize", "pad_sequences", "plot_model",
    "set_random_seed", "split_dataset", "to_categorical", "unpack_batch",
]
