"""imdb.load_data / get_word_index on a small synthetic ``aclImdb_v1.tar.gz``: the encoding, Keras's argument
semantics (checked against Keras's own load_data fed the same sequences), the pickle-free cache; never the
network."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

from neurona.datasets import cache, imdb, imdb_encoding

REVIEWS = {
    "aclImdb/train/pos/0_9.txt": "A great film. Great acting!<br /><br />I loved it.",
    "aclImdb/train/pos/1_8.txt": "Great, great story; the cast didn't disappoint.",
    "aclImdb/train/neg/0_2.txt": "The plot was dull, the film was long.",
    "aclImdb/train/neg/1_1.txt": "Dull. Dull! Dull? I didn't like the film",
    "aclImdb/train/neg/2_3.txt": "a a a long long film",
    "aclImdb/test/pos/0_10.txt": "Great film, unseenword great cast.",
    "aclImdb/test/pos/1_7.txt": "loved the story",
    "aclImdb/test/neg/0_4.txt": "The film was dull and long and dull.",
    "aclImdb/unsup/0_0.txt": "never read",
    "aclImdb/imdb.vocab": "not a review",
}


pytestmark = pytest.mark.usefixtures("no_network")  # tests/datasets/conftest.py


def write_archive(path, reviews=REVIEWS):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, text in reviews.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def archive(tmp_path, monkeypatch):
    path = tmp_path / "data" / "imdb" / imdb.ARCHIVE
    monkeypatch.setattr(imdb, "SHA256", write_archive(path))
    return path


def test_words_split_like_keras_and_ranked_by_training_frequency(archive):
    assert imdb_encoding.text_to_words("Great, GREAT!<br />didn't") == ["great", "great", "br", "didn't"]
    index = imdb.get_word_index()
    # training counts: a, dull, film, great, the 4 each (ties in alphabetical order), long 3, then 2 each ...
    assert [w for w, _ in sorted(index.items(), key=lambda item: item[1])][:6] == ["a", "dull", "film", "great",
                                                                                   "the", "long"]
    assert sorted(index.values()) == list(range(1, len(index) + 1)) and "unseenword" not in index


def test_sequences_labels_and_order(archive):
    arrays = imdb_encoding.load_encoded(str(archive), imdb.SHA256, str(archive.parent))
    train, labels = imdb_encoding.sequences(arrays, "train")
    index = imdb.get_word_index()
    # file-name order: train/neg/0_2, 1_1, 2_3, then train/pos/0_9, 1_8
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1])
    assert train[2] == [index[w] for w in "a a a long long film".split()]
    test, test_labels = imdb_encoding.sequences(arrays, "test")
    assert test[1] == [index[w] for w in "great film great cast".split()]  # the unseen word is skipped
    np.testing.assert_array_equal(test_labels, [0, 1, 1])


KERAS_ARGUMENTS = [
    {},
    dict(num_words=6, skip_top=2),
    dict(maxlen=9, seed=7),
    dict(start_char=None, oov_char=None, index_from=0, num_words=5),
    dict(start_char=None, index_from=2, skip_top=1, oov_char=0),
]


@pytest.mark.parametrize("kwargs", KERAS_ARGUMENTS)
def test_load_data_applies_the_arguments_exactly_as_keras(archive, monkeypatch, kwargs):
    keras = numpy_keras(monkeypatch)
    from keras.src.datasets import imdb as keras_imdb

    arrays = imdb_encoding.load_encoded(str(archive), imdb.SHA256, str(archive.parent))
    base = {}
    for split in ("train", "test"):
        sequences, labels = imdb_encoding.sequences(arrays, split)
        base[f"x_{split}"], base[f"y_{split}"] = imdb._object_array(sequences), labels
    monkeypatch.setattr(keras_imdb, "get_file", lambda **_: "imdb.npz")
    monkeypatch.setattr(keras_imdb.npz_utils, "load_npz", lambda path: base)
    ours, theirs = imdb.load_data(**kwargs), keras.datasets.imdb.load_data(**kwargs)
    for (x, y), (kx, ky) in zip(ours, theirs):
        assert x.dtype == object and [list(s) for s in x] == [list(s) for s in kx]
        np.testing.assert_array_equal(y, ky)


def test_the_cache_is_plain_arrays_reused_and_rebuilt_when_damaged(archive, monkeypatch):
    imdb.load_data()
    encoded = archive.parent / imdb_encoding.ENCODED
    with np.load(encoded, allow_pickle=False) as saved:  # no object arrays: readable without pickle
        assert str(saved["source_sha256"]) == imdb.SHA256 and saved["vocabulary"].dtype.kind == "U"
    build = imdb_encoding.build
    monkeypatch.setattr(imdb_encoding, "build", lambda *a: pytest.fail("rebuilt a valid cache"))
    imdb.load_data()
    monkeypatch.setattr(imdb_encoding, "build", build)
    encoded.write_bytes(b"damaged")
    imdb.load_data()  # rebuilt from the checked archive
    assert np.load(encoded, allow_pickle=False)["train_labels"].tolist() == [0, 0, 0, 1, 1]


def test_the_real_digest_rejects_an_impostor(tmp_path):
    write_archive(tmp_path / "data" / "imdb" / imdb.ARCHIVE)
    with pytest.raises(cache.ChecksumError, match=imdb.SHA256):
        imdb.load_data()


def test_bad_arguments(archive):
    with pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(maxlen=2)
    with pytest.raises(ValueError, match="num_words must be a non-negative int or None"):
        imdb.load_data(num_words=-1)
    with pytest.raises(ValueError, match="pickled object arrays"):
        imdb.load_data("imdb.npz")
    odd = archive.parent / "odd.tar.gz"
    write_archive(odd, {"aclImdb/train/pos/0_1.txt": "x"})
    with pytest.raises(ValueError, match="no aclImdb/test/pos or neg reviews"):
        imdb_encoding.read_reviews(str(odd))
