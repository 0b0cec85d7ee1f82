"""PyTorch references for the ops PyTorch spells differently: channels-last conv and pooling with TensorFlow's
'same' padding, normalization, softmax over several axes, Keras-style clipped probability losses and label
smoothing. Written from the formulas, independent of Neurona's helpers.
"""

import numpy as np
import torch
import torch.nn.functional as F

from neurona import losses

EPS = losses.EPSILON


# ---- references (independent of Neurona's helpers) ------------------------------------------------
def tf_same(n, k, s, d):
    """TensorFlow 'same' padding along one axis: output ceil(n / s), the odd pixel after."""
    total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def th_pads(padding, spatial, kernel, strides, dilation):
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "same":
        return [tf_same(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation)]
    return list(padding)


def flat_pad(pads):  # F.pad wants the last axis first
    return tuple(p for pair in reversed(pads) for p in pair)


def th_conv(x, w, b=None, strides=(1, 1), padding="valid", dilation=(1, 1), relu=False):
    """Channels-last conv (NHWC / NLC input, HWIO / LIO kernel) through F.conv2d / F.conv1d."""
    d = x.ndim - 2
    pads = th_pads(padding, x.shape[1:-1], w.shape[:d], strides, dilation)
    xt = F.pad(x.movedim(-1, 1), flat_pad(pads))
    conv = F.conv2d if d == 2 else F.conv1d
    kernel = w.permute(2, 1, 0) if d == 1 else w.permute(3, 2, 0, 1)  # to (C_out, C_in, *taps)
    y = conv(xt, kernel, b, stride=strides, dilation=dilation).movedim(1, -1)
    return torch.relu(y) if relu else y


def th_pool(x, kind, pool, strides, padding="valid"):
    """Channels-last pooling; 'same' pads with -inf (max) or divides by the real cells per window (avg)."""
    d = x.ndim - 2
    pads = flat_pad(th_pads(padding, x.shape[1:-1], pool, strides, (1,) * d))
    xt = x.movedim(-1, 1)
    if kind == "max":
        y = (F.max_pool2d if d == 2 else F.max_pool1d)(F.pad(xt, pads, value=-np.inf), pool, strides)
    else:
        avg = F.avg_pool2d if d == 2 else F.avg_pool1d
        total = avg(F.pad(xt, pads), pool, strides) * float(np.prod(pool))
        count = avg(F.pad(torch.ones_like(xt[:1, :1]), pads), pool, strides) * float(np.prod(pool))
        y = total / count
    return y.movedim(1, -1)


def th_norm(x, gamma, beta, axes, eps, kept_params=True):
    mean = x.mean(dim=axes, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
    y = (x - mean) / torch.sqrt(var + eps)
    if kept_params:  # batch norm: parameters have the kept axes' shape
        gamma, beta = (None if p is None else p.reshape(mean.shape) for p in (gamma, beta))
    return y * (1.0 if gamma is None else gamma) + (0.0 if beta is None else beta)


def th_softmax(x, axes, log=False):
    lse = torch.logsumexp(x, dim=axes, keepdim=True)
    return x - lse if log else torch.exp(x - lse)


def th_bce(y, p, axis=-1):
    pc = p.clamp(EPS, 1 - EPS)
    return -(y * torch.log(pc) + (1 - y) * torch.log(1 - pc)).mean(axis)


def th_cce_prob(y, p, axis=-1):
    return -(y * torch.log((p / p.sum(axis, keepdim=True)).clamp(EPS, 1 - EPS))).sum(axis)


def th_scce_prob(labels, p, axis=-1):
    pc = (p / p.sum(axis, keepdim=True)).clamp(EPS, 1 - EPS)
    return -torch.log(pc.gather(axis, labels.unsqueeze(axis))).squeeze(axis)


def smooth(y, s, classes):
    return y * (1 - s) + s / classes


def tdim(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def pair(v):
    """A pool size, stride or dilation given as an int or a sequence, as a tuple (an int for both axes)."""
    return (v, v) if isinstance(v, int) else tuple(v)
