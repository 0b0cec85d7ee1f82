"""One convolution layer, forward and backward, beside PyTorch's CPU build in the same run.

Times ``ops.conv2d(x, w, bias=b, activation="relu")`` (forward, then backward
to the input, kernel and bias) on the MNIST CNN's two convolutions, and
PyTorch's ``relu(conv2d(x, w, b))`` on the same data (NCHW, its layout), and
prints milliseconds and the ratio. Neurona runs inside ``blas.single_threaded()``
as a training step does (see ``neurona/backend/blas.py``). ``--no-fuse`` times the unfused
``relu(conv2d(...))`` instead; ``NEURONA_BLAS_CONTROL=0`` times the fallback
that leaves BLAS its own threads.

    python benchmarks/conv_layer.py [--batch 128] [--reps 10] [--no-fuse]
"""

import argparse

import numpy as np
from timing import median_ms

import neurona as nr
from neurona import ops
from neurona.backend import blas

LAYERS = {"conv1 (28x28x1 -> 32)": ((28, 28, 1), 32), "conv2 (26x26x32 -> 64)": ((26, 26, 32), 64)}


def neurona_step(x, w, b, g, fuse, input_grad):
    def run():
        with blas.single_threaded():
            step()

    def step():
        xt = nr.Tensor(x, requires_grad=input_grad)
        wt, bt = nr.Tensor(w, requires_grad=True), nr.Tensor(b, requires_grad=True)
        out = ops.conv2d(xt, wt, bias=bt, activation="relu") if fuse else ops.relu(ops.conv2d(xt, wt, bias=bt))
        out.backward(g)

    def forward():
        with nr.no_grad(), blas.single_threaded():
            ops.conv2d(nr.Tensor(x), nr.Tensor(w), bias=nr.Tensor(b), activation="relu")

    return forward, run


def torch_step(x, w, b, g, input_grad):
    import torch

    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(input_grad)
    tw = torch.from_numpy(w.transpose(3, 2, 0, 1).copy()).requires_grad_(True)
    tb = torch.from_numpy(b).requires_grad_(True)
    tg = torch.from_numpy(g.transpose(0, 3, 1, 2).copy())

    def run():
        torch.relu(torch.nn.functional.conv2d(tx, tw, tb)).backward(tg)

    def forward():
        with torch.no_grad():
            torch.relu(torch.nn.functional.conv2d(tx, tw, tb))

    return forward, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--no-fuse", action="store_true")
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()
    try:
        import torch
    except ImportError:
        torch = None
    print(f"batch {args.batch}; BLAS thread control: {blas.available()}; "
          f"PyTorch: {torch.__version__ + f' ({torch.get_num_threads()} threads)' if torch else 'not installed'}")
    rng = np.random.default_rng(0)
    for name, ((h, w_, c), filters) in LAYERS.items():
        x = rng.standard_normal((args.batch, h, w_, c), dtype=np.float32)
        w = rng.standard_normal((3, 3, c, filters), dtype=np.float32) * 0.1
        b = rng.standard_normal(filters, dtype=np.float32)
        g = rng.standard_normal((args.batch, h - 2, w_ - 2, filters), dtype=np.float32)
        input_grad = c > 1  # the first layer's input is the data: no gradient, as in training
        nf, nstep = neurona_step(x, w, b, g, not args.no_fuse, input_grad)
        line = f"{name}: neurona forward {median_ms(nf, args.reps, warmup=1):6.1f} ms  forward+backward " \
               f"{median_ms(nstep, args.reps, warmup=1):6.1f} ms"
        if torch is not None:
            tf, tstep = torch_step(x, w, b, g, input_grad)
            t_fwd, t_step = median_ms(tf, args.reps, warmup=1), median_ms(tstep, args.reps, warmup=1)
            n_step = median_ms(nstep, args.reps, warmup=1)
            line += f" | pytorch forward {t_fwd:6.1f} ms  forward+backward {t_step:6.1f} ms | " \
                    f"ratio (forward+backward, re-timed) {n_step / t_step:.2f}"
        print(line)


if __name__ == "__main__":
    main()
