"""An LSTM(128) training step beside PyTorch's ``nn.LSTM`` in the same run (issue 17's speed figure).

The model of row-by-row sequential MNIST: each image as 28 steps of 28 pixels, LSTM(128) then Dense(10) with
softmax cross-entropy, Adam, batch 128, float32, random data (the speed does not depend on the values). Neurona's
step is ``model.train_step`` (the fused whole-sequence LSTM op, ``ops/recurrent.py``); PyTorch's the usual
``zero_grad``, forward, ``backward``, ``step`` on ``nn.LSTM(28, 128, batch_first=True)`` and ``nn.Linear``. The
two are timed in turn, rotated each round after a pause (``timing.interleaved``); medians over the rounds.

    python benchmarks/lstm_step.py [--steps 20] [--rounds 5]
"""

import argparse
import functools
import pathlib
import statistics
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import timing  # noqa: E402  (benchmarks/timing.py)

import neurona as nr  # noqa: E402
from neurona import layers, models  # noqa: E402

BATCH, STEPS, FEATURES, UNITS = 128, 28, 28, 128


def neurona_steps(model, x, y, steps):
    for _ in range(steps):
        model.train_step((x, y))


def torch_steps(torch, parts, x, y, steps):
    lstm, head, optimizer, loss = parts
    for _ in range(steps):
        optimizer.zero_grad()
        out, _ = lstm(x)
        loss(head(out[:, -1]), y).backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="training steps per round (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    import torch

    rng = np.random.default_rng(0)
    x = rng.random((BATCH, STEPS, FEATURES), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH)
    nr.seed(0)
    model = models.Sequential([layers.Input((STEPS, FEATURES)), layers.LSTM(UNITS),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(FEATURES, UNITS, batch_first=True), torch.nn.Linear(UNITS, 10)
    parts = (lstm, head, torch.optim.Adam([*lstm.parameters(), *head.parameters()]), torch.nn.CrossEntropyLoss())
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
    print(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads); LSTM({UNITS}) + Dense(10) on "
          f"({BATCH}, {STEPS}, {FEATURES}); {args.steps} steps per round, {args.rounds} rounds")
    print(timing.blas_line())
    runs = {"neurona": functools.partial(neurona_steps, model, x, labels, args.steps),
            "pytorch": functools.partial(torch_steps, torch, parts, tx, ty, args.steps)}
    for run in runs.values():  # warm up
        run()

    def report(r, times):
        print(f"round {r + 1}: " + "  ".join(f"{name} {t[-1] * 1e3 / args.steps:.1f} ms/step"
                                             for name, t in times.items()))

    times = timing.interleaved(runs, args.rounds, report)
    med = {name: statistics.median(t) * 1e3 / args.steps for name, t in times.items()}
    for name, m in med.items():
        print(f"{name:8s} median {m:.1f} ms/step")
    print(f"ratio neurona / pytorch = {med['neurona'] / med['pytorch']:.2f}  (goal <= 1.0)")


if __name__ == "__main__":
    main()
