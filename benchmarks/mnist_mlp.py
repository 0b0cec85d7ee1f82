"""MNIST MLP (784-128-10, ReLU, he_normal, Adam, batch 128): accuracy and epoch time.

Trains the same network three ways in one run, epoch by epoch in turn (rotated order, a pause before each
epoch: ``timing.interleaved``) so that machine noise hits all three alike:

- Neurona, through the Keras-style API (``model.fit``), progress bar off;
- a hand-written NumPy loop (forward, backward and Adam written out below);
- PyTorch's CPU build, if it is installed (``pip install torch==2.13.0``;
  never a dependency of Neurona).

It prints each epoch's seconds, the median epoch time of each, the ratios
Neurona / NumPy and Neurona / PyTorch, and the test accuracy of each after the
last epoch. Usage::

    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_mlp.py [--epochs 5] [--seed 0] [--lr 0.002]
"""

import argparse
import functools
import statistics

import numpy as np
import timing

import neurona as nr
from neurona import datasets, layers, models, utils

BATCH = 128
HIDDEN = 128
BETA_1, BETA_2, EPS = 0.9, 0.999, 1e-7  # Keras's Adam defaults, used by all three
# Learning rate 2e-3, not Keras's default 1e-3: at 1e-3 all three implementations end 5 epochs of batch 128 near
# 97.2-97.4% test accuracy; at 2e-3 near 97.6% (measured with --lr; see the README). Set with --lr.
DEFAULT_LR = 2e-3


def load(source):
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(source=source)
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255.0
    return x_train, y_train, x_test, y_test


class NeuronaRun:
    name = "neurona"

    def __init__(self, seed, lr):
        nr.seed(seed)
        self.model = models.Sequential([
            layers.Input((784,)),
            layers.Dense(HIDDEN, activation="relu", kernel_initializer="he_normal"),
            layers.Dense(10, activation="softmax"),
        ])
        self.model.compile(optimizer=nr.optimizers.Adam(lr, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPS),
                           loss="categorical_crossentropy", metrics=["accuracy"])

    def epoch(self, x, y, y_onehot):
        self.model.fit(x, y_onehot, batch_size=BATCH, epochs=1, verbose=0)

    def accuracy(self, x, y):
        return float((self.model.predict(x, batch_size=1000, verbose=0).argmax(1) == y).mean())


class NumpyRun:
    """The network written out by hand in NumPy, float32: the speed floor a framework is measured against."""

    name = "numpy"

    def __init__(self, seed, lr):
        self.lr = lr
        rng = np.random.default_rng(seed)
        self.rng = rng
        # he_normal (truncated normal, stddev sqrt(2/fan_in)/0.8796) and glorot_uniform, as the Keras model uses
        std = np.sqrt(2.0 / 784) / 0.87962566103423978
        w1 = rng.standard_normal((784, HIDDEN))
        while (bad := np.abs(w1) > 2).any():
            w1[bad] = rng.standard_normal(bad.sum())
        limit = np.sqrt(6.0 / (HIDDEN + 10))
        self.params = [(w1 * std).astype(np.float32), np.zeros(HIDDEN, np.float32),
                       rng.uniform(-limit, limit, (HIDDEN, 10)).astype(np.float32), np.zeros(10, np.float32)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, x):
        w1, b1, w2, b2 = self.params
        h = np.maximum(x @ w1 + b1, 0)
        return h, h @ w2 + b2

    def step(self, x, y_onehot):
        w1, b1, w2, b2 = self.params
        h, z = self.forward(x)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        dz = (p - y_onehot) / len(x)  # gradient of the mean cross-entropy w.r.t. the logits
        dh = (dz @ w2.T) * (h > 0)
        grads = [x.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
        self.t += 1
        alpha = self.lr * np.sqrt(1 - BETA_2**self.t) / (1 - BETA_1**self.t)
        for p_, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= BETA_1
            m += (1 - BETA_1) * g
            v *= BETA_2
            v += (1 - BETA_2) * (g * g)
            p_ -= alpha * m / (np.sqrt(v) + EPS)

    def epoch(self, x, y, y_onehot):
        order = self.rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            self.step(x[idx], y_onehot[idx])

    def accuracy(self, x, y):
        return float((self.forward(x)[1].argmax(1) == y).mean())


class TorchRun:
    name = "pytorch"

    def __init__(self, seed, lr):
        import torch

        self.torch = torch
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
        torch.nn.init.kaiming_normal_(self.model[0].weight, nonlinearity="relu")
        torch.nn.init.zeros_(self.model[0].bias)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, betas=(BETA_1, BETA_2), eps=EPS)
        self.loss = torch.nn.CrossEntropyLoss()
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self, x, y, y_onehot):
        torch = self.torch
        x, y = self._tensors(x, y)
        order = torch.randperm(len(x), generator=self.generator)
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            self.opt.zero_grad()
            self.loss(self.model(x[idx]), y[idx]).backward()
            self.opt.step()

    def _tensors(self, x, y):
        if getattr(self, "_cache_key", None) is not x:
            self._cache = (self.torch.from_numpy(x), self.torch.from_numpy(y.astype(np.int64)))
            self._cache_key = x
        return self._cache

    def accuracy(self, x, y):
        with self.torch.no_grad():
            return float((self.model(self.torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def train_all(seed, lr, epochs, data, use_torch, times):
    """Train the three implementations from one seed, epochs interleaved; returns their test accuracies."""
    x_train, y_train, x_test, y_test, y_onehot = data
    runs = [NeuronaRun(seed, lr), NumpyRun(seed, lr)] + ([TorchRun(seed, lr)] if use_torch else [])

    def report(epoch, seed_times):
        print(f"seed {seed} epoch {epoch + 1}: " + "  ".join(f"{name} {t[-1]:.3f}s" for name, t in seed_times.items()))

    # one epoch of each per round, in rotated order with a pause before each (timing.interleaved): machine noise
    # hits every run alike, and none pays for another's idle threads
    seed_times = timing.interleaved({run.name: functools.partial(run.epoch, x_train, y_train, y_onehot)
                                     for run in runs}, epochs, report)
    for name, t in seed_times.items():
        times.setdefault(name, []).extend(t)
    return {run.name: run.accuracy(x_test, y_test) for run in runs}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="one training run per seed (accuracy varies by about 0.1%% between seeds)")
    parser.add_argument("--source", default="full", choices=["full", "auto", "embedded"],
                        help="which MNIST (full needs the original files, e.g. NEURONA_DATA_DIR=../shared/data)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--lr", type=float, default=DEFAULT_LR, help="Adam learning rate for all three runs")
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()

    x_train, y_train, x_test, y_test = load(args.source)
    data = (x_train, y_train, x_test, y_test, utils.to_categorical(y_train, 10))
    use_torch = False
    if not args.no_torch:
        try:
            import torch

            use_torch = True
            print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
        except ImportError:
            print("PyTorch not installed: comparing with the NumPy loop only (pip install torch==2.13.0)")
    print(f"MNIST {len(x_train)} train / {len(x_test)} test; 784-{HIDDEN}-10 ReLU, he_normal, "
          f"Adam(lr={args.lr}), batch {BATCH}, {args.epochs} epochs, seeds {args.seeds}")
    print(timing.blas_line())

    times, accuracies = {}, {}
    for seed in args.seeds:
        for name, acc in train_all(seed, args.lr, args.epochs, data, use_torch, times).items():
            accuracies.setdefault(name, []).append(acc)

    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"\nmedian seconds per epoch over {len(times['neurona'])} epochs: "
          + "  ".join(f"{name} {m:.3f}" for name, m in median.items()))
    print(f"ratio neurona / numpy   = {median['neurona'] / median['numpy']:.3f}  (target <= 1.25)")
    if "pytorch" in median:
        print(f"ratio neurona / pytorch = {median['neurona'] / median['pytorch']:.3f}  (target < 1.0)")
    print(f"\ntest accuracy after {args.epochs} epochs (target >= 0.975):")
    for name, accs in accuracies.items():
        print(f"  {name:8s} mean {statistics.mean(accs):.4f}  min {min(accs):.4f}  max {max(accs):.4f}  "
              f"per seed {' '.join(f'{a:.4f}' for a in accs)}")


if __name__ == "__main__":
    main()
