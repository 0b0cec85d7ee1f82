"""The subset builder: apportionment, seeded stratified draws, byte-identical rebuilds (synthetic sources only)."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.datasets import cache, make_subset, mnist
from neurona.datasets.idx import read_idx, write_idx


def test_apportion_hand_computed():
    # quotas 2.5, 1.5, 1.0: floors 2, 1, 1 and the one left over goes to the tie's smaller class
    np.testing.assert_array_equal(make_subset.apportion([5, 3, 2], 5), [3, 1, 1])
    np.testing.assert_array_equal(make_subset.apportion([1, 1, 8], 5), [1, 0, 4])  # 0.5, 0.5, 4.0
    with pytest.raises(ValueError, match="cannot draw 11 items without replacement from 10"):
        make_subset.apportion([5, 5], 11)


@settings(derandomize=True)
@given(st.lists(st.integers(0, 500), min_size=1, max_size=12), st.floats(0, 1))
def test_apportion_properties(counts, fraction):
    total = sum(counts)
    k = int(fraction * total)
    quotas = make_subset.apportion(counts, k)
    assert quotas.sum() == k
    assert np.all(quotas <= np.asarray(counts))
    if total:
        assert np.all(np.abs(quotas - k * np.asarray(counts) / total) < 1)


def test_stratified_indices_are_a_seeded_stratified_sample():
    labels = np.repeat(np.arange(4), [40, 30, 20, 10])[np.random.default_rng(3).permutation(100)]
    keep = make_subset.stratified_indices(labels, 20, seed=7, split="train")
    assert np.all(np.diff(keep) > 0) and keep.min() >= 0 and keep.max() < 100
    np.testing.assert_array_equal(np.bincount(labels[keep]), [8, 6, 4, 2])
    np.testing.assert_array_equal(keep, make_subset.stratified_indices(labels, 20, seed=7, split="train"))
    assert not np.array_equal(keep, make_subset.stratified_indices(labels, 20, seed=8, split="train"))
    assert not np.array_equal(keep, make_subset.stratified_indices(labels, 20, seed=7, split="test"))


def test_selection_within_a_class_is_uniform():
    # 500 of 1000 from one class: the count from the first half is hypergeometric, mean 250, sd about 7.9.
    keep = make_subset.stratified_indices(np.zeros(1000, dtype=np.uint8), 500)
    assert abs(np.sum(keep < 500) - 250) < 5 * 7.91
    assert abs(np.sum(keep % 2 == 0) - 250) < 5 * 7.91


def _synthetic_source(directory, rng):
    directory.mkdir()
    arrays = [rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60).astype(np.uint8),
              rng.integers(0, 256, size=(25, 28, 28), dtype=np.uint8), rng.integers(0, 10, 25).astype(np.uint8)]
    for name, array in zip(mnist.FULL_FILES, arrays):
        write_idx(directory / name, array)
    return arrays


def test_build_is_byte_identical_and_draws_rows_of_the_source(tmp_path, rng):
    source = _synthetic_source(tmp_path / "src", rng)
    sizes = {"train": 15, "test": 5}
    first = make_subset.build_subset(tmp_path / "src", tmp_path / "a", sizes=sizes, verify=False)
    second = make_subset.build_subset(tmp_path / "src", tmp_path / "b", sizes=sizes, verify=False)
    assert first == second and list(first) == list(mnist.EMBEDDED_FILES)
    for name, digest in first.items():
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert hashlib.sha256((tmp_path / "a" / name).read_bytes()).hexdigest() == digest
    for split, (images, labels) in (("train", source[:2]), ("test", source[2:])):
        keep = make_subset.stratified_indices(labels, sizes[split], make_subset.SEED, split)
        i = 0 if split == "train" else 2
        np.testing.assert_array_equal(read_idx(tmp_path / "a" / mnist.EMBEDDED_FILES[i]), images[keep])
        np.testing.assert_array_equal(read_idx(tmp_path / "a" / mnist.EMBEDDED_FILES[i + 1]), labels[keep])


def test_build_checks_source_checksums(tmp_path, rng):
    _synthetic_source(tmp_path / "src", rng)
    with pytest.raises(cache.ChecksumError, match="train-images-idx3-ubyte.gz"):
        make_subset.build_subset(tmp_path / "src", tmp_path / "out")


def test_check_mode_detects_a_changed_file(tmp_path, rng, monkeypatch, capsys):
    _synthetic_source(tmp_path / "src", rng)
    digests = {name: cache.sha256_file(tmp_path / "src" / name) for name in mnist.FULL_FILES}
    monkeypatch.setattr(mnist, "FULL_SHA256", digests)
    monkeypatch.setattr(make_subset, "SUBSET_SIZES", {"train": 12, "test": 6})
    argv = ["--source", str(tmp_path / "src"), "--out", str(tmp_path / "pkg")]
    assert make_subset.main(argv) == 0
    assert "EMBEDDED_SHA256 = {" in capsys.readouterr().out
    assert make_subset.main(argv + ["--check"]) == 0
    assert capsys.readouterr().out.strip() == "byte-identical"
    write_idx(tmp_path / "pkg" / mnist.EMBEDDED_FILES[3], np.zeros(6, dtype=np.uint8))
    assert make_subset.main(argv + ["--check"]) == 1
    assert capsys.readouterr().out.strip() == f"differ: {mnist.EMBEDDED_FILES[3]}"
