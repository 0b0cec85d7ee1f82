"""set_random_seed seeds Neurona's, Python's and NumPy's legacy generators at once."""

import random

import numpy as np
import pytest

import neurona as nr
from neurona import initializers, layers
from neurona.utils import set_random_seed


def _draws():
    return (nr.random.normal((3,)).numpy().tolist(), random.random(), np.random.rand(),
            initializers.get("glorot_uniform")((2, 2), "float32").tolist(),
            nr.backend.asnumpy(layers.Dropout(0.5)(nr.Tensor(np.ones(6)), training=True).data).tolist())


def test_every_generator_repeats():
    state = random.getstate(), np.random.get_state()
    try:
        set_random_seed(123)
        first = _draws()
        set_random_seed(123)
        assert _draws() == first
        set_random_seed(124)
        second = _draws()
        assert all(a != b for a, b in zip(first, second))
        set_random_seed(np.int64(123))
        assert _draws() == first
        set_random_seed(2**32 - 1)
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])


@pytest.mark.parametrize("seed", [-1, 2**32, 1.0, "1", None, True])
def test_errors(seed):
    before = np.random.get_state()[1].copy()
    with pytest.raises(ValueError, match=r"set_random_seed: seed must be an integer in \[0, 2\*\*32\), got"):
        set_random_seed(seed)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # nothing was seeded
