"""The IMDB reviews as word-rank sequences, built from the original text release without pickle.

Keras's ``imdb.npz`` stores its ragged sequences as NumPy object arrays, which only pickle can read;
Neurona never unpickles. It builds the same kind of data from the reviews themselves, the Large Movie
Review Dataset ``aclImdb_v1.tar.gz`` (A. L. Maas et al., "Learning word vectors for sentiment analysis",
ACL 2011): 25,000 training and 25,000 test reviews in ``aclImdb/{train,test}/{pos,neg}/<id>_<stars>.txt``.

Encoding, as Keras's data was made:

- each review is split into words the way Keras's ``text_to_word_sequence`` does: lower-cased, the
  characters of :data:`FILTERS` replaced by spaces (apostrophes are kept, ``<br />`` gives ``br``), split
  on spaces;
- words are ranked by how often they occur in the training reviews (1 = the most frequent; ties in
  alphabetical order): that rank is the word's index (:func:`get_word_index`);
- a review is the sequence of its words' ranks; test words never seen in training are skipped.

The reviews are in the order of their file names (negative before positive, then by name); labels are
1 for positive and 0 for negative. The indices follow the same rule as Keras's, but are computed here, so
they are not guaranteed to equal those of Keras's ``imdb_word_index.json`` word for word.

The encoded arrays are cached beside the archive as ``imdb-encoded-v1.npz`` (plain integer and string
arrays, read with ``allow_pickle=False``), which records the archive digest it was built from.
"""

import collections
import os
import re
import tarfile

import numpy as np

from ..files import atomic_output

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
ENCODED = "imdb-encoded-v1.npz"
SPLITS = ("train", "test")
_TRANSLATION = str.maketrans({c: " " for c in FILTERS})
_REVIEW = re.compile(r"^aclImdb/(train|test)/(pos|neg)/[^/]+\.txt$")


def text_to_words(text):
    """Keras's ``text_to_word_sequence(text)``: lower-case, :data:`FILTERS` to spaces, split on spaces."""
    return [word for word in text.lower().translate(_TRANSLATION).split(" ") if word]


def read_reviews(archive):
    """``{split: (texts, labels)}`` from ``aclImdb_v1.tar.gz``, each split in file-name order."""
    found = {split: [] for split in SPLITS}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            match = _REVIEW.match(member.name)
            if match and member.isfile():
                text = tar.extractfile(member).read().decode("utf-8")
                found[match.group(1)].append((member.name, text, int(match.group(2) == "pos")))
    for split, reviews in found.items():
        if not reviews:
            raise ValueError(f"{archive}: no aclImdb/{split}/pos or neg reviews in the archive "
                             "(is it aclImdb_v1.tar.gz?)")
    return {split: ([text for _, text, _ in sorted(reviews)], np.array([label for *_, label in sorted(reviews)],
                                                                      dtype=np.uint8))
            for split, reviews in found.items()}


def encode(reviews):
    """The vocabulary (most frequent training word first) and, per split, the flat ranks, offsets and labels."""
    words = {split: [text_to_words(text) for text in texts] for split, (texts, _) in reviews.items()}
    counts = collections.Counter(word for review in words["train"] for word in review)
    vocabulary = sorted(counts, key=lambda word: (-counts[word], word))
    rank = {word: i + 1 for i, word in enumerate(vocabulary)}
    arrays = {"vocabulary": np.array(vocabulary, dtype=str)}
    for split, reviews_words in words.items():
        sequences = [[rank[w] for w in review if w in rank] for review in reviews_words]
        arrays[f"{split}_ranks"] = np.array([r for seq in sequences for r in seq], dtype=np.int32)
        arrays[f"{split}_offsets"] = np.cumsum([0] + [len(seq) for seq in sequences], dtype=np.int64)
        arrays[f"{split}_labels"] = reviews[split][1]
    return arrays


def build(archive, archive_sha256, directory):
    """Encode the archive's reviews and cache them as ``directory/imdb-encoded-v1.npz`` (atomically)."""
    arrays = encode(read_reviews(archive))
    arrays["source_sha256"] = np.array(archive_sha256)
    with atomic_output(os.path.join(directory, ENCODED)) as out:
        np.savez(out, **arrays)
    return arrays


def load_encoded(archive, archive_sha256, directory):
    """The encoded arrays: from the cache when it was built from this archive, else built now."""
    path = os.path.join(directory, ENCODED)
    if os.path.isfile(path):
        try:
            with np.load(path, allow_pickle=False) as saved:
                arrays = {key: saved[key] for key in saved.files}
            if str(arrays.get("source_sha256")) == archive_sha256:
                return arrays
        except (OSError, ValueError, EOFError):  # a damaged cache is rebuilt from the checked archive
            pass
    return build(archive, archive_sha256, directory)


def sequences(arrays, split):
    """The reviews of ``split`` as a list of lists of word ranks, and their labels."""
    ranks, offsets = arrays[f"{split}_ranks"].tolist(), arrays[f"{split}_offsets"].tolist()
    return [ranks[a:b] for a, b in zip(offsets[:-1], offsets[1:])], arrays[f"{split}_labels"]
