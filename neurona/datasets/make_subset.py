"""Build the MNIST subset embedded in ``neurona/datasets/data/`` from the original files.

Usage::

    python -m neurona.datasets.make_subset --source /path/to/mnist            # (re)write the package files
    python -m neurona.datasets.make_subset --source /path/to/mnist --check    # rebuild elsewhere, compare bytes

How the subset is drawn: **class-stratified random sampling without replacement**,
done separately for the training split (10,000 of 60,000 images) and the test split
(2,000 of 10,000):

* Allocation. With N images, n_c of class c and a subset of size k, class c gets
  floor(k n_c / N) images, and the k - sum_c floor(k n_c / N) left over go one each to
  the classes with the largest remainders k n_c mod N (ties to the smaller digit).
  This is largest-remainder (Hamilton) apportionment: every class share is within one
  image of its share in the original split.
* Selection. Image i gets the key SHA-256("{seed}:{split}:{i}"); within each class the
  k_c images with the smallest keys are kept. Hashing gives a seeded uniformly random
  permutation that is the same on every platform and NumPy version (NumPy promises no
  stream compatibility for ``Generator`` methods across releases).
* Order. Kept images stay in their original file order, labels alongside.

The outputs are IDX files written by :func:`neurona.datasets.idx.write_idx` (gzip level 9
with a fixed header), so a rerun gives byte-identical files with the same zlib build.
The source files are checked against the published SHA-256 digests first. The script
prints the digests of what it wrote, to paste into ``mnist.EMBEDDED_SHA256``.
"""

import argparse
import filecmp
import hashlib
import os
import sys
import tempfile

import numpy as np

from . import cache, mnist
from .idx import read_idx, write_idx

SEED = 1998
SUBSET_SIZES = {"train": 10_000, "test": 2_000}
_SPLIT_FILES = {  # split -> ((source images, source labels), (embedded images, embedded labels))
    "train": (mnist.FULL_FILES[0:2], mnist.EMBEDDED_FILES[0:2]),
    "test": (mnist.FULL_FILES[2:4], mnist.EMBEDDED_FILES[2:4]),
}


def apportion(counts, k):
    """Largest-remainder allocation of ``k`` draws over classes of sizes ``counts``.

    Args:
        counts: 1-D sequence of non-negative class sizes n_c, with sum N >= k.
        k: total number of draws.

    Returns:
        int64 array k_c with sum k and |k_c - k n_c / N| < 1 for every class.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if not 0 <= k <= total:
        raise ValueError(f"cannot draw {k} items without replacement from {total}")
    if total == 0:
        return np.zeros_like(counts)
    base, remainder = np.divmod(k * counts, total)
    order = sorted(range(len(counts)), key=lambda c: (-int(remainder[c]), c))
    base[order[: k - int(base.sum())]] += 1
    return base


def sort_keys(n, seed, split):
    """The seeded random key of each index 0..n-1: the first 8 bytes of SHA-256("{seed}:{split}:{i}")."""
    return [int.from_bytes(hashlib.sha256(f"{seed}:{split}:{i}".encode()).digest()[:8], "big") for i in range(n)]


def stratified_indices(labels, k, seed=SEED, split="train"):
    """Indices (ascending) of a class-stratified random subset of size ``k`` of ``labels``."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = apportion(counts, k)
    keys = sort_keys(len(labels), seed, split)
    chosen = []
    for cls, quota in zip(classes, quotas):
        members = np.flatnonzero(labels == cls)
        chosen.extend(sorted(members.tolist(), key=lambda i: (keys[i], i))[:quota])
    return np.sort(np.asarray(chosen, dtype=np.int64))


def build_subset(source_dir, out_dir, seed=SEED, sizes=None, verify=True):
    """Draw the subsets from the files in ``source_dir`` and write them to ``out_dir``.

    Args:
        source_dir: directory with the four original MNIST files.
        out_dir: destination directory (created if missing).
        seed: sampling seed.
        sizes: ``{"train": k_train, "test": k_test}``; default :data:`SUBSET_SIZES`.
        verify: check the source files against ``mnist.FULL_SHA256`` first (False
            only for tests that build from synthetic files).

    Returns:
        dict: written file name -> SHA-256 digest.
    """
    sizes = SUBSET_SIZES if sizes is None else sizes
    os.makedirs(out_dir, exist_ok=True)
    digests = {}
    for split, (sources, targets) in _SPLIT_FILES.items():
        paths = [os.path.join(source_dir, name) for name in sources]
        if verify:
            for path, name in zip(paths, sources):
                cache.verify_file(path, mnist.FULL_SHA256[name])
        images = read_idx(paths[0], expected_ndim=3, expected_dtype="uint8")
        labels = read_idx(paths[1], expected_ndim=1, expected_dtype="uint8")
        keep = stratified_indices(labels, sizes[split], seed, split)
        for name, array in zip(targets, (images[keep], labels[keep])):
            target = os.path.join(out_dir, name)
            write_idx(target, array, compresslevel=9)
            digests[name] = cache.sha256_file(target)
    return digests


def check_reproducible(source_dir, package_dir, seed=SEED):
    """Rebuild into a temporary directory; the names of files that differ from ``package_dir`` (empty if none)."""
    with tempfile.TemporaryDirectory() as tmp:
        build_subset(source_dir, tmp, seed)
        return [name for name in mnist.EMBEDDED_FILES
                if not os.path.isfile(os.path.join(package_dir, name))
                or not filecmp.cmp(os.path.join(tmp, name), os.path.join(package_dir, name), shallow=False)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m neurona.datasets.make_subset", description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=os.path.join(cache.get_data_dir(), "mnist"),
                        help="directory with the four original MNIST .gz files (default: %(default)s)")
    parser.add_argument("--out", default=mnist.EMBEDDED_DIR, help="output directory (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="sampling seed (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary directory and compare bytes")
    args = parser.parse_args(argv)
    if args.check:
        differing = check_reproducible(args.source, args.out, args.seed)
        print("byte-identical" if not differing else f"differ: {', '.join(differing)}")
        return 1 if differing else 0
    digests = build_subset(args.source, args.out, args.seed)
    print("EMBEDDED_SHA256 = {")
    for name, digest in digests.items():
        print(f'    "{name}": "{digest}",')
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
