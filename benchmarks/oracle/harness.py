"""The oracle's machinery: case registration, the seeded inputs, layouts, the error measure and running a case.

``case`` appends to ``CASES``; ``run`` executes one case in one of ``LAYOUTS``, first through PyTorch
(``reference``), then through Neurona, and returns its verdict, errors and detail line. The error measure,
layouts and verdicts are described in ``benchmarks/torch_gradient_oracle.py``'s docstring. ``R`` is the one
generator every case group draws its inputs from, so the groups must be registered in a fixed order.
"""

import traceback
import warnings
import zlib

import numpy as np
import torch

import neurona as nr

TOL = 1e-10
FLOOR = 1e-6  # relative errors of entries below FLOOR * max|reference| are taken against that floor
R = np.random.default_rng(0)
CASES = []


def rn(*shape, scale=1.0):
    return R.standard_normal(shape) * scale


def pos(*shape):
    return R.uniform(0.2, 2.0, shape)


def ties(*shape):
    """Small integers as floats: many tied maxima and minima."""
    return R.integers(-1, 2, shape).astype(np.float64)


def case(name, arrays, nr_fn, th_fn, diff=None, tol=TOL, convention=None):
    """Register a case; ``diff`` lists the inputs to differentiate (default: every float input)."""
    CASES.append(dict(name=name, arrays=[np.asarray(a) for a in arrays], nr=nr_fn, th=th_fn, diff=diff, tol=tol,
                      convention=convention))


# ---- layouts and comparisons --------------------------------------------------------------------
def strided(a):
    if a.ndim == 0:
        return a
    buf = np.full(a.shape[:-1] + (2 * a.shape[-1],), np.nan, a.dtype)  # NaN gaps: a read outside the view shows
    buf[..., ::2] = a
    return buf[..., ::2]


def transposed(a):
    if a.ndim >= 2:
        return np.asfortranarray(a)
    return a[::-1].copy()[::-1] if a.ndim == 1 else a


LAYOUTS = {"contig": lambda a: a, "strided": strided, "transposed": transposed}


def compare(n, t):
    """``(error, where)``: the error measure of the entry script's doc and the worst element of both."""
    n, t = np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64)
    if n.shape != t.shape:
        return np.inf, f"shape {n.shape}, torch {t.shape}"
    n, t = np.atleast_1d(n), np.atleast_1d(t)  # 0-d arithmetic would give scalars, which cannot be indexed
    same = (n == t) | (np.isnan(n) & np.isnan(t))
    if same.all():
        return 0.0, None
    finite = np.isfinite(t)
    scale = np.abs(t[finite]).max(initial=0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(n - t) / np.maximum(np.abs(t), max(FLOOR * scale, 1e-300))
    err[same] = 0.0
    err[~same & ~(np.isfinite(n) & finite)] = np.inf
    i = np.unravel_index(np.argmax(err), err.shape)
    return float(err[i]), f"at {tuple(int(k) for k in i)}: neurona {n[i]!r}, torch {t[i]!r}"


def identical(a, b):
    return a.shape == b.shape and bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())


def run(c, layout_name):
    """One case in one layout: ``(status, fwd, grad, double_ok, detail)``."""
    with np.errstate(all="ignore"), warnings.catch_warnings():  # edge values (log 0, 0 / 0, empty means) warn
        warnings.simplefilter("ignore")
        return _run(c, layout_name)


def reference(c, diff):
    """PyTorch's output, the seeded upstream gradient, its input gradients, and whether it doubles them exactly."""
    tts = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(c["arrays"])]
    t_out = c["th"](*tts)
    g = np.random.default_rng(zlib.crc32(c["name"].encode())).standard_normal(t_out.shape)
    g = g.astype(t_out.detach().numpy().dtype)
    t_first = t_exact = None
    if t_out.requires_grad:
        t_out.backward(torch.tensor(g), retain_graph=True)
        t_first = [None if t.grad is None else t.grad.numpy().copy() for t in tts]
        t_out.backward(torch.tensor(g))
        t_exact = all(f is None or identical(t.grad.numpy(), 2 * f) for t, f in zip(tts, t_first))
    return t_out, g, t_first, t_exact


def _run(c, layout_name):
    layout = LAYOUTS[layout_name]
    floats = [a.dtype.kind == "f" for a in c["arrays"]]
    diff = c["diff"] if c["diff"] is not None else [i for i, f in enumerate(floats) if f]
    arrays = [layout(a) if f else a for a, f in zip(c["arrays"], floats)]
    before = [a.copy() for a in arrays]
    try:
        t_out, g, t_first, t_exact = reference(c, diff)
    except Exception as e:  # the reference itself failed: a bug in this script
        return "ERROR", np.nan, np.nan, False, f"torch raised {type(e).__name__}: {e}"
    try:
        nts = [nr.Tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
        n_out = c["nr"](*nts)
        fwd, where = compare(n_out.numpy(), t_out.detach().numpy())
        details = [f"forward {where}"] if fwd > c["tol"] else []
        if n_out.dtype != t_out.detach().numpy().dtype:
            fwd, details = np.inf, details + [f"dtype {n_out.dtype}, torch {t_out.dtype}"]
        grad, double = 0.0, True
        if t_out.requires_grad:
            if not n_out.requires_grad:
                return "FAIL", fwd, np.inf, False, "neurona recorded no graph"
            gn = layout(g) if layout_name == "strided" else g
            arrays, before = arrays + [gn, n_out.data], before + [gn.copy(), n_out.data.copy()]
            n_out.backward(gn, retain_graph=True)
            first = [None if t.grad is None else t.grad.copy() for t in nts]
            n_out.backward(gn)
            for i in diff:
                ref = t_first[i] if t_first[i] is not None else np.zeros(c["arrays"][i].shape)
                if first[i] is None:
                    first[i] = np.full(ref.shape, np.nan)
                err, where = compare(first[i], ref)
                if err > c["tol"]:
                    details.append(f"grad[{i}] {where}")
                grad = max(grad, err)
                second = nts[i].grad if nts[i].grad is not None else np.full(ref.shape, np.nan)
                if not identical(second, 2 * first[i]):
                    # torch doubles exactly here; a rounding-level difference still says the second pass
                    # summed the contributions in another order than the first
                    err2 = compare(second, 2 * first[i])[0]
                    if t_exact or err2 > 1e-14:
                        double, details = False, details + [
                            f"grad[{i}]: second backward is {err2:.1e} (relative) from twice the first"
                            + (" (torch: exactly twice)" if t_exact else "")]
        for i, (a, b) in enumerate(zip(arrays, before)):
            if not identical(a, b):
                k = len(c["arrays"])
                what = f"input {i}" if i < k else ("the upstream gradient", "the output")[i - k]
                double, details = False, details + [f"{what} was modified"]
    except Exception as e:
        frame = traceback.extract_tb(e.__traceback__)[-1]
        detail = f"neurona raised {type(e).__name__}: {e} (in {frame.filename.split('/')[-1]}:{frame.lineno})"
        if c["convention"]:
            return "CONVENTION", np.nan, np.nan, False, f"{detail}; neurona documents: {c['convention']}"
        return "FAIL", np.nan, np.nan, False, detail
    ok = fwd <= c["tol"] and grad <= c["tol"] and double
    status = "PASS" if ok else ("CONVENTION" if c["convention"] else "FAIL")
    if status == "CONVENTION":
        details.append(f"neurona documents: {c['convention']}")
    return status, fwd, grad, double, "; ".join(details)

