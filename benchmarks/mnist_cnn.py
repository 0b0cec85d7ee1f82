"""The Keras MNIST CNN: test accuracy after 12 epochs, and epoch time beside PyTorch's CPU build.

Two modes:

- ``accuracy``: trains examples/mnist_cnn.py's model (Adadelta lr 1.0, batch 128) on the full MNIST for
  ``--epochs`` epochs, prints the test accuracy and writes the history (the issue's target: >= 99.2% after 12).
- ``speed``: times ``--steps`` training steps of Neurona (``model.train_step``) and of the same network in
  PyTorch (same layers, Adadelta, cross-entropy, dropout, batch 128) in turn, several rounds, on the same
  batches, and prints milliseconds per step, the extrapolated epoch time and the ratio Neurona / PyTorch.
  ``--profile`` adds where Neurona's step time goes (cProfile, top functions).

    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py speed [--steps 40] [--rounds 3]
    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py accuracy [--epochs 12] [--seed 0]
    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py accuracy --framework pytorch [--seed 0]
"""

import argparse
import cProfile
import pathlib
import pstats
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))

import mnist_cnn  # noqa: E402  (examples/mnist_cnn.py: the model as a Keras user writes it)

import neurona as nr  # noqa: E402

BATCH = 128


def torch_model():
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25), torch.nn.Flatten(), torch.nn.Linear(9216, 128),
        torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(128, 10))


def speed(args):
    import torch

    (x_train, y_train), _ = mnist_cnn.load()
    rng = np.random.default_rng(0)
    batches = [rng.choice(len(x_train), BATCH, replace=False) for _ in range(args.steps)]
    nr.seed(0)
    model = mnist_cnn.build_model()
    torch.manual_seed(0)
    tmodel = torch_model()
    topt = torch.optim.Adadelta(tmodel.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    tloss = torch.nn.CrossEntropyLoss()
    tx = torch.from_numpy(x_train.transpose(0, 3, 1, 2).copy())  # NCHW, PyTorch's layout
    ty = torch.from_numpy(y_train.argmax(1))

    def neurona_steps():
        for idx in batches:
            model.train_step(x_train[idx], y_train[idx])

    def torch_steps():
        tmodel.train()
        for idx in batches:
            i = torch.from_numpy(idx)
            topt.zero_grad()
            tloss(tmodel(tx[i]), ty[i]).backward()
            topt.step()

    print(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads); {args.steps} steps of batch {BATCH} "
          f"per round, {args.rounds} rounds")
    model.train_step(x_train[batches[0]], y_train[batches[0]])  # warm up both
    torch_steps()
    times = {"neurona": [], "pytorch": []}
    for r in range(args.rounds):
        for name, fn in (("neurona", neurona_steps), ("pytorch", torch_steps)):
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) / args.steps)
        print(f"round {r + 1}: neurona {times['neurona'][-1] * 1e3:.1f} ms/step  "
              f"pytorch {times['pytorch'][-1] * 1e3:.1f} ms/step")
    steps_per_epoch = -(-len(x_train) // BATCH)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, m in med.items():
        print(f"{name:8s} median {m * 1e3:.1f} ms/step -> {m * steps_per_epoch:.1f} s per epoch of "
              f"{steps_per_epoch} steps")
    print(f"ratio neurona / pytorch = {med['neurona'] / med['pytorch']:.2f}  (target <= 1.0)")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        neurona_steps()
        profiler.disable()
        print(f"\nwhere Neurona's time goes ({args.steps} steps):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def torch_accuracy(args):
    """The same recipe in PyTorch: the reference for what 12 epochs of it reach on this data."""
    import torch

    (x_train, y_train), (x_test, y_test) = mnist_cnn.load()
    torch.manual_seed(args.seed)
    model = torch_model()
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x_train.transpose(0, 3, 1, 2).copy()), torch.from_numpy(y_train.argmax(1))
    vx, vy = torch.from_numpy(x_test.transpose(0, 3, 1, 2).copy()), y_test.argmax(1)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        for idx in torch.randperm(len(tx)).split(BATCH):
            opt.zero_grad()
            loss_fn(model(tx[idx]), ty[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(vx).argmax(1).numpy() == vy).mean())
        print(f"pytorch epoch {epoch + 1}: test accuracy {acc:.4f}", flush=True)
    print(f"pytorch {args.epochs} epochs: test accuracy {acc:.4f}, {(time.perf_counter() - start) / 60:.1f} min")


def accuracy(args):
    if args.framework == "pytorch":
        return torch_accuracy(args)
    nr.seed(args.seed)
    start = time.perf_counter()
    loss, acc = mnist_cnn.main(args.epochs, args.history, verbose=args.verbose)
    print(f"{args.epochs} epochs: test accuracy {acc:.4f} (target >= 0.992), "
          f"{(time.perf_counter() - start) / 60:.1f} min")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--steps", type=int, default=40)
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--profile", action="store_true")
    a = sub.add_parser("accuracy")
    a.add_argument("--epochs", type=int, default=12)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--history", default="runs/mnist_cnn_history.json")
    a.add_argument("--verbose", type=int, default=2)
    a.add_argument("--framework", default="neurona", choices=["neurona", "pytorch"],
                   help="pytorch trains the same recipe in PyTorch, as a reference")
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else accuracy(args)


if __name__ == "__main__":
    main()
