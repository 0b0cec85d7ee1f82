"""Time one BatchNormalization training step (forward + backward) against PyTorch and hand-written NumPy.

Input: a (128, 24, 24, 64) float32 batch, channels last (the layout of Neurona's
Conv2D), with a random upstream gradient. Three implementations of the same
math, batch statistics plus gradients for x, gamma and beta:

- neurona: ``layers.BatchNormalization()(x, training=True)`` then ``backward``
  (includes the graph bookkeeping and the moving-average update);
- PyTorch: ``torch.nn.BatchNorm2d(64)`` in training mode on the same values in
  its native NCHW layout, ``torch.set_num_threads(--threads)``;
- NumPy: the textbook forward and closed-form backward written by hand on the
  (N*H*W, C) matrix, with no autograd.

The script checks that the three agree, then prints the median time per step of
each and the ratios neurona / PyTorch and neurona / NumPy.

Run: python benchmarks/batchnorm_step.py [--repeats 15] [--threads 1]
"""

import argparse

import numpy as np
from timing import median_ms

import neurona as nr
from neurona import layers

SHAPE = (128, 24, 24, 64)
EPS = 1e-3


def numpy_step(x, dy, gamma, beta):
    """Hand-written batch norm over all axes but the last: forward, then d x, d gamma, d beta."""
    c = x.shape[-1]
    x2, dy2 = x.reshape(-1, c), dy.reshape(-1, c)
    m = x2.shape[0]
    mean = x2.mean(axis=0)
    xc = x2 - mean
    inv_std = 1.0 / np.sqrt((xc * xc).mean(axis=0) + EPS)
    x_hat = xc * inv_std
    y = x_hat * gamma + beta
    d_beta = dy2.sum(axis=0)
    d_gamma = (dy2 * x_hat).sum(axis=0)
    dx = (gamma * inv_std / m) * (m * dy2 - d_beta - x_hat * d_gamma)
    return y.reshape(x.shape), dx.reshape(x.shape), d_gamma, d_beta


def neurona_step(layer, x, dy):
    xt = nr.Tensor(x, requires_grad=True)
    y = layer(xt, training=True)
    y.backward(dy)
    return y.data, xt.grad, layer.gamma.grad, layer.beta.grad


def torch_step(torch, bn, x_nchw, dy_nchw):
    x = x_nchw.detach().requires_grad_(True)
    bn.zero_grad(set_to_none=True)
    y = bn(x)
    y.backward(dy_nchw)
    return y, x.grad, bn.weight.grad, bn.bias.grad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads (NumPy runs on one core)")
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()
    try:
        import torch
    except ImportError:
        raise SystemExit("this benchmark needs PyTorch: pip install torch") from None
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 2.0, SHAPE).astype("float32")
    dy = rng.standard_normal(SHAPE).astype("float32")
    gamma, beta = np.ones(SHAPE[-1], "float32"), np.zeros(SHAPE[-1], "float32")

    layer = layers.BatchNormalization(epsilon=EPS)
    layer.build_for(SHAPE)
    bn = torch.nn.BatchNorm2d(SHAPE[-1], eps=EPS).train()
    x_t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    dy_t = torch.from_numpy(dy.transpose(0, 3, 1, 2).copy())

    ours, ref = neurona_step(layer, x, dy), numpy_step(x, dy, gamma, beta)
    theirs = torch_step(torch, bn, x_t, dy_t)
    theirs = [theirs[0].detach().numpy().transpose(0, 2, 3, 1), theirs[1].numpy().transpose(0, 2, 3, 1),
              theirs[2].numpy(), theirs[3].numpy()]
    worst = max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12)) for other in (ref, theirs)
                for a, b in zip(ours, other))

    t_ours, t_torch, t_numpy = [], [], []
    for _ in range(args.repeats):  # interleaved, so that machine noise hits all three alike
        t_ours.append(median_ms(lambda: neurona_step(layer, x, dy), 1) / 1e3)
        t_torch.append(median_ms(lambda: torch_step(torch, bn, x_t, dy_t), 1) / 1e3)
        t_numpy.append(median_ms(lambda: numpy_step(x, dy, gamma, beta), 1) / 1e3)
    t_ours, t_torch, t_numpy = (float(np.median(t)) for t in (t_ours, t_torch, t_numpy))
    print(f"BatchNormalization forward + backward, {SHAPE} float32, median of {args.repeats}")
    print(f"largest relative difference between the implementations: {worst:.1e}")
    print(f"neurona              : {t_ours * 1e3:8.2f} ms")
    print(f"PyTorch ({args.threads} thread{'s' if args.threads > 1 else ''})  : {t_torch * 1e3:8.2f} ms")
    print(f"hand-written NumPy   : {t_numpy * 1e3:8.2f} ms")
    print(f"ratio neurona/PyTorch: {t_ours / t_torch:8.2f}")
    print(f"ratio neurona/NumPy  : {t_ours / t_numpy:8.2f}")


if __name__ == "__main__":
    main()
