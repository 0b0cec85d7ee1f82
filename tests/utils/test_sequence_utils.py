"""pad_sequences against outputs of keras.utils.pad_sequences, and its errors.

The expected arrays below were computed with Keras 3.15.1 (``keras.utils.pad_sequences``,
KERAS_BACKEND=jax) in a scratch script and pasted here.
"""

import numpy as np
import pytest

from neurona.utils import pad_sequences

SEQ = [[1], [2, 3], [4, 5, 6]]

# (kwargs, sequences, expected values, expected dtype), each computed with real Keras
KERAS_CASES = [
    ({}, SEQ, [[0, 0, 1], [0, 2, 3], [4, 5, 6]], "int32"),
    ({"value": -1}, SEQ, [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]], "int32"),
    ({"padding": "post"}, SEQ, [[1, 0, 0], [2, 3, 0], [4, 5, 6]], "int32"),
    ({"maxlen": 2}, SEQ, [[0, 1], [2, 3], [5, 6]], "int32"),
    ({"maxlen": 2, "truncating": "post"}, SEQ, [[0, 1], [2, 3], [4, 5]], "int32"),
    ({"maxlen": 3, "padding": "post", "truncating": "post"}, [[1, 2, 3, 4], [5]], [[1, 2, 3], [5, 0, 0]], "int32"),
    ({"maxlen": 5, "padding": "post", "value": 9}, SEQ,
     [[1, 9, 9, 9, 9], [2, 3, 9, 9, 9], [4, 5, 6, 9, 9]], "int32"),
    ({"dtype": "float32", "value": 0.5}, [[1.5, 2.5], [3.25]], [[1.5, 2.5], [0.5, 3.25]], "float32"),
    ({"maxlen": 3}, [[1.7, -2.7]], [[0, 1, -2]], "int32"),
    ({}, [[], [1, 2]], [[0, 0], [1, 2]], "int32"),
    ({"padding": "post"}, [[[1, 2], [3, 4]], [[5, 6]]], [[[1, 2], [3, 4]], [[5, 6], [0, 0]]], "int32"),
    ({"dtype": object, "value": "<pad>"}, [["a", "b"], ["c"]], [["a", "b"], ["<pad>", "c"]], "object"),
]


@pytest.mark.parametrize("kwargs, sequences, expected, dtype", KERAS_CASES)
def test_matches_keras(kwargs, sequences, expected, dtype):
    out = pad_sequences(sequences, **kwargs)
    assert isinstance(out, np.ndarray) and out.dtype == np.dtype(dtype)
    assert out.tolist() == expected


def test_edge_cases_keras_fails_on():
    # Keras raises a broadcasting error for maxlen=0 and np.max([]) for no sequences; both have a natural answer
    assert pad_sequences(SEQ, maxlen=0).shape == (3, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([], maxlen=4).shape == (0, 4)
    np.testing.assert_array_equal(pad_sequences([np.array([1, 2]), (3,)], maxlen=np.int64(3)), [[0, 1, 2], [0, 0, 3]])


@pytest.mark.parametrize("call, error, match", [
    (lambda: pad_sequences(5), ValueError, r"sequences must be a list of sequences, got 5 \(int\)"),
    (lambda: pad_sequences([[1], 2]), ValueError, r"item 1 is 2 \(int\), which has no length"),
    (lambda: pad_sequences(SEQ, padding="middle"), ValueError, "padding must be 'pre' or 'post', got 'middle'"),
    (lambda: pad_sequences(SEQ, truncating=None), ValueError, "truncating must be 'pre' or 'post', got None"),
    (lambda: pad_sequences(SEQ, maxlen=-1), ValueError, "maxlen must be None or a non-negative integer, got -1"),
    (lambda: pad_sequences(SEQ, maxlen=2.0), ValueError, r"maxlen .* got 2.0 \(float\)"),
    (lambda: pad_sequences([["a"]], value="x"), ValueError, "the string value 'x' does not fit dtype 'int32'"),
    (lambda: pad_sequences(SEQ, dtype="nonsense"), TypeError, "dtype 'nonsense' is not a dtype"),
    (lambda: pad_sequences([[[1, 2]], [[1, 2, 3]]]), ValueError, r"sequence 1 have shape \(3,\), expected \(2,\)"),
    (lambda: pad_sequences([[1], ["a"]]), ValueError, "entries of sequence 1 cannot be converted to dtype 'int32'"),
    (lambda: pad_sequences([[[1], [2, 3]]]), ValueError, "entries of sequence 0 have different shapes"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
