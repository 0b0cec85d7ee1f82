"""The argument checks shared by callbacks, models and saving (fault probe, defects 1, 2, 3 and 5)."""

import pathlib

import numpy as np
import pytest

from neurona.callbacks import _arguments as args


def test_check_bool_takes_python_and_numpy_bools_only():
    assert args.check_bool(np.bool_(True), "f", "flag") is True and args.check_bool(False, "f", "flag") is False
    for bad in ("no", 0, 1, None, np.array([True])):
        with pytest.raises(TypeError, match=r"^f: flag must be True or False, got .* \(\w+\)$"):
            args.check_bool(bad, "f", "flag")


def test_check_path_returns_a_str_and_refuses_the_rest():
    assert args.check_path(pathlib.Path("a") / "b", "f") == str(pathlib.Path("a") / "b")
    assert args.check_path(b"a/b", "f") == "a/b" and args.check_path(np.str_("m"), "f") == "m"

    class NotAPath:
        def __fspath__(self):
            return 3

    for bad, shown in ((None, r"None \(NoneType\)"), (3.5, r"3.5 \(float\)"), (NotAPath(), r".*NotAPath.*")):
        with pytest.raises(TypeError, match=rf"^f: expected a path \(str or os.PathLike\) as where, got {shown}"):
            args.check_path(bad, "f", "where")
    for empty in ("", b""):
        with pytest.raises(ValueError, match="^f: expected a path as filepath, got the empty path"):
            args.check_path(empty, "f")


def test_check_verbose_allows_what_keras_allows():
    assert [args.check_verbose(v, "fit") for v in ("auto", 0, 1, 2, np.int64(2))] == ["auto", 0, 1, 2, 2]
    assert type(args.check_verbose(np.int64(2), "fit")) is int
    for bad in (3, True, "Auto", 1.0, None):
        with pytest.raises(ValueError, match=r"^fit: verbose must be 'auto', 0, 1 or 2, got "):
            args.check_verbose(bad, "fit")
    with pytest.raises(ValueError, match=r"^cb: verbose must be 0 or 1, got 2 \(int\)$"):
        args.check_verbose(2, "cb", args.CALLBACK_VERBOSITY)


def test_check_count_and_check_number():
    assert args.check_count(np.uint8(3), "f", "n") == 3 and args.check_count(2, "f", "n", low=1) == 2
    for bad, low in ((-1, 0), (0, 1), (True, 0), (2.0, 0), ("2", 0)):
        with pytest.raises(ValueError, match=r"^f: n must be (a non-negative integer|an integer >= 1), got "):
            args.check_count(bad, "f", "n", low=low)
    assert args.check_number(np.float32(0.5), "f", "x") == 0.5 and args.check_number(None, "f", "x", True) is None
    for bad in (None, "1", float("inf"), np.bool_(False)):
        with pytest.raises(ValueError, match=r"^f: x must be a finite number, got "):
            args.check_number(bad, "f", "x")
