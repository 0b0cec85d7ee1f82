"""backend.clear_session: default names start over, pooled memory is dropped, settings stay."""

import numpy as np
import pytest

import neurona as nr
from neurona import backend, layers, models, utils
from neurona.backend import workspace

F32 = np.dtype("float32")  # the pool keys buffers by the dtype's name, as arrays report it


def test_clear_session_resets_layer_and_model_names():
    backend.clear_session()
    first = [layers.Dense(2).name, layers.Dense(2).name, layers.Dropout(0.1).name]
    assert first == ["dense", "dense_1", "dropout"]
    model = models.Sequential([layers.Dense(1)])
    kept = model.name
    backend.clear_session()
    assert layers.Dense(2).name == "dense" and layers.Dropout(0.1).name == "dropout"
    assert models.Sequential([layers.Dense(1)]).name == "sequential"
    assert model.name == kept  # what exists keeps its name


def test_free_memory_false_still_resets_names_and_keeps_the_pool():
    buffer = workspace.take((8, 8), F32, np)
    workspace.give(buffer)
    layers.Dense(1)
    backend.clear_session(free_memory=False)
    assert layers.Dense(1).name == "dense"
    assert workspace.take((8, 8), F32, np) is buffer  # the pooled buffer was not dropped
    workspace.give(buffer)
    backend.clear_session()
    assert workspace.take((8, 8), F32, np) is not buffer


def test_settings_survive_clear_session():
    nr.config.set_epsilon(1e-4)
    try:
        backend.clear_session()
        assert nr.config.epsilon() == 1e-4
    finally:
        nr.config.set_epsilon(1e-7)


def test_exports_and_errors():
    assert utils.clear_session is backend.clear_session
    assert backend.backend() == "neurona" and backend.epsilon() == nr.config.epsilon()
    with pytest.raises(TypeError, match="clear_session: free_memory must be True or False, got 'yes'"):
        backend.clear_session(free_memory="yes")
