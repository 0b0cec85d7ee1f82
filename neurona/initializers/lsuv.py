"""Layer-sequential unit-variance (LSUV) initialization: orthonormal kernels, rescaled on a batch of data.

Mishkin & Matas, "All you need is a good init", ICLR 2016, Algorithm 1:

1. pre-initialize every kernel with an orthonormal matrix (Saxe et al., 2014; ``Orthogonal``);
2. for each layer ``L`` with a kernel, in the order the forward pass runs them: forward the batch and take
   ``B``, the layer's output before its nonlinearity (``z = x W + b`` for Dense, the convolution plus bias for
   Conv); while ``|Var(B) - target_var| >= tol`` and fewer than ``max_iter`` rescalings were made:
   ``W <- W * sqrt(target_var / Var(B))`` and forward again.

``Var(B)`` is the variance of all the elements of ``B`` (batch, positions and channels together), as in the
paper's code. Biases are left as they are (the paper's are zero). Each layer is rescaled only once the layers
before it are final, so the variance it sees is the one its input will have; with zero biases ``z`` is linear
in ``W`` and one rescaling reaches the target exactly, the loop is for biases and for layers whose kernel
changes their own input (a shared layer measured at its first call).

A model is walked by duck typing, so that this module stays below ``layers`` and ``models``: a layer takes part
when it has a ``kernel`` Variable (2 or more axes) and a callable ``activation`` (Dense, Conv1D, Conv2D, and
user layers built the same way); the model may be Sequential, functional, subclassed or nested, since the
order is recorded from one forward pass.

``lsuv(model, x_batch)`` runs it now. ``LSUV()`` (registered as ``"lsuv"``) is the same as an initializer:
``Dense(64, kernel_initializer="lsuv")`` draws an orthonormal kernel (so the model works before ``fit``) that
is pending until ``fit`` calls ``resolve_pending`` on its first batch.
"""

import dataclasses
import hashlib
import math
import weakref

from .. import backend, nest
from ..arguments import check_bool, check_int, check_real, shown
from ..autograd import Tensor, Variable, no_grad
from .base import RandomInitializer, check_seed
from .orthogonal import Orthogonal

# what happened to each layer (LSUVRecord.status; _MESSAGES says what each means)
CONVERGED, MAX_ITER, ZERO_VARIANCE, NO_EFFECT = "converged", "max_iter", "zero_variance", "no_effect"
NON_FINITE, FROZEN, SHARED_KERNEL, NOT_CALLED = "non_finite", "frozen", "shared_kernel", "not_called"
_MESSAGES = {
    CONVERGED: "",  # |Var(B) - target_var| < tol
    MAX_ITER: "not within tol after max_iter rescalings",
    ZERO_VARIANCE: "pre-activation variance is 0 (dead or zero input): kernel left unscaled",
    NO_EFFECT: "variance does not change with the kernel (zero input, bias alone): kernel left unscaled",
    NON_FINITE: "non-finite variance or rescaled kernel: kernel left at its last finite value",
    FROZEN: "frozen (trainable=False): not touched",  # freezing means keeping these values
    SHARED_KERNEL: "same kernel Variable as an earlier layer: rescaled there only",
    NOT_CALLED: "not reached by the forward pass on this batch: not touched",
}


# ---- the report -------------------------------------------------------------------------------------------
@dataclasses.dataclass
class LSUVRecord:
    """What LSUV did to one layer: ``iterations`` rescalings by ``scale`` in all, variance before and after."""

    layer: str
    class_name: str
    status: str
    iterations: int = 0
    initial_variance: float = math.nan
    final_variance: float = math.nan
    scale: float = 1.0
    target_var: float = 1.0
    tol: float = 0.1

    @property
    def converged(self):
        """Whether the final variance is within ``tol`` of ``target_var``."""
        return abs(self.final_variance - self.target_var) < self.tol

    @property
    def message(self):
        return _MESSAGES[self.status]

    def to_dict(self):
        """The record as JSON-safe values (NaN, for a variance never measured, as None)."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        out["converged"] = self.converged
        return out


class LSUVReport(list):
    """The ``LSUVRecord`` of every layer LSUV looked at, in forward order; ``print(report)`` shows a table."""

    @property
    def converged(self):
        """Whether every layer LSUV rescaled ended within its tolerance (frozen and unreached layers aside)."""
        return all(r.converged for r in self if r.status not in (FROZEN, SHARED_KERNEL, NOT_CALLED))

    def to_dict(self):
        """``{"converged": bool, "layers": [record dicts]}``, JSON-safe."""
        return {"converged": self.converged, "layers": [r.to_dict() for r in self]}

    def __str__(self):
        header = ("layer", "class", "iters", "initial var", "final var", "scale", "status")
        rows = [header] + [(r.layer, r.class_name, str(r.iterations), f"{r.initial_variance:.4g}",
                            f"{r.final_variance:.4g}", f"{r.scale:.4g}",
                            r.status + (f" ({r.message})" if r.message else "")) for r in self]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows]
        return "\n".join([f"LSUV: {len(self)} layer(s), {'all' if self.converged else 'NOT all'} converged",
                          *lines])


# ---- the initializer --------------------------------------------------------------------------------------
def _check_settings(owner, target_var, tol, max_iter):
    return (check_real(target_var, owner, "target_var", low=0.0, low_open=True),
            check_real(tol, owner, "tol", low=0.0, low_open=True),
            check_int(max_iter, owner, "max_iter", low=1))


def _fingerprint(array):
    """A digest of an array's shape, dtype and values (to tell whether a kernel still holds LSUV's draw)."""
    host = backend.asnumpy(array)
    digest = hashlib.blake2b(host.tobytes(), digest_size=16)
    digest.update(f"{host.shape}{host.dtype}".encode())
    return digest.digest()


class LSUV(RandomInitializer):
    """LSUV as a ``kernel_initializer``: an orthonormal kernel now, rescaled on the first batch of ``fit``.

    Calling it returns ``Orthogonal(seed=seed)``'s draw (so the model is usable before training); the kernel
    is then pending. ``fit`` calls ``resolve_pending(model, x)`` with its first batch, which runs ``lsuv`` on
    the pending layers with each one's ``target_var``, ``tol`` and ``max_iter`` (keeping the draw: no second
    orthonormal draw). A kernel is pending while it still holds the values this object drew, is trainable and
    has not been resolved: weights set by hand replace the draw, and ``load_model`` / ``load_weights`` mark the
    kernels resolved (``mark_resolved``), so a loaded model keeps the file's weights and is never re-run.

    Args:
        target_var: the variance of each layer's pre-activations to reach (> 0).
        tol: the tolerance on it (> 0).
        max_iter: the most rescalings per layer (>= 1).
        seed: None or an int, for the orthonormal draw (see ``RandomInitializer``).
    """

    def __init__(self, target_var=1.0, tol=0.1, max_iter=10, seed=None):
        super().__init__(seed)
        self.target_var, self.tol, self.max_iter = _check_settings("LSUV", target_var, tol, max_iter)
        self._drawn = set()  # fingerprints of the kernels drawn, not config: state of this object's draws

    def generate(self, shape, dtype):
        if len(shape) < 2:
            raise ValueError(f"LSUV initializes kernels (2 or more axes: (in, out) or (*kernel_size, in, out)), "
                             f"got shape {shape}; use it as a kernel_initializer, not for biases")
        return Orthogonal(seed=self.seed).generate(shape, dtype)

    def __call__(self, shape, dtype=None):
        values = super().__call__(shape, dtype)
        self._drawn.add(_fingerprint(values))
        return values

    def get_config(self):
        return {"target_var": self.target_var, "tol": self.tol, "max_iter": self.max_iter, **super().get_config()}


# Kernels LSUV has run on, by id (a weak value, so a dead Variable leaves and its id cannot be mistaken for a new
# one). Kept here rather than on the initializer, which several layers and models may share.
_resolved = weakref.WeakValueDictionary()


def _is_resolved(kernel):
    return _resolved.get(id(kernel)) is kernel


def is_pending(layer):
    """Whether ``layer``'s kernel came from an ``LSUV`` initializer and waits for data (see ``LSUV``).

    A frozen kernel is not pending (freezing means keeping the values); it becomes so if unfrozen while it
    still holds the draw.
    """
    kernel = getattr(layer, "kernel", None)
    if not isinstance(kernel, Variable) or not isinstance(kernel.initializer, LSUV):
        return False
    return kernel.trainable and not _is_resolved(kernel) and _fingerprint(kernel.data) in kernel.initializer._drawn


def mark_resolved(model):
    """Mark every LSUV kernel of ``model`` as resolved, so that ``fit`` keeps its values: for weights that come
    from elsewhere (a file: ``load_model`` and ``load_weights`` call this after setting them). Needed where the
    values cannot tell: a seeded ``LSUV`` draws the same kernel again when a saved model is rebuilt."""
    _check_model(model, "mark_resolved")
    for layer in _candidates(model):
        if isinstance(layer.kernel.initializer, LSUV):
            _resolved[id(layer.kernel)] = layer.kernel


# ---- walking the model ----------------------------------------------------------------------------------------
def _check_model(model, owner):
    if not (callable(model) and callable(getattr(model, "_all_sublayers", None))):
        raise TypeError(f"{owner}: model must be a Neurona Model or Layer, got {shown(model)}")


def _check_batch(x_batch, owner):
    leaves = nest.flatten(x_batch)
    if x_batch is None or not leaves:
        raise TypeError(f"{owner}: x_batch must be an array (or a list/dict of arrays for several inputs), "
                        f"got {shown(x_batch)}")
    for leaf in leaves:
        data = leaf.data if isinstance(leaf, Tensor) else leaf
        shape = getattr(data, "shape", None)
        if shape is None or getattr(data, "dtype", None) is None:
            raise TypeError(f"{owner}: x_batch must hold arrays or Tensors, got {shown(leaf)}")
        if len(shape) == 0 or shape[0] == 0:
            raise ValueError(f"{owner}: x_batch must hold at least one sample, got an array of shape "
                             f"{tuple(shape)}")
        if data.dtype.kind == "f" and not bool(backend.xp_of(data).isfinite(data).all()):
            raise ValueError(f"{owner}: x_batch holds NaN or inf; expected finite values (the variances would be "
                             "NaN)")


def _candidates(model):
    """The model (itself, for a single layer) and its layers at every depth that have a kernel and an activation."""
    return [layer for layer in [model, *model._all_sublayers()]
            if isinstance(getattr(layer, "kernel", None), Variable) and layer.kernel.ndim >= 2
            and callable(getattr(layer, "activation", None))
            # not a layer that only reports its cell's activation (the recurrent ones: no single pre-activation)
            and not isinstance(getattr(type(layer), "activation", None), property)]


def _forward(model, x_batch):
    with no_grad():
        model(x_batch, training=False)


def _forward_order(model, x_batch, layers):
    """``layers`` in the order their pre-activations are computed on ``x_batch`` (a shared layer at its first
    call), then those the pass never reached. Recorded with pre-activation hooks rather than by the model's
    structure, so that functional, nested and subclassed models (whose attribute order need not be their call
    order) all work, and a layer holding layers is placed where its own ``z`` is computed."""
    order, seen = [], set()

    def hook(layer, _z):
        if id(layer) not in seen:
            seen.add(id(layer))
            order.append(layer)

    handles = [layer.register_preactivation_hook(hook) for layer in layers]
    try:
        _forward(model, x_batch)
    finally:
        for handle in handles:
            handle.remove()
    return order, [layer for layer in layers if id(layer) not in seen]


def _variance(model, x_batch, layer):
    """Var of all elements of ``layer``'s pre-activation at its first call in a forward pass, in float64."""
    found = []

    def hook(_layer, z):
        if not found:
            data = z.data
            found.append(float(backend.xp_of(data).var(data, dtype="float64")))

    with layer.register_preactivation_hook(hook):
        _forward(model, x_batch)
    return found[0]


# ---- the algorithm ------------------------------------------------------------------------------------------
def _calibrate(model, x_batch, layer, target_var, tol, max_iter):
    """Algorithm 1's loop on one layer (the earlier ones final): its record."""
    kernel = layer.kernel
    variance = _variance(model, x_batch, layer)
    record = LSUVRecord(layer.name, type(layer).__name__, CONVERGED, initial_variance=variance,
                        final_variance=variance, target_var=target_var, tol=tol)
    while not abs(variance - target_var) < tol:
        if not math.isfinite(variance):
            record.status = NON_FINITE
            break
        if variance <= 0.0:
            record.status = ZERO_VARIANCE
            break
        if record.iterations == max_iter:
            record.status = MAX_ITER
            break
        step = math.sqrt(target_var / variance)
        previous = kernel.data.copy()
        scaled = previous * step
        if not bool(backend.xp_of(scaled).isfinite(scaled).all()):
            record.status = NON_FINITE
            break
        kernel.assign(scaled)
        new_variance = _variance(model, x_batch, layer)
        if new_variance == variance:
            # z did not move although W was scaled by step != 1: z = b, the input is zero on this batch;
            # further rescalings would only inflate W, so the last one is undone
            kernel.assign(previous)
            record.status = NO_EFFECT
            break
        variance = new_variance
        record.iterations += 1
        record.scale *= step
        record.final_variance = variance
    return record


def _run(model, x_batch, layers, settings, orthonormal, seed, verbose):
    """LSUV on ``layers`` (each with its ``(target_var, tol, max_iter)`` in ``settings``, by id), in forward
    order; every kernel is put back if anything fails midway, so the model is never left half-initialized."""
    order, unreached = _forward_order(model, x_batch, layers)
    saved = [(layer.kernel, layer.kernel.data.copy()) for layer in layers]
    generator = backend.make_generator(seed)
    report, done = LSUVReport(), set()
    try:
        for layer in order:
            kernel = layer.kernel
            target_var, tol, max_iter = settings[id(layer)]
            if not kernel.trainable or id(kernel) in done:
                variance = _variance(model, x_batch, layer)
                report.append(LSUVRecord(layer.name, type(layer).__name__,
                                         FROZEN if not kernel.trainable else SHARED_KERNEL,
                                         initial_variance=variance, final_variance=variance,
                                         target_var=target_var, tol=tol))
            else:
                done.add(id(kernel))
                if orthonormal:
                    draw = Orthogonal(seed=int(generator.integers(2**31)))
                    kernel.assign(draw(kernel.shape, dtype=kernel.dtype))
                report.append(_calibrate(model, x_batch, layer, target_var, tol, max_iter))
                _resolved[id(kernel)] = kernel
            if verbose:
                r = report[-1]
                print(f"LSUV {r.layer}: {r.status}, {r.iterations} iteration(s), variance {r.initial_variance:.4g} "
                      f"-> {r.final_variance:.4g} (scale {r.scale:.4g})")
    except BaseException:
        for kernel, values in saved:
            kernel.assign(values)
            _resolved.pop(id(kernel), None)
        raise
    for layer in unreached:
        target_var, tol, _ = settings[id(layer)]
        report.append(LSUVRecord(layer.name, type(layer).__name__, NOT_CALLED, target_var=target_var, tol=tol))
    return report


def _select(candidates, layers, owner):
    """The candidate layers named or given in ``layers`` (all of them for None)."""
    if layers is None:
        return candidates
    if isinstance(layers, str) or not isinstance(layers, (list, tuple)):
        raise TypeError(f"{owner}: layers must be None or a list of layers or layer names, got {shown(layers)}")
    by_name = {layer.name: layer for layer in candidates}
    chosen = []
    for item in layers:
        layer = by_name.get(item) if isinstance(item, str) else next((c for c in candidates if c is item), None)
        if layer is None:
            raise ValueError(f"{owner}: layers holds {item!r}, which is not a layer of this model with a kernel "
                             f"and an activation; expected some of {sorted(by_name)}")
        if not any(layer is c for c in chosen):
            chosen.append(layer)
    if not chosen:
        raise ValueError(f"{owner}: layers is empty; expected some of {sorted(by_name)}, or None for all")
    return chosen


def lsuv(model, x_batch, target_var=1.0, tol=0.1, max_iter=10, orthonormal=True, seed=None, layers=None,
         verbose=False):
    """Layer-sequential unit-variance initialization of ``model`` on ``x_batch`` (Mishkin & Matas, 2016).

    Each layer with a kernel and an activation (Dense, Conv1D, Conv2D ...), in forward order, gets its kernel
    multiplied by ``sqrt(target_var / Var(z))``, ``z`` its pre-activation on the batch, until
    ``|Var(z) - target_var| < tol`` or ``max_iter`` rescalings; see the module docstring. Weights change in
    place (``Variable.assign``); biases are not touched. A frozen kernel is not touched (its layer is reported
    ``"frozen"``). A layer called several times is rescaled once, measured at its first call. A zero variance
    (dead or zero input) stops that layer without dividing by it (``"zero_variance"``, ``converged`` False).

    Args:
        model: a Model (Sequential, functional, subclassed, nested) or a single layer; built on ``x_batch`` by
            a first call if it is not built yet.
        x_batch: a batch of inputs (an array, or a list/dict of arrays for several inputs), a few hundred
            samples in the paper.
        target_var: the pre-activation variance to reach (> 0); the paper's is 1.
        tol: the tolerance on it (> 0); the paper's is 0.1.
        max_iter: the most rescalings per layer (>= 1); the paper's is 10.
        orthonormal: first re-draw each kernel as an orthonormal matrix (``Orthogonal``, step 1 of the paper);
            False keeps its present values and only rescales them.
        seed: None or an int for the orthonormal draws (None: from the library-wide generator, ``nr.seed``).
        layers: None for every eligible layer, or a list of layers or layer names to initialize (in forward
            order whatever the list's order); the others are not touched.
        verbose: print a line per layer as it is done.

    Returns:
        An ``LSUVReport``: one ``LSUVRecord`` per layer (name, status, iterations, initial and final variance,
        scale applied, converged), ``to_dict()`` for JSON, ``print(report)`` for a table.

    Raises:
        TypeError, ValueError: naming the argument, before any weight changes: a ``target_var`` or ``tol`` not
            > 0, ``max_iter`` not an integer >= 1, an empty or non-finite ``x_batch``, a model without a layer
            with a kernel and an activation, or ``layers`` naming a layer that is not one of those.
    """
    owner = "lsuv"
    target_var, tol, max_iter = _check_settings(owner, target_var, tol, max_iter)
    orthonormal = check_bool(orthonormal, owner, "orthonormal")
    verbose = check_bool(verbose, owner, "verbose")
    seed = check_seed(seed)
    _check_model(model, owner)
    _check_batch(x_batch, owner)
    if not getattr(model, "built", True):
        _forward(model, x_batch)  # builds it: the kernels exist only now
    candidates = _candidates(model)
    if not candidates:
        raise ValueError(f"lsuv: model {getattr(model, 'name', model)!r} has no layer with a kernel and an "
                         "activation (Dense, Conv1D, Conv2D ...); LSUV rescales those layers' kernels")
    chosen = _select(candidates, layers, owner)
    settings = {id(layer): (target_var, tol, max_iter) for layer in chosen}
    return _run(model, x_batch, chosen, settings, orthonormal, seed, verbose)


def resolve_pending(model, x_batch):
    """Run LSUV on the layers of ``model`` whose kernel is a pending ``LSUV`` draw (``fit`` calls this on its
    first batch); each layer with its own initializer's ``target_var``, ``tol`` and ``max_iter``, keeping the
    orthonormal draw. Returns the ``LSUVReport`` (empty when nothing was pending); afterwards nothing is.
    """
    _check_model(model, "resolve_pending")
    unbuilt = [layer for layer in [model, *model._all_sublayers()]
               if isinstance(getattr(layer, "kernel_initializer", None), LSUV)
               and not isinstance(getattr(layer, "kernel", None), Variable)]
    if unbuilt:
        _check_batch(x_batch, "resolve_pending")
        _forward(model, x_batch)  # an unbuilt model's LSUV kernels are drawn by this first call
    pending = [layer for layer in _candidates(model) if is_pending(layer)]
    if not pending:
        return LSUVReport()
    _check_batch(x_batch, "resolve_pending")
    settings = {id(layer): (layer.kernel.initializer.target_var, layer.kernel.initializer.tol,
                            layer.kernel.initializer.max_iter) for layer in pending}
    return _run(model, x_batch, pending, settings, orthonormal=False, seed=None, verbose=False)


__all__ = ["LSUV", "LSUVRecord", "LSUVReport", "is_pending", "lsuv", "mark_resolved", "resolve_pending"]
