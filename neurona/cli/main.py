"""``neurona``: train and inspect networks from the command line.

Subcommands:
    demo     train a dense network on MNIST and print its test accuracy (under a minute on two cores)
    train    train a chosen model with a chosen initializer, optimizer and schedule of epochs
             (--save DIR checkpoints every epoch, --resume DIR continues a checkpointed run)
    info     print the summary of a saved model
    predict  run a saved model on a .npy file of inputs
"""

import argparse
import json
import sys
import time

from . import saving_commands

ARCHITECTURES = ("mlp",)


def build_model(name, init, hidden):
    """The named architecture for 28x28 MNIST images flattened to 784 features."""
    from .. import initializers, layers, models

    if name != "mlp":
        raise SystemExit(f"neurona: unknown model {name!r}; available: {', '.join(ARCHITECTURES)}")
    kernel_init = initializers.get(init)  # unseeded: nr.seed() makes the run reproducible
    return models.Sequential([
        layers.Input((784,)),
        *[layers.Dense(units, activation="relu", kernel_initializer=kernel_init) for units in hidden],
        layers.Dense(10, activation="softmax"),
    ])


def load_mnist(source):
    """Pixels scaled to [0, 1] and flattened, one-hot training labels."""
    from .. import datasets, utils

    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(source=source)
    x_train = datasets.preprocessing.flatten_images(datasets.preprocessing.scale_pixels(x_train))
    x_test = datasets.preprocessing.flatten_images(datasets.preprocessing.scale_pixels(x_test))
    return (x_train, utils.to_categorical(y_train, 10)), (x_test, utils.to_categorical(y_test, 10))


def run_training(args):
    """Build, compile, train and evaluate; returns (history, test loss, test accuracy, seconds)."""
    import neurona as nr

    from .. import optimizers

    if args.seed is not None:
        nr.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    model = build_model(args.model, args.init, args.hidden)
    optimizer = optimizers.get(args.optimizer)
    if args.lr is not None:
        optimizer.learning_rate = args.lr
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    if args.verbose:
        model.summary()
    save = getattr(args, "save", None)  # train --save DIR: a checkpoint after every epoch
    if save:
        saving_commands.mark_preprocessing(model)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=args.validation_split, verbose=args.verbose,
                        callbacks=[saving_commands.save_callback(args, save)] if save else None)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return history, loss, accuracy, seconds


def cmd_demo(args):
    # the benchmark's recipe (benchmarks/mnist_mlp.py): Adam at 2e-3 beats Keras's default 1e-3 after 5 epochs
    args.model, args.init, args.hidden, args.optimizer, args.lr = "mlp", "he_normal", [128], "adam", 0.002
    args.batch_size, args.validation_split, args.verbose = 128, 0.0, 1
    print("Neurona demo: a 784-128-10 ReLU network, he_normal initialization, Adam (lr 0.002), batch 128")
    _, loss, accuracy, seconds = run_training(args)
    print(f"test accuracy: {accuracy:.4f}  (test loss {loss:.4f}; trained in {seconds:.1f}s)")


def cmd_train(args):
    if args.resume:
        history, loss, accuracy, seconds = saving_commands.resume_training(args, load_mnist)
    else:
        args.epochs = 5 if args.epochs is None else args.epochs
        history, loss, accuracy, seconds = run_training(args)
    print(f"test accuracy: {accuracy:.4f}  test loss: {loss:.4f}  training time: {seconds:.1f}s")
    if args.history:
        record = {"args": {k: v for k, v in vars(args).items() if k != "func"}, "history": history.history,
                  "test_loss": loss, "test_accuracy": accuracy, "seconds": seconds}
        with open(args.history, "w") as f:
            json.dump(record, f, indent=2)
        print(f"history written to {args.history}")


def make_parser():
    parser = argparse.ArgumentParser(prog="neurona", description="Neurona: deep learning from first principles")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train a dense network on MNIST and print the test accuracy")
    demo.add_argument("--epochs", type=int, default=5)
    demo.add_argument("--data", default="auto", choices=["auto", "full", "embedded"],
                      help="MNIST source: full files if present (auto), or the embedded subset")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="train a model on MNIST")
    train.add_argument("--model", default="mlp", choices=ARCHITECTURES)
    train.add_argument("--init", default="he_normal", help="kernel initializer name, e.g. glorot_uniform")
    train.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer sizes")
    train.add_argument("--optimizer", default="adam")
    train.add_argument("--lr", type=float, default=None, help="learning rate (optimizer default if omitted)")
    train.add_argument("--epochs", type=int, default=None, help="default 5 (with --resume: the run's own)")
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--validation-split", type=float, default=0.0)
    train.add_argument("--data", default="auto", choices=["auto", "full", "embedded"])
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    train.add_argument("--history", default=None, help="write the history and test figures as JSON here")
    saving_commands.add_train_options(train)
    train.set_defaults(func=cmd_train)
    saving_commands.add_parsers(sub)
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        print(f"neurona {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
