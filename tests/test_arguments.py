"""The shared argument checks of ``neurona/arguments.py``: what passes, what is refused, and the words used."""

import ast
import math
import pathlib

import numpy as np
import pytest

from neurona import arguments as args


def test_the_module_imports_nothing_from_neurona():
    tree = ast.parse(pathlib.Path(args.__file__).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [("." * n.level) + (n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.startswith(".") or m.split(".")[0] == "neurona"], imported


def test_integers_and_reals_are_python_or_numpy_numbers_never_bools():
    for value in (3, -2, np.int8(1), np.uint64(7)):
        assert args.is_int(value) and args.is_real(value)
    for value in (2.5, np.float32(0.5), float("nan")):
        assert args.is_real(value) and not args.is_int(value)
    for value in (True, np.bool_(False), "3", None, 1j, np.array(3), [1]):
        assert not args.is_int(value) and not args.is_real(value)


def test_check_bool_returns_a_python_bool_and_names_owner_and_argument():
    assert args.check_bool(np.bool_(True), "f", "flag") is True and args.check_bool(False, "f", "flag") is False
    for bad in ("no", 0, None, np.array([True])):
        with pytest.raises(TypeError, match=r"^f: flag must be True or False, got .* \(\w+\)$"):
            args.check_bool(bad, "f", "flag")
    with pytest.raises(TypeError, match=r"^Dense use_bias must be True or False, got 'no' \(str\)$"):
        args.check_bool("no", None, "Dense use_bias")  # owner None: the name already says whose


def test_check_int_and_check_real_return_plain_python_numbers():
    assert args.check_int(np.int64(4), "f", "n", low=1, high=4) == 4
    assert type(args.check_int(np.uint8(3), "f", "n")) is int
    value = args.check_real(np.float32(0.5), "f", "x", low=0, high=1)
    assert value == 0.5 and type(value) is float
    assert args.check_real(None, "f", "x", optional=True) is None and args.check_real(0, "f", "x", low=0) == 0.0


@pytest.mark.parametrize("value, bounds, expected", [
    (2.0, {}, r"an integer, got 2\.0 \(float\)"), (True, {}, r"an integer, got True \(bool\)"),
    ("3", {"low": 0}, r"an integer >= 0, got '3' \(str\)"), (0, {"low": 1}, r"an integer >= 1, got 0 \(int\)"),
    (5, {"high": 4}, "an integer <= 4, got 5"), (0, {"low": 1, "high": 4}, r"an integer in \[1, 4\], got 0"),
])
def test_check_int_refuses_non_integers_and_says_the_range(value, bounds, expected):
    with pytest.raises(ValueError, match=rf"^f: n must be {expected}"):  # a ValueError even for a wrong type
        args.check_int(value, "f", "n", **bounds)


@pytest.mark.parametrize("value, kwargs, error, expected", [
    ("1", {}, TypeError, r"a real number, got '1' \(str\)"), (None, {}, TypeError, "a real number, got None"),
    (True, {}, TypeError, "a real number, got True"), (np.array([1.0]), {}, TypeError, "a real number, got array"),
    (1j, {}, TypeError, "a real number, got 1j"),
    ("1", {"optional": True}, TypeError, r"a real number or None, got '1' \(str\)"),
    (math.inf, {}, ValueError, "finite, got inf$"),
    (0.0, {"low": 0, "low_open": True}, ValueError, "a finite number > 0, got 0.0"),
    (-1, {"low": 0.0}, ValueError, "a finite number >= 0.0, got -1.0"),
    (1.0, {"low": 0, "high": 1, "high_open": True}, ValueError, r"a finite number in \[0, 1\), got 1.0"),
    (math.nan, {"high": 1}, ValueError, "a finite number <= 1, got nan"),
    (math.inf, {"low": 0}, ValueError, "a finite number >= 0, got inf"),
])
def test_check_real_needs_a_finite_real_in_range(value, kwargs, error, expected):
    with pytest.raises(error, match=rf"^f: x must be {expected}"):
        args.check_real(value, "f", "x", **kwargs)


def test_describe_range_writes_bounds_as_asked():
    assert args.describe_range() == "" and args.describe_range(0, 1, low_open=True) == "in (0, 1]"
    assert args.describe_range(0.0, high_open=True) == ">= 0.0" and args.describe_range(high=1, high_open=True) == "< 1"
    assert args.describe_range(0.0, 1.0, fmt="{:g}".format) == "in [0, 1]"


def test_check_path_returns_a_str():
    assert args.check_path(pathlib.Path("a") / "b", "f") == str(pathlib.Path("a") / "b")
    assert args.check_path(b"a", None, "where") == "a"
    with pytest.raises(TypeError, match=r"^expected a path \(str or os.PathLike\) as where, got None \(NoneType\)$"):
        args.check_path(None, None, "where")
    with pytest.raises(ValueError, match="^f: expected a path as filepath, got the empty path ''$"):
        args.check_path("", "f")


@pytest.mark.parametrize("dtype, words", [
    ("U3", "text strings"), ("S3", "bytes"), (object, "Python objects"), ("complex64", "complex numbers"),
    ("datetime64[s]", "datetimes"), ("timedelta64[s]", "time deltas"), ("V4", "raw or structured records"),
    (np.dtypes.StringDType(), "text strings"),
])
def test_every_non_numeric_dtype_kind_is_described(dtype, words):
    kind = np.dtype(dtype).kind
    assert kind not in args.NUMERIC_KINDS and args.describe_kind(kind) == words
    assert {np.dtype(t).kind for t in ("bool", "int8", "uint8", "float16")} == set(args.NUMERIC_KINDS)
