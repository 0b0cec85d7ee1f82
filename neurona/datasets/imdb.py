"""IMDB movie-review sentiment, loaded like ``keras.datasets.imdb.load_data`` (without pickle).

50,000 reviews labelled positive (1) or negative (0), half for training, each a list of word indices
where index ``i`` is the ``i``-th most frequent word. ``load_data`` takes Keras's arguments and applies
them exactly as Keras does (shuffling with ``numpy.random.RandomState(seed)``, ``start_char``,
``index_from``, ``maxlen``, ``num_words``, ``skip_top``, ``oov_char``); the encoded reviews come from
the original text release instead of Keras's pickled ``imdb.npz`` (see :mod:`.imdb_encoding` for how,
and how its word indices relate to Keras's). The archive ``aclImdb_v1.tar.gz`` is read from
``$NEURONA_DATA_DIR/imdb/`` (``~/.cache/neurona/imdb/``) or downloaded there, checked against its
SHA-256 digest (see :mod:`neurona.datasets.remote`).
"""

import os

import numpy as np

from ..arguments import is_int
from . import imdb_encoding, remote

DATASET = "imdb"
ARCHIVE = "aclImdb_v1.tar.gz"
# The digest tensorflow_datasets checks the archive against (84,125,825 bytes).
SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
MIRRORS = ("https://ai.stanford.edu/~amaas/data/sentiment/",)


def _encoded(path, download):
    if path is not None and os.fspath(path).endswith((".npz", ".json")):
        raise ValueError(f"imdb: path is the folder holding {ARCHIVE}, got {os.fspath(path)!r}; Keras's imdb.npz "
                         "stores pickled object arrays, which Neurona does not read")
    directory = remote.dataset_dir(DATASET, path)
    archive = remote.fetch(DATASET, ARCHIVE, SHA256, MIRRORS, directory, download)
    return imdb_encoding.load_encoded(archive, SHA256, directory)


def _check_arguments(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    for name, value, optional in (("num_words", num_words, True), ("skip_top", skip_top, False),
                                  ("maxlen", maxlen, True), ("seed", seed, False), ("start_char", start_char, True),
                                  ("oov_char", oov_char, True), ("index_from", index_from, False)):
        if not ((optional and value is None) or (is_int(value) and value >= 0)):
            raise ValueError(f"imdb.load_data: {name} must be a non-negative int{' or None' if optional else ''}, "
                             f"got {value!r}")


def _object_array(sequences):
    out = np.empty(len(sequences), dtype=object)
    out[:] = [list(s) for s in sequences]
    return out


def load_data(path=None, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, download=True):
    """Load IMDB as ``(x_train, y_train), (x_test, y_test)`` with Keras's arguments and semantics.

    Args:
        path: folder holding ``aclImdb_v1.tar.gz`` (default ``$NEURONA_DATA_DIR/imdb``). (Keras's ``path``
            names its pickled ``imdb.npz``, which Neurona does not read.)
        num_words: keep only the ``num_words`` most frequent words; rarer ones become ``oov_char``
            (None: keep all).
        skip_top: the most frequent words to replace by ``oov_char`` too.
        maxlen: drop the reviews whose sequence (with its start mark) has ``maxlen`` or more entries.
        seed: seed of the shuffle of each split.
        start_char: index marking the start of every review (None: no mark).
        oov_char: index of the words cut by ``num_words`` or ``skip_top`` (None: drop them).
        index_from: offset added to every word index (0, 1 and 2 stay free for padding, start and OOV).
        download: whether a missing archive may be downloaded (never while ``NEURONA_OFFLINE`` is set).

    Returns:
        ``x_train``, ``x_test``: object arrays of lists of ints; ``y_train``, ``y_test``: labels, 1 positive.

    Raises:
        ValueError: an argument is out of range, or ``maxlen`` leaves no review in a split.
        ChecksumError, FileNotFoundError: as for the other datasets (see :mod:`neurona.datasets.remote`).
    """
    _check_arguments(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    arrays = _encoded(path, download)
    rng = np.random.RandomState(seed)
    splits = []
    for split in imdb_encoding.SPLITS:
        sequences, labels = imdb_encoding.sequences(arrays, split)
        indices = np.arange(len(sequences))
        rng.shuffle(indices)
        start = [] if start_char is None else [start_char]
        splits.append(([start + [w + index_from for w in sequences[i]] for i in indices], labels[indices]))
    if maxlen:
        splits = [tuple(map(list, zip(*[(x, y) for x, y in zip(xs, ys) if len(x) < maxlen]))) or ([], [])
                  for xs, ys in splits]
        if not splits[0][0] or not splits[1][0]:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                             "Increase maxlen.")
    (x_train, labels_train), (x_test, labels_test) = splits
    xs, labels = x_train + x_test, np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = len(x_train)
    return (_object_array(xs[:n]), labels[:n]), (_object_array(xs[n:]), labels[n:])


def get_word_index(path=None, download=True):
    """The dict mapping each word to its index (1 = the most frequent training word), as Keras's.

    Add ``index_from`` (3 by default) to an index to find it in ``load_data``'s sequences.

    Args:
        path, download: as for :func:`load_data`.
    """
    vocabulary = _encoded(path, download)["vocabulary"].tolist()
    return {word: i + 1 for i, word in enumerate(vocabulary)}
