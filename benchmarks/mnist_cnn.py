"""The Keras MNIST CNN: test accuracy after 12 epochs, and epoch time beside PyTorch's CPU build.

Two modes:

- ``accuracy``: trains examples/mnist_cnn.py's model (Adadelta lr 1.0, batch 128) on the full MNIST for
  ``--epochs`` epochs, prints the test accuracy and writes the history (the issue's target: >= 99.2% after 12).
- ``speed``: times ``--steps`` training steps of Neurona (``model.train_step``) and of the same network in
  PyTorch (same layers, Adadelta, cross-entropy, dropout, batch 128) in turn (rotated order, a pause before
  each: ``timing.interleaved``), several rounds, on the same
  batches, and prints milliseconds per step, the extrapolated epoch time and the ratio Neurona / PyTorch.
  ``--profile`` adds where Neurona's step time goes (wall-clock time per op and in the optimizer).
  ``--keras`` adds Keras 3 itself (``train_on_batch`` on its PyTorch backend; ``pip install keras``) as a
  third column, for users who compare with Keras.

    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py speed [--steps 40] [--rounds 3] [--keras]
    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py accuracy [--epochs 12] [--seed 0]
    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py accuracy --framework pytorch [--seed 0]
    NEURONA_DATA_DIR=../shared/data python benchmarks/mnist_cnn.py accuracy --framework keras [--seed 0]
"""

import argparse
import collections
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))

import mnist_cnn  # noqa: E402  (examples/mnist_cnn.py: the model as a Keras user writes it)
import timing  # noqa: E402  (benchmarks/timing.py)

import neurona as nr  # noqa: E402

BATCH = 128


def torch_model():
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25), torch.nn.Flatten(), torch.nn.Linear(9216, 128),
        torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(128, 10))


def keras_model(seed=0):
    """The Keras example's model and optimizer in Keras 3 (on PyTorch unless ``KERAS_BACKEND`` says otherwise)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adadelta(learning_rate=1.0),
                  metrics=["accuracy"])
    return model


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

    runners = {"neurona": neurona_steps, "pytorch": torch_steps}
    if args.keras:
        kmodel = keras_model()

        def keras_steps():
            for idx in batches:
                kmodel.train_on_batch(x_train[idx], y_train[idx])

        runners["keras"] = keras_steps
    print(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads); {args.steps} steps of batch {BATCH} "
          f"per round, {args.rounds} rounds")
    print(timing.blas_line())
    model.train_step(x_train[batches[0]], y_train[batches[0]])  # warm up every framework
    for name, fn in runners.items():
        if name != "neurona":
            fn()
    def report(r, times):
        print(f"round {r + 1}: " + "  ".join(f"{name} {t[-1] * 1e3 / args.steps:.1f} ms/step"
                                           for name, t in times.items() if t))

    # rotated order and a pause before each run (timing.interleaved): none pays for another's idle threads
    times = timing.interleaved(runners, args.rounds, report)
    times = {name: [seconds / args.steps for seconds in t] for name, t in times.items()}
    steps_per_epoch = -(-len(x_train) // BATCH)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, m in med.items():
        print(f"{name:8s} median {m * 1e3:.1f} ms/step -> {m * steps_per_epoch:.1f} s per epoch of "
              f"{steps_per_epoch} steps")
    print(f"ratio neurona / pytorch = {med['neurona'] / med['pytorch']:.2f}  (target <= 1.0)")
    if "keras" in med:
        print(f"ratio neurona / keras   = {med['neurona'] / med['keras']:.2f}")
    if args.profile:
        print(f"\nwhere Neurona's step goes (wall-clock ms per step, mean of {args.steps} steps):")
        for name, ms in op_profile(model, neurona_steps, args.steps):
            print(f"  {name:32s} {ms:6.1f}")


def op_profile(model, run_steps, steps):
    """Wall-clock time per op (forward and backward separately) and in the optimizer, per step.

    Wraps every ``Function`` subclass's ``forward``/``backward`` and the optimizer's ``apply`` with
    timers for one run of ``run_steps``, then restores them. Work an op hands to other threads is
    inside its wall-clock time; "everything else" is Python, dropout masks, the loss and metrics.
    """
    from neurona.autograd import Function

    totals = collections.defaultdict(float)
    patched = []

    def timed(owner, attr, label):
        original = getattr(owner, attr)
        patched.append((owner, attr, original))

        def wrapper(*a, **k):
            start = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                totals[label] += time.perf_counter() - start
        setattr(owner, attr, wrapper)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for cls in set(subclasses(Function)):
        for attr in ("forward", "backward"):
            if attr in vars(cls):
                timed(cls, attr, f"{cls.__name__}.{attr}")
    timed(model.optimizer, "apply", f"{type(model.optimizer).__name__}.apply (optimizer)")
    start = time.perf_counter()
    try:
        run_steps()
    finally:
        for owner, attr, original in reversed(patched):
            if isinstance(owner, type):
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)  # the instance attribute hid the class's method
    total = time.perf_counter() - start
    rows = sorted(((k, v / steps * 1e3) for k, v in totals.items() if v / steps >= 5e-5), key=lambda kv: -kv[1])
    rows.append(("everything else", (total - sum(totals.values())) / steps * 1e3))
    rows.append(("total", total / steps * 1e3))
    return rows


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


def keras_accuracy(args):
    """The same program in Keras 3 itself (its initializers, Adadelta and loss; on PyTorch unless
    ``KERAS_BACKEND`` says otherwise): the reference for what this recipe reaches."""
    (x_train, y_train), (x_test, y_test) = mnist_cnn.load()
    model = keras_model(seed=args.seed)
    import keras

    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=BATCH, epochs=args.epochs, verbose=args.verbose,
              validation_data=(x_test, y_test))
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"keras {keras.__version__} ({keras.backend.backend()}) {args.epochs} epochs: test accuracy {acc:.4f}, "
          f"{(time.perf_counter() - start) / 60:.1f} min")


def accuracy(args):
    if args.framework == "pytorch":
        return torch_accuracy(args)
    if args.framework == "keras":
        return keras_accuracy(args)
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
    s.add_argument("--keras", action="store_true", help="also time Keras 3 (pip install keras)")
    a = sub.add_parser("accuracy")
    a.add_argument("--epochs", type=int, default=12)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--history", default="runs/mnist_cnn_history.json")
    a.add_argument("--verbose", type=int, default=2)
    a.add_argument("--framework", default="neurona", choices=["neurona", "pytorch", "keras"],
                   help="pytorch or keras (pip install keras; KERAS_BACKEND defaults to torch) trains the same "
                        "recipe there, as a reference")
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()
    speed(args) if args.mode == "speed" else accuracy(args)


if __name__ == "__main__":
    main()
