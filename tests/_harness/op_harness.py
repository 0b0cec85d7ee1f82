"""One op test harness in the spirit of Chainer's ``FunctionTestCase``: declare cases, get every check.

An ``OpCase`` states an op case declaratively: the public wrapper it calls, how
its inputs are drawn (``Arg``), non-default parameters, an independent NumPy
reference of the forward pass and, for edge values where finite differences
are invalid (kinks, ties, exact bounds), a reference gradient following
PyTorch's subgradient conventions. A test class that subclasses ``OpHarness``
and sets ``cases`` gets, for every case:

1. ``test_forward``: the output against the reference in float64 and float32
   (the output keeps the inputs' dtype: no silent promotion), for contiguous,
   transposed (Fortran-ordered) and strided inputs; a non-contiguous run (with
   an upstream gradient in the same layout, read-only like a broadcast one)
   must give the contiguous run's output and gradients; the inputs are not
   modified by forward or backward; every input that requires a gradient gets
   one of its shape and dtype.
2. ``test_gradcheck``: ``nr.gradcheck`` in float64 (central differences against
   backprop, projected on a random upstream gradient).
3. ``test_retain_graph_doubles_gradients``: ``backward(g, retain_graph=True)``
   then ``backward(g)`` gives exactly (bitwise) twice the first gradients, which
   an op that mutates what it saved, or hands out a saved array, fails.
4. ``test_reference_gradient``: backprop against the case's reference gradient.

Tolerances are stated once, below. Cases are seeded from their id, so each one
draws the same inputs whatever runs before it.
"""

import dataclasses
import zlib

import numpy as np
import pytest

import neurona as nr
from neurona import backend

DTYPES = ("float64", "float32")
LAYOUTS = ("contiguous", "transposed", "strided")
# against a reference: (rtol, atol as a fraction of the largest |expected|, at least 1)
TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (2e-5, 2e-6)}
# a non-contiguous run against the contiguous one: the same arithmetic up to summation order
LAYOUT_TOLERANCE = {"float64": (1e-12, 1e-14), "float32": (1e-5, 1e-6)}
MARGIN = 0.05  # sampled values stay this far from the kinks in ``Arg.avoid`` (finite differences use 1e-6)
FILL = {"f": np.nan, "i": -(10**6), "b": True}  # what the gaps of a strided buffer hold: reading them shows


@dataclasses.dataclass(frozen=True, eq=False)
class Arg:
    """How one input of a case is drawn.

    Attributes:
        shape: the input's shape.
        low, high: the range of uniform draws (``kind="int"``: integers in ``[low, high)``).
        kind: ``"float"`` (uniform), ``"distinct"`` (a permutation of evenly spaced values in
            ``[low, high)``: no ties, so maxima are unique and finite differences exact),
            ``"int"``, ``"bool"``, or ``"fixed"`` (``value``, for edge cases).
        avoid: points (kinks) that uniform float draws keep at least ``MARGIN`` away from.
        value: the fixed values of ``kind="fixed"``.
        grad: whether a float input requires a gradient.
    """

    shape: tuple = ()
    low: float = -2.0
    high: float = 2.0
    kind: str = "float"
    avoid: tuple = ()
    value: object = None
    grad: bool = True

    @classmethod
    def fixed(cls, value, grad=True, dtype=None):
        """Fixed values: numbers become float64 unless ``dtype`` says otherwise (e.g. int64 labels)."""
        value = np.asarray(value)
        value = value.astype(dtype or (np.float64 if value.dtype.kind in "iuf" else value.dtype))
        return cls(shape=value.shape, kind="fixed", value=value, grad=grad)

    def sample(self, rng):
        if self.kind == "fixed":
            return np.array(self.value)
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high), size=self.shape).astype(np.int64)
        if self.kind == "bool":
            return rng.random(self.shape) < 0.5
        size = int(np.prod(self.shape, dtype=np.int64))
        if self.kind == "distinct":
            values = self.low + (self.high - self.low) * (rng.permutation(size) + 0.5) / size
            return values.reshape(self.shape)
        if self.kind != "float":
            raise ValueError(f"Arg.kind must be float, distinct, int, bool or fixed, got {self.kind!r}")
        values = np.asarray(rng.uniform(self.low, self.high, size=self.shape), dtype=np.float64)
        for point in self.avoid:
            near = np.abs(values - point) < MARGIN
            values[near] = point + np.where(values[near] >= point, 2 * MARGIN, -2 * MARGIN)
        return values


def _format(value):
    text = value if isinstance(value, str) else getattr(value, "__name__", None) or repr(value)
    return str(text).replace(" ", "")


@dataclasses.dataclass(frozen=True, eq=False)
class OpCase:
    """One op case: ``call(*tensors, **params)`` against ``reference(*arrays, **params)``.

    Attributes:
        op: the public wrapper in ``neurona.ops`` (names the case; coverage is checked against it).
        args: one ``Arg`` per input, in call order.
        reference: independent NumPy forward: float64 arrays (ints and bools as drawn) -> expected output.
        params: non-array parameters passed to ``call`` and ``reference``.
        call: ``call(*tensors, **params) -> Tensor``; defaults to ``op`` (set it for list arguments,
            operators and methods).
        label: the text inside the id's brackets (defaults to ``params``).
        method: the ``Tensor`` operator or method that ``call`` goes through, if any.
        reference_grad: ``reference_grad(*arrays, g, **params) -> tuple``: the expected gradient of each
            input (None where it has none) for the upstream gradient ``g``.
        gradcheck: False for edge cases sitting on kinks, ties or bounds (finite differences are invalid).
        out_dtype: the output dtype when it is not the float inputs' dtype (casts).
        xfail: a reason: every check of this case is a strict expected failure (a known, tracked defect).
    """

    op: object
    args: tuple
    reference: object
    params: dict = dataclasses.field(default_factory=dict)
    call: object = None
    label: str = None
    method: str = None
    reference_grad: object = None
    gradcheck: bool = True
    out_dtype: str = None
    xfail: str = None

    @property
    def name(self):
        return f"Tensor.{self.method}" if self.method else self.op.__name__

    @property
    def id(self):
        label = self.label if self.label is not None else ",".join(f"{k}={_format(v)}" for k, v in self.params.items())
        return f"{self.name}[{label}]" if label else self.name

    def run(self, tensors):
        return (self.call or self.op)(*tensors, **self.params)

    def layouts(self):
        """The input layouts worth running: transposed needs an input of rank >= 2, strided of rank >= 1."""
        rank = max(len(a.shape) for a in self.args)
        return [lay for lay in LAYOUTS if lay == "contiguous" or (lay == "strided" and rank >= 1) or rank >= 2]

    def arrays(self, dtype, layout="contiguous"):
        """The case's inputs, floats in ``dtype``, laid out as ``layout`` (seeded from the id)."""
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        drawn = [arg.sample(rng) for arg in self.args]
        return [_lay_out(a.astype(dtype) if a.dtype.kind == "f" else a, layout) for a in drawn]

    def tensors(self, arrays):
        return [nr.Tensor(a, requires_grad=a.dtype.kind == "f" and arg.grad) for a, arg in zip(arrays, self.args)]

    def expected_dtype(self, dtype):
        return np.dtype(self.out_dtype or dtype)

    def tolerance(self, dtype, table=None):
        """The tolerance of the less precise of the inputs' and the output's dtypes."""
        key = "float32" if "float32" in (dtype, str(self.expected_dtype(dtype))) else "float64"
        return (table or TOLERANCE)[key]


def _lay_out(array, layout):
    """A copy of ``array`` with the same values in another memory layout."""
    if layout == "contiguous" or array.ndim == 0:
        return array.copy()
    if layout == "transposed":  # the transpose of a C-ordered transpose: Fortran order
        return np.ascontiguousarray(array.T).T if array.ndim >= 2 else array.copy()
    if layout == "strided":  # every other element of a buffer twice as large along every axis
        buffer = np.full(tuple(2 * s for s in array.shape), FILL[array.dtype.kind], dtype=array.dtype)
        view = buffer[(slice(None, None, 2),) * array.ndim]
        view[...] = array
        return view
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def _float64(array):
    return np.array(array, dtype=np.float64) if array.dtype.kind == "f" else np.array(array)


def assert_close(actual, expected, tolerance, message):
    """``actual`` within ``rtol`` of ``expected``, plus ``atol`` times the larger of 1 and max|expected|."""
    rtol, atol = tolerance
    expected = np.asarray(expected, dtype=np.float64)
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite).max(initial=0.0)))
    assert np.shape(actual) == expected.shape, f"{message}: shape {np.shape(actual)}, expected {expected.shape}"
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=atol * scale,
                               err_msg=message)


def _upstream(case, out):
    """A random upstream gradient with the output's shape and dtype (seeded from the case)."""
    rng = np.random.default_rng(zlib.crc32(("upstream" + case.id).encode()))
    return rng.standard_normal(out.shape).astype(out.dtype)


def _grads(tensors):
    return [None if t.grad is None else backend.asnumpy(t.grad).copy() for t in tensors]


def _run(case, arrays):
    """Forward and one backward with the case's upstream gradient: (output, upstream, gradients)."""
    tensors = case.tensors(arrays)
    out = case.run(tensors)
    assert isinstance(out, nr.Tensor), f"{case.id}: returned {type(out).__name__}, expected a Tensor"
    g = _upstream(case, out)
    out.backward(g)
    return backend.asnumpy(out.data), g, tensors


def check_forward(case, dtype, layout):
    """Output vs reference and dtype; inputs untouched; gradients present; layout-independent results."""
    arrays = case.arrays(dtype, layout)
    before = [a.copy() for a in arrays]
    tensors = case.tensors(arrays)
    out = case.run(tensors)
    assert isinstance(out, nr.Tensor), f"{case.id}: returned {type(out).__name__}, expected a Tensor"
    for i, (a, b) in enumerate(zip(arrays, before)):
        assert np.array_equal(a, b, equal_nan=True), f"{case.id}: forward modified input {i}"
    assert out.dtype == case.expected_dtype(dtype), (
        f"{case.id}: output dtype {out.dtype} for {dtype} inputs, expected {case.expected_dtype(dtype)}")
    expected = case.reference(*[_float64(a) for a in before], **case.params)
    assert_close(backend.asnumpy(out.data), expected, case.tolerance(dtype), f"{case.id}: forward ({dtype}, {layout})")
    g = _upstream(case, out)
    if layout != "contiguous" and g.ndim:
        # the upstream gradient too, read-only as a broadcast one is (the gradient of a sum): backward may not
        # write into it or assume it contiguous
        g = _lay_out(g, layout)
        g.flags.writeable = False
    out.backward(g)
    for i, (a, b) in enumerate(zip(arrays, before)):
        assert np.array_equal(a, b, equal_nan=True), f"{case.id}: backward modified input {i}"
    for i, t in enumerate(tensors):
        if t.requires_grad:
            assert t.grad is not None, f"{case.id}: input {i} requires a gradient but got none"
            assert t.grad.shape == t.shape and t.grad.dtype == t.dtype, (
                f"{case.id}: input {i} of shape {t.shape} and dtype {t.dtype} got a gradient of shape "
                f"{t.grad.shape} and dtype {t.grad.dtype}")
    if layout != "contiguous":
        reference_out, _, reference_tensors = _run(case, case.arrays(dtype))
        message, tolerance = f"{case.id}: {layout} inputs against contiguous ones ({dtype})", LAYOUT_TOLERANCE
        assert_close(backend.asnumpy(out.data), reference_out, case.tolerance(dtype, tolerance), message + ", output")
        for i, (got, want) in enumerate(zip(_grads(tensors), _grads(reference_tensors))):
            if want is not None:
                assert_close(got, want, case.tolerance(dtype, tolerance), message + f", gradient of input {i}")


def check_gradcheck(case):
    """``nr.gradcheck`` in float64; inputs that take no gradient are passed as constant Tensors."""
    arrays = case.arrays("float64")
    inputs = [a if a.dtype.kind == "f" and arg.grad else nr.Tensor(a) for a, arg in zip(arrays, case.args)]
    assert nr.gradcheck(lambda *tensors: case.run(tensors), *inputs)


def check_retain_graph(case, dtype):
    """A second backward through a retained graph adds exactly the same gradients again."""
    tensors = case.tensors(case.arrays(dtype))
    out = case.run(tensors)
    g = _upstream(case, out)
    out.backward(g, retain_graph=True)
    first = _grads(tensors)
    out.backward(g)
    for i, (got, once) in enumerate(zip(_grads(tensors), first)):
        if once is not None:
            assert np.array_equal(got, 2 * once), (
                f"{case.id}: the second backward through the retained graph added {got - once} to input {i}'s "
                f"gradient, expected exactly what the first one gave, {once}")


def check_reference_gradient(case, dtype):
    """Backprop against the case's reference gradient (the documented subgradient at edge values)."""
    arrays = case.arrays(dtype)
    _, g, tensors = _run(case, arrays)
    expected = case.reference_grad(*[_float64(a) for a in arrays], g.astype(np.float64), **case.params)
    assert len(expected) == len(tensors), f"{case.id}: reference_grad gave {len(expected)} gradients"
    for i, (t, want) in enumerate(zip(tensors, expected)):
        if want is not None:
            assert t.grad is not None, f"{case.id}: input {i} got no gradient"
            assert_close(backend.asnumpy(t.grad), want, case.tolerance(dtype), f"{case.id}: gradient of input {i}")


_SELECT = {
    "test_forward": lambda case: True,
    "test_gradcheck": lambda case: case.gradcheck,
    "test_retain_graph_doubles_gradients": lambda case: True,
    "test_reference_gradient": lambda case: case.reference_grad is not None,
}


class OpHarness:
    """Subclass as ``class TestX(OpHarness): cases = [...]`` to run every check on every case."""

    cases = ()

    def pytest_generate_tests(self, metafunc):
        name = metafunc.function.__name__
        if name not in _SELECT:
            return
        params = []
        for case in (c for c in self.cases if _SELECT[name](c)):
            marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
            if "layout" in metafunc.fixturenames:
                combos = [(d, lay) for d in DTYPES for lay in case.layouts()]
            elif "dtype" in metafunc.fixturenames:
                combos = [(d,) for d in DTYPES]
            else:
                combos = [()]
            for combo in combos:
                params.append(pytest.param(case, *combo, id="-".join((case.id,) + combo), marks=marks))
        names = ["case"] + [n for n in ("dtype", "layout") if n in metafunc.fixturenames]
        metafunc.parametrize(names, params)

    def test_forward(self, device, case, dtype, layout):
        check_forward(case, dtype, layout)

    def test_gradcheck(self, device, case):
        check_gradcheck(case)

    def test_retain_graph_doubles_gradients(self, device, case, dtype):
        check_retain_graph(case, dtype)

    def test_reference_gradient(self, device, case, dtype):
        check_reference_gradient(case, dtype)


def sibling_module(here, stem):
    """The test module ``stem`` beside the file ``here``, loaded by path (test modules are not importable by name
    under --import-mode=importlib), for references that one harness file shares with another."""
    import importlib.util
    from pathlib import Path

    path = Path(here).with_name(f"{stem}.py")
    spec = importlib.util.spec_from_file_location(f"_harness_sibling_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_cases(directory, skip=()):
    """Every ``OpCase`` of the ``OpHarness`` classes in ``directory``'s test_harness_*.py files but those in ``skip``
    (file names; the calling module itself, to stop it importing itself)."""
    import importlib.util
    from pathlib import Path

    cases = []
    for path in sorted(Path(directory).glob("test_harness_*.py")):
        if path.name in skip:
            continue
        spec = importlib.util.spec_from_file_location(f"_harness_cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, OpHarness) and value is not OpHarness:
                cases.extend(value.cases)
    return cases
