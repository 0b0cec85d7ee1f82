"""A zoo of small models that together use every registered layer, and data to train them on.

Most are Sequential stacks (a maker returns the list of layers); the functional ones (a maker returns the
model) cover shared layers, merge layers, ops on symbolic tensors (TensorOp), and nested Sequential and
functional models (a frozen base called with training=False); "lambda" has a Lambda of a registered function.
"""

import numpy as np
import pytest

import neurona as nr
from neurona import compression, initializers, layers, models, ops, regularizers


@layers.register_function
def zoo_soft_clip(x):
    """A registered function for the zoo's Lambda: ``2 tanh(x / 2)``."""
    return ops.tanh(x * 0.5) * 2.0


def _dense():
    return [layers.Input((5,)),
            layers.Dense(8, activation="relu", kernel_initializer="he_normal",
                         bias_initializer=initializers.Constant(0.1), kernel_regularizer=regularizers.L2(1e-3)),
            layers.Activation("tanh"),
            layers.Dense(6, activation="selu", kernel_initializer=initializers.GlorotUniform(seed=3)),
            layers.Dense(3, activation="softmax")]


def _conv2d():
    return [layers.Input((8, 8, 2)),
            layers.Conv2D(4, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Conv2D(5, (2, 3), strides=1, dilation_rate=(1, 2), padding="same", activation="gelu"),
            layers.AveragePooling2D(2, strides=1, padding="same"),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(3, activation="softmax")]


def _conv1d():
    return [layers.Input((12, 3)),
            layers.Conv1D(4, 3, activation="elu"),
            layers.MaxPooling1D(2, padding="same"),
            layers.AveragePooling1D(2),
            layers.LayerNormalization(),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, activation="softmax")]


def _norms():
    return [layers.Input((4, 4, 4)),
            layers.Normalization(mean=[0.5, 0.0, -0.5, 1.0], variance=[1.0, 4.0, 0.25, 2.0]),
            layers.GroupNormalization(groups=2),
            layers.InstanceNormalization(),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax")]


def _reshape():
    return [layers.Input((12,)),
            layers.Reshape((4, 3)),
            layers.GlobalAveragePooling1D(),
            layers.Dense(5, activation="leaky_relu"),
            layers.Reshape((5, 1, 1)),
            layers.GlobalMaxPooling2D(),
            layers.Dense(3, activation="softmax")]


def _merge():
    """Every merge layer, a shared layer (two calls, one set of weights) and ops on symbolic tensors."""
    inputs = nr.Input((6,))
    h = layers.Dense(8, activation="relu")(inputs)
    shared = layers.Dense(4, activation="tanh")
    a, b = shared(h), shared(layers.Dense(8, activation="sigmoid")(h))
    added, subtracted, multiplied = layers.Add()([a, b]), layers.Subtract()([a, b]), layers.Multiply()([a, b])
    averaged = layers.Average()([a, b, added])
    joined = layers.Concatenate()([added, subtracted, multiplied, averaged, layers.Maximum()([a, b]),
                                   layers.Minimum()([a, b])])
    similarity = layers.Dot(axes=1, normalize=True)([a, b])  # (batch, 1)
    x = joined[:, 2:14] * 0.5 + similarity - a[:, :1] / 4.0  # TensorOp nodes: getitem, multiply, add, ...
    outputs = layers.Dense(3, activation="softmax")(layers.Identity()(x))
    return models.Model(inputs, outputs, name="zoo_merge")


def _nested():
    """A frozen pretrained base (Sequential, with normalization and dropout) called with training=False and a
    nested functional block."""
    base = models.Sequential([layers.Input((5,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                              layers.Dropout(0.2, seed=5)], name="zoo_base")
    base.trainable = False
    block_in = nr.Input((8,))
    block = models.Model(block_in, layers.Dropout(0.3)(layers.Dense(6, activation="elu")(block_in)),
                         name="zoo_block")
    inputs = nr.Input((5,))
    outputs = layers.Dense(3, activation="softmax")(block(base(inputs, training=False)))
    return models.Model(inputs, outputs, name="zoo_nested")


def _lambda():
    """Lambda with a registered function (saved by name, never as code), Identity."""
    return [layers.Input((4,)), layers.Dense(6), layers.Lambda(zoo_soft_clip), layers.Identity(),
            layers.Dense(3, activation="softmax")]


def _recurrent():
    """Every recurrent layer and cell: stacked sequences (one read backwards) and a custom-cell RNN."""
    return [layers.Input((6, 4)),
            layers.Masking(0.0),
            layers.LSTM(5, return_sequences=True, recurrent_regularizer=regularizers.L2(1e-3)),
            layers.GRU(4, return_sequences=True, reset_after=False, go_backwards=True),
            layers.SimpleRNN(4, activation="relu", return_sequences=True, recurrent_initializer="identity"),
            layers.RNN(layers.LSTMCell(3, unit_forget_bias=False), return_sequences=True),
            layers.RNN(layers.GRUCell(3)),
            layers.Dense(3, activation="softmax")]


def _text():
    """Integer ids: an Embedding whose mask (id 0 is padding) reaches a GRU and a masked average."""
    return [layers.Input((6,), dtype="int64"),
            layers.Embedding(10, 4, mask_zero=True, embeddings_initializer="glorot_uniform"),
            layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode="sum"),
            layers.TimeDistributed(layers.Dense(5, activation="relu")),
            layers.GlobalAveragePooling1D(),
            layers.Dense(3, activation="softmax")]


def _attention():
    """A residual self-attention block (heads of 3 for the query and key, 2 for the value; attention dropout)."""
    inputs = nr.Input((5, 4))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, dropout=0.1, seed=1)(inputs, inputs)
    x = layers.LayerNormalization()(inputs + attended)
    x = layers.Attention(use_scale=True, score_mode="concat")([x, inputs])  # and the projection-free kind
    x = layers.GlobalAveragePooling1D()(x)
    return models.Model(inputs, layers.Dense(3, activation="softmax")(x), name="zoo_attention")


def _compressed():
    """The compression wrappers: a fake-quantized convolution (static activation ranges, moved by training), a
    binarized (BinaryConnect) Dense, a Dense pruned by a schedule and a dynamically quantized Dense."""
    return [layers.Input((6, 6, 2)),
            compression.QuantizeWrapper(layers.Conv2D(3, 3, activation="relu"), weight_bits=4, quantize_output=True,
                                        moving_ranges=True, input_range=(-3.0, 3.0), output_range=(0.0, 2.0)),
            layers.Flatten(),
            compression.BinaryWrapper(layers.Dense(6, activation="tanh"), scale="glorot_uniform"),
            compression.PruneWrapper(layers.Dense(4, activation="relu"),
                                     schedule=compression.ConstantSparsity(0.5, begin_step=0, frequency=1)),
            compression.QuantizeWrapper(layers.Dense(3), activations="dynamic"),
            layers.Activation("softmax")]


def _image_catalog():
    """Issue 21's image layers: depthwise, separable and transposed convolutions, borders, resampling, the
    activation layers and the layers that are the identity at inference (noise, dropout, penalties)."""
    return [layers.Input((8, 8, 2)),
            layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
            layers.ReLU(max_value=4.0, negative_slope=0.1),
            layers.SeparableConv2D(4, 3, activation="tanh"),
            layers.Conv2DTranspose(4, 2, strides=2),
            layers.ZeroPadding2D(1),
            layers.Cropping2D(((2, 1), (1, 2))),
            layers.UpSampling2D(2, interpolation="bilinear"),
            layers.SpatialDropout2D(0.2, seed=1), layers.GaussianNoise(0.1, seed=2),
            layers.GaussianDropout(0.1, seed=3),
            layers.AlphaDropout(0.1, seed=4), layers.ActivityRegularization(l2=1e-4),
            layers.PReLU(shared_axes=[1, 2]), layers.LeakyReLU(0.2), layers.ELU(0.5),
            layers.Conv2D(4, 3, strides=2, groups=2, data_format="channels_last"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3), layers.Softmax()]


def _sequence_catalog():
    """Causal and transposed 1-D convolutions, borders, resampling, permutation and repetition."""
    return [layers.Input((10, 3)),
            layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
            layers.Conv1DTranspose(4, 3, strides=2, padding="same"),
            layers.ZeroPadding1D((1, 2)), layers.Cropping1D(2), layers.UpSampling1D(2),
            layers.SpatialDropout1D(0.2, seed=5),
            layers.Permute((2, 1)), layers.Conv1D(3, 2, data_format="channels_first"),
            layers.GlobalMaxPooling1D(data_format="channels_first"),
            layers.RepeatVector(2), layers.Flatten(), layers.UnitNormalization(),
            layers.Dense(3, activation="softmax")]


def _volume():
    """3-D convolution and pooling."""
    return [layers.Input((4, 6, 6, 2)),
            layers.Conv3D(3, 2, padding="same", activation="relu"),
            layers.MaxPooling3D(2, padding="same"), layers.AveragePooling3D((1, 2, 2)),
            layers.GlobalMaxPooling3D(keepdims=True), layers.GlobalAveragePooling3D(),
            layers.Dense(3, activation="softmax")]


def _image_preprocessing():
    """Preprocessing and augmentation layers (the augmentations act in training only)."""
    return [layers.Input((10, 10, 3)),
            layers.Rescaling(0.5, offset=0.1), layers.Resizing(8, 8), layers.CenterCrop(6, 6),
            layers.RandomFlip(seed=1), layers.RandomRotation(0.1, seed=2), layers.RandomTranslation(0.1, 0.1, seed=3),
            layers.RandomZoom(0.1, seed=4), layers.RandomContrast(0.2, seed=5),
            layers.Flatten(), layers.Dense(3, activation="softmax")]


ZOO = {"dense": _dense, "conv2d": _conv2d, "conv1d": _conv1d, "norms": _norms, "reshape": _reshape,
       "merge": _merge, "nested": _nested, "lambda": _lambda, "recurrent": _recurrent, "text": _text,
       "attention": _attention, "compressed": _compressed, "image_catalog": _image_catalog,
       "sequence_catalog": _sequence_catalog, "volume": _volume, "image_preprocessing": _image_preprocessing}


def make(kind):
    """The zoo's model ``kind`` (not compiled)."""
    made = ZOO[kind]()
    return made if isinstance(made, models.Model) else models.Sequential(made, name=f"zoo_{kind}")


def every_layer(model):
    """The model and every layer inside it, at any depth."""
    return [model, *model._all_sublayers()]


def build(kind, optimizer="adam"):
    """A compiled model of the zoo."""
    model = make(kind)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def data(model, n=48, seed=0):
    """Inputs shaped for ``model`` and one-hot targets for 3 classes."""
    rng = np.random.default_rng(seed)
    if np.dtype(model.inputs[0].dtype).kind in "iu":  # ids, with some padding (0) at the end of each sequence
        x = rng.integers(1, 10, size=(n, *model.input_shape[1:]))
        x[:, -2:] = 0
        return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    x = rng.normal(size=(n, *model.input_shape[1:])).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


@pytest.fixture
def zoo():
    """``zoo.build(kind)``, ``zoo.make(kind)``, ``zoo.data(model)``, ``zoo.every_layer(model)`` and ``zoo.KINDS``."""

    class Zoo:
        KINDS = sorted(ZOO)

    Zoo.build, Zoo.data, Zoo.ZOO = staticmethod(build), staticmethod(data), ZOO
    Zoo.make, Zoo.every_layer = staticmethod(make), staticmethod(every_layer)
    return Zoo


def pytest_generate_tests(metafunc):
    """A test taking ``kind`` runs once per zoo model."""
    if "kind" in metafunc.fixturenames:
        metafunc.parametrize("kind", sorted(ZOO))
