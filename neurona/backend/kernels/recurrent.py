"""Recurrent gate kernels: one time step of the LSTM and GRU gates, forward and backward, on (batch, units) rows.

With ``z`` the step's pre-activations (``x_t W + b + h_{t-1} U``), gates in Keras's order:

    lstm_step:      i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_c); c = f c_prev + i g; h = o tanh(c)
    lstm_step_grad: dc' = dc + dh o (1 - tanh(c)^2); dz = [dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2),
                    dh tanh(c) o(1-o)]; returns dc_prev = dc' f
    gru_step:       (reset_after) z, r = sigmoid(x_zr + a_zr); hh = tanh(x_h + r a_h); h = z h_prev + (1-z) hh
    gru_step_grad:  dz = dh (h_prev - hh) z(1-z); da_h = dh (1-z)(1-hh^2); dr = da_h a_h r(1-r)

(the equations of ``ops/recurrent.py``, which runs the loop over time). NumPy only: a numba version making one
pass over the units was measured slower, 40 against 18 ms for an LSTM(128) training step on (128, 28, 28)
(``benchmarks/lstm_step.py``): it calls the scalar exp and tanh of the C library per element, where NumPy's
vectorized ones process 16 float32 values at a time.
"""

from ..device import xp_of

__all__ = ["lstm_step", "lstm_step_grad", "gru_step", "gru_step_grad"]


def _sigmoid(z, xp):
    """``sigmoid(z) = (1 + tanh(z / 2)) / 2``: three passes, where ``1 / (1 + exp(-z))`` needs a guard against
    overflow; tanh saturates instead."""
    return 0.5 * xp.tanh(0.5 * z) + 0.5


def _lstm_scales(n, dtype, xp):
    """``(scale, shift)`` over the four gates [i, f, g, o]: sigmoid(v) = 0.5 tanh(0.5 v) + 0.5 and g = tanh(v),
    so all four are ``shift + scale * tanh(scale' v)`` with one tanh over the whole (B, 4n) block."""
    scale = xp.full(4 * n, 0.5, dtype=dtype)
    scale[2 * n:3 * n] = 1.0
    shift = xp.full(4 * n, 0.5, dtype=dtype)
    shift[2 * n:3 * n] = 0.0
    return scale, shift


def lstm_step(z, c_prev, gates, c, h):
    """The LSTM gates of one step: ``gates`` (B, 4n) gets [i, f, g, o], ``c`` and ``h`` (B, n) the new states
    (``z`` is overwritten)."""
    xp, n = xp_of(z), c.shape[1]
    scale, shift = _lstm_scales(n, z.dtype, xp)
    xp.multiply(z, scale, out=z)
    xp.tanh(z, out=z)
    xp.multiply(z, scale, out=z)
    xp.add(z, shift, out=gates)
    i, f, g, o = gates[:, :n], gates[:, n:2 * n], gates[:, 2 * n:3 * n], gates[:, 3 * n:]
    c[...] = f * c_prev + i * g
    h[...] = o * xp.tanh(c)


def lstm_step_grad(dh, dc, gates, c_prev, c, dz):
    """The gradient through one LSTM step's gates: ``dz`` (B, 4n) gets the pre-activations' gradient; returns the
    gradient reaching ``c_prev``."""
    xp, n = xp_of(dh), dh.shape[1]
    i, f, g, o = gates[:, :n], gates[:, n:2 * n], gates[:, 2 * n:3 * n], gates[:, 3 * n:]
    tanh_c = xp.tanh(c)
    dc = dc + dh * o * (1 - tanh_c * tanh_c)
    dz[:, :n] = dc * g * i * (1 - i)
    dz[:, n:2 * n] = dc * c_prev * f * (1 - f)
    dz[:, 2 * n:3 * n] = dc * i * (1 - g * g)
    dz[:, 3 * n:] = dh * tanh_c * o * (1 - o)
    return dc * f


def gru_step(x, a, h_prev, keep, h):
    """The reset_after GRU gates of one step: ``keep`` (B, 4n) gets [z, r, hh, a_h], ``h`` (B, n) the new state."""
    xp, n = xp_of(x), h.shape[1]
    zr = _sigmoid(x[:, :2 * n] + a[:, :2 * n], xp)
    hh = xp.tanh(x[:, 2 * n:] + zr[:, n:] * a[:, 2 * n:])
    keep[:, :2 * n], keep[:, 2 * n:3 * n], keep[:, 3 * n:] = zr, hh, a[:, 2 * n:]
    z = zr[:, :n]
    h[...] = z * h_prev + (1 - z) * hh


def gru_step_grad(dh, keep, h_prev, dx, da):
    """The gradient through one reset_after GRU step's gates: ``dx`` (B, 3n) gets the input pre-activations'
    gradient, ``da`` (B, 3n) the recurrent ones'; returns the part of the gradient reaching ``h_prev`` directly
    (through ``z h_prev``; the caller adds ``da U^T``)."""
    n = dh.shape[1]
    z, r, hh, a_h = keep[:, :n], keep[:, n:2 * n], keep[:, 2 * n:3 * n], keep[:, 3 * n:]
    da_h = dh * (1 - z) * (1 - hh * hh)
    dx[:, :n] = da[:, :n] = dh * (h_prev - hh) * z * (1 - z)
    dx[:, n:2 * n] = da[:, n:2 * n] = da_h * a_h * r * (1 - r)
    dx[:, 2 * n:] = da_h
    da[:, 2 * n:] = da_h * r
    return dh * z
