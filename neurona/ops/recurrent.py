"""Whole-sequence recurrences, one node each: the SimpleRNN, LSTM and GRU loops with backpropagation through time.

Each op takes the input projection ``xw = x @ W + b`` for every time step at once (the layer computes it as one
large product), the initial state(s) and the recurrent kernel ``U``, and runs the loop over the ``T`` steps of a
batch-major ``(B, T, .)`` sequence. Backward runs the same loop in reverse (backpropagation through time,
Werbos 1990), so a sequence of any length is one node of the autograd graph: no recursion depth, and only the
per-step activations the gradient needs are kept.

With ``mask`` (``(B, T)`` booleans), a masked step keeps the previous state unchanged (Keras's semantics): its
output is the carried state (the initial one before a sequence's first real step) and no gradient flows into
that step's inputs.

The gate layouts are Keras's, so a Keras kernel loads as it is:
- SimpleRNN: h_t = act(xw_t + h_{t-1} U).
- LSTM (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al. 2000), columns [i, f, c, o]:
  z = xw_t + h_{t-1} U; i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_c); c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
- GRU (Cho et al. 2014), columns [z, r, h]; with ``reset_after`` (Keras 3's default, the cuDNN variant)
  a = h_{t-1} U + b_rec, hh = tanh(xw_h + r * a_h); without it hh = tanh(xw_h + (r * h_{t-1}) U_h);
  z = sigmoid(xw_z + a_z), r = sigmoid(xw_r + a_r), h_t = z h_{t-1} + (1 - z) hh.
"""

from ..autograd import Function
from ..backend import kernels, xp_of

# the activations whose derivative the fused loops take from their output y
_FROM_OUTPUT = {
    "tanh": lambda y: 1 - y * y,
    "sigmoid": lambda y: y * (1 - y),
    "relu": lambda y: y > 0,
    "linear": None,
}
FUSED_ACTIVATIONS = tuple(_FROM_OUTPUT)


def _apply(name, z, xp):
    if name == "tanh":
        return xp.tanh(z)
    if name == "sigmoid":
        return _sigmoid(z, xp)
    if name == "relu":
        return xp.maximum(z, 0)
    return z


def _sigmoid(z, xp):
    # (1 + tanh(z / 2)) / 2: tanh saturates where 1 / (1 + e^-z) would need a guard against overflow
    return 0.5 * xp.tanh(0.5 * z) + 0.5


def _step_mask(mask, t):
    return None if mask is None else mask[:, t, None]


def _keep(mask_t, new, old, xp):
    """The new state where the step is valid, the previous one where it is masked."""
    return new if mask_t is None else xp.where(mask_t, new, old)


def _split_valid(mask_t, grad):
    """(the part of a state's gradient that reaches the step's computation, the part carried past it)."""
    if mask_t is None:
        return grad, 0
    return grad * mask_t, grad * ~mask_t


class SimpleRNNSequence(Function):
    """``H[:, t] = act(xw[:, t] + H[:, t-1] @ u)`` for t = 0..T-1 from ``H[:, -1] = h0``; returns H (B, T, n).

    Backward, with dh the gradient reaching h_t (from the output and from step t+1):
    dz_t = dh * act'(h_t); d xw_t = dz_t; du += h_{t-1}^T dz_t; the gradient reaching h_{t-1} is dz_t u^T.
    """

    def forward(self, xw, h0, u, activation="tanh", mask=None):
        xp = xp_of(xw)
        steps = xw.shape[1]
        out = xp.empty(xw.shape, dtype=xw.dtype)
        h = h0
        for t in range(steps):
            new = _apply(activation, xw[:, t] + kernels.matmul(h, u), xp)
            h = _keep(_step_mask(mask, t), new, h, xp)
            out[:, t] = h
        self.h0, self.u, self.out, self.activation, self.mask = h0, u, out, activation, mask
        return out

    def backward(self, g):
        xp = xp_of(g)
        h0, u, out, mask = self.h0, self.u, self.out, self.mask
        derivative = _FROM_OUTPUT[self.activation]
        dxw = xp.empty(out.shape, dtype=out.dtype)
        du = xp.zeros(u.shape, dtype=u.dtype)
        dh = xp.zeros(h0.shape, dtype=out.dtype)
        for t in reversed(range(out.shape[1])):
            mask_t = _step_mask(mask, t)
            valid, carried = _split_valid(mask_t, dh + g[:, t])
            dz = valid if derivative is None else valid * derivative(out[:, t])
            dxw[:, t] = dz
            previous = out[:, t - 1] if t else h0
            du += kernels.matmul(previous.T, dz)
            dh = kernels.matmul(dz, u.T) + carried
        return dxw, dh, du


class LSTMSequence(Function):
    """The LSTM loop (module docstring); returns ``[H, C]`` packed along the last axis, shape (B, T, 2n).

    Backward, with dh and dc the gradients reaching h_t and c_t: do = dh tanh(c_t); dc += dh o (1 - tanh^2 c_t);
    di = dc g; dg = dc i; df = dc c_{t-1}; the gradient reaching c_{t-1} is dc f; the gates' pre-activations get
    di i (1 - i), df f (1 - f), dg (1 - g^2), do o (1 - o), which are d xw_t; du += h_{t-1}^T dz_t and the
    gradient reaching h_{t-1} is dz_t u^T.
    """

    def forward(self, xw, h0, c0, u, mask=None):
        xp = xp_of(xw)
        batch, steps, four_n = xw.shape
        n = four_n // 4
        gates = xp.empty(xw.shape, dtype=xw.dtype)
        out = xp.empty((batch, steps, 2 * n), dtype=xw.dtype)
        h, c = h0, c0
        for t in range(steps):
            z = xw[:, t] + kernels.matmul(h, u)
            mask_t = _step_mask(mask, t)
            h_t, c_t = out[:, t, :n], out[:, t, n:]
            kernels.lstm_step(z, c, gates[:, t], c_t, h_t)
            if mask_t is not None:
                h_t[...], c_t[...] = xp.where(mask_t, h_t, h), xp.where(mask_t, c_t, c)
            h, c = h_t, c_t
        self.h0, self.c0, self.u, self.gates, self.out, self.mask = h0, c0, u, gates, out, mask
        return out

    def backward(self, g):
        xp = xp_of(g)
        h0, c0, u, gates, out, mask = self.h0, self.c0, self.u, self.gates, self.out, self.mask
        n = h0.shape[1]
        dxw = xp.empty(gates.shape, dtype=out.dtype)
        du = xp.zeros(u.shape, dtype=u.dtype)
        dh = xp.zeros(h0.shape, dtype=out.dtype)
        dc = xp.zeros(c0.shape, dtype=out.dtype)
        for t in reversed(range(out.shape[1])):
            mask_t = _step_mask(mask, t)
            dh_valid, dh_carried = _split_valid(mask_t, dh + g[:, t, :n])
            dc_valid, dc_carried = _split_valid(mask_t, dc + g[:, t, n:])
            c_previous = out[:, t - 1, n:] if t else c0
            h_previous = out[:, t - 1, :n] if t else h0
            dz = dxw[:, t]
            dc = kernels.lstm_step_grad(dh_valid, dc_valid, gates[:, t], c_previous, out[:, t, n:], dz) + dc_carried
            du += kernels.matmul(h_previous.T, dz)
            dh = kernels.matmul(dz, u.T) + dh_carried
        return dxw, dh, dc, du


class GRUSequence(Function):
    """The GRU loop (module docstring); returns H (B, T, n). ``b_rec`` (3n,) is the recurrent bias of the
    ``reset_after`` variant (None: none, or the other variant).

    Backward, with dh the gradient reaching h_t: dz = dh (h_{t-1} - hh); d hh = dh (1 - z); da_h = d hh (1 - hh^2)
    (which is d xw_h); with reset_after dr = da_h a_h and the recurrent pre-activation gets [dz', dr', da_h r],
    without it d(r h_{t-1}) = da_h U_h^T, dr = d(r h_{t-1}) h_{t-1}; primes are the sigmoid's z (1 - z) factor.
    """

    def forward(self, xw, h0, u, b_rec=None, reset_after=True, mask=None):
        xp = xp_of(xw)
        steps, n = xw.shape[1], h0.shape[1]
        saved = xp.empty(xw.shape[:2] + (4 * n,), dtype=xw.dtype)  # z, r, hh and a_h (reset_after) per step
        out = xp.empty(xw.shape[:2] + (n,), dtype=xw.dtype)
        h = h0
        for t in range(steps):
            x_t, keep = xw[:, t], saved[:, t]
            h_t = out[:, t]
            if reset_after:
                a = kernels.matmul(h, u)
                if b_rec is not None:
                    a += b_rec
                kernels.gru_step(x_t, a, h, keep, h_t)
            else:
                zr = _sigmoid(x_t[:, :2 * n] + kernels.matmul(h, u[:, :2 * n]), xp)
                hh = xp.tanh(x_t[:, 2 * n:] + kernels.matmul(zr[:, n:] * h, u[:, 2 * n:]))
                keep[:, :2 * n], keep[:, 2 * n:3 * n] = zr, hh
                z = zr[:, :n]
                h_t[...] = z * h + (1 - z) * hh
            mask_t = _step_mask(mask, t)
            if mask_t is not None:
                h_t[...] = xp.where(mask_t, h_t, h)
            h = h_t
        self.h0, self.u, self.saved, self.out, self.mask = h0, u, saved, out, mask
        self.reset_after, self.has_bias = reset_after, b_rec is not None
        return out

    def backward(self, g):
        xp = xp_of(g)
        h0, u, saved, out, mask = self.h0, self.u, self.saved, self.out, self.mask
        n = h0.shape[1]
        dxw = xp.empty(out.shape[:2] + (3 * n,), dtype=out.dtype)
        du = xp.zeros(u.shape, dtype=u.dtype)
        db = xp.zeros((3 * n,), dtype=out.dtype) if self.has_bias else None
        dh = xp.zeros(h0.shape, dtype=out.dtype)
        for t in reversed(range(out.shape[1])):
            valid, carried = _split_valid(_step_mask(mask, t), dh + g[:, t])
            keep = saved[:, t]
            z, r, hh = keep[:, :n], keep[:, n:2 * n], keep[:, 2 * n:3 * n]
            h_previous = out[:, t - 1] if t else h0
            dz = dxw[:, t]
            if self.reset_after:
                da = xp.empty((valid.shape[0], 3 * n), dtype=out.dtype)
                direct = kernels.gru_step_grad(valid, keep, h_previous, dz, da)
                du += kernels.matmul(h_previous.T, da)
                if db is not None:
                    db += da.sum(axis=0)
                dh = kernels.matmul(da, u.T) + direct + carried
                continue
            da_h = valid * (1 - z) * (1 - hh * hh)
            dz[:, :n] = valid * (h_previous - hh) * z * (1 - z)
            dz[:, 2 * n:] = da_h
            d_reset_h = kernels.matmul(da_h, u[:, 2 * n:].T)
            dz[:, n:2 * n] = d_reset_h * h_previous * r * (1 - r)
            du[:, :2 * n] += kernels.matmul(h_previous.T, dz[:, :2 * n])
            du[:, 2 * n:] += kernels.matmul((r * h_previous).T, da_h)
            dh = kernels.matmul(dz[:, :2 * n], u[:, :2 * n].T) + d_reset_h * r + valid * z + carried
        return (dxw, dh, du) if db is None else (dxw, dh, du, db)
