"""``pad_sequences``: a list of variable-length sequences as one rectangular NumPy array (``keras.utils``'s)."""

import numpy as np

from ..arguments import is_int, shown

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or cut) every sequence to the same length ``T`` and stack them.

    ``out[i]`` holds sequence ``i``: a sequence longer than ``T`` loses its first
    (``truncating="pre"``) or last (``"post"``) entries; a shorter one is filled with
    ``value`` before (``padding="pre"``) or after (``"post"``) its entries. Entries may
    be arrays themselves (every one of the same shape ``S``, taken from the first
    non-empty sequence)::

        pad_sequences([[1], [2, 3], [4, 5, 6]])            # [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
        pad_sequences([[1], [2, 3]], padding="post")       # [[1, 0], [2, 3]]
        pad_sequences([[4, 5, 6]], maxlen=2)               # [[5, 6]]

    Args:
        sequences: a list (or anything with a length) of N sequences, each a list or array.
        maxlen: ``T``, a non-negative int; default the length of the longest sequence.
        dtype: dtype of the result; ``object`` (or a string dtype) for text entries.
        padding: ``"pre"`` or ``"post"``, where the fill goes.
        truncating: ``"pre"`` or ``"post"``, which end of a long sequence is cut.
        value: the fill value (a string only with ``dtype=object`` or a string dtype).
            Entries are converted to ``dtype`` as NumPy converts them (floats to
            ``int32`` truncate toward zero, as in Keras).

    Returns:
        A NumPy array of shape ``(N, T) + S``.

    Raises:
        ValueError: ``sequences`` or one of its items has no length; ``maxlen``,
            ``padding`` or ``truncating`` is not one of the values above; a string
            ``value`` with a numeric ``dtype``; an item whose entries have another
            shape than ``S`` or cannot be converted to ``dtype``.
        TypeError: ``dtype`` names no dtype.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got {shown(sequences)}")
    for arg, name in ((padding, "padding"), (truncating, "truncating")):
        if not (isinstance(arg, str) and arg in _SIDES):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {shown(arg)}")
    if maxlen is not None and not (is_int(maxlen) and maxlen >= 0):
        raise ValueError(f"pad_sequences: maxlen must be None or a non-negative integer, got {shown(maxlen)}")
    lengths, sample_shape = _lengths_and_sample_shape(sequences)
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    try:
        text_dtype = np.dtype(dtype).kind in "USTO"
    except TypeError:
        raise TypeError(f"pad_sequences: dtype {dtype!r} is not a dtype (expected e.g. 'int32', 'float32' or "
                        "object)") from None
    if isinstance(value, str) and not text_dtype:
        raise ValueError(f"pad_sequences: the string value {value!r} does not fit dtype {dtype!r}; "
                         "pass dtype=object (or a string dtype) to pad text")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        try:
            kept = np.asarray(kept, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(f"pad_sequences: the entries of sequence {i} cannot be converted to dtype "
                             f"{dtype!r}: {error}") from None
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: the entries of sequence {i} have shape {kept.shape[1:]}, expected "
                             f"{sample_shape} (the shape of the first non-empty sequence's entries)")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


def _lengths_and_sample_shape(sequences):
    lengths, sample_shape = [], None
    for i, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError:
            raise ValueError(f"pad_sequences: sequences must be a list of sequences; item {i} is "
                             f"{shown(seq)}, which has no length") from None
        if sample_shape is None and len(seq):
            try:
                sample_shape = np.asarray(seq).shape[1:]
            except ValueError:
                raise ValueError(f"pad_sequences: the entries of sequence {i} have different shapes; expected "
                                 "entries of one shape") from None
    return lengths, () if sample_shape is None else sample_shape
