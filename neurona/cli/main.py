"""``neurona``: train and inspect networks from the command line.

Subcommands:
    demo     train a dense network on MNIST and print its test accuracy (under a minute on two cores)
    train    train a chosen model with a chosen initializer, optimizer and schedule of epochs
             (--save DIR checkpoints every epoch, --resume DIR continues a checkpointed run)
    info     print the summary of a saved model
    predict  run a saved model on a .npy file of inputs
    serve    serve a saved model (Neurona's or Keras's files) over HTTP
    lab      compare initializers on real data (lab compare) and reproduce published results (lab reproduce)
    compress quantize (int8, dynamic) or prune (magnitude, filters) a saved model into a new folder

Errors the user can act on are printed as one line ``neurona: error: ...`` on
stderr, with exit status 2 for a bad command line or input (nothing was done)
and 1 for a failure while running (e.g. a loss that became NaN); output paths
are checked before training, so a bad one costs no training time.
"""

import argparse
import json
import os
import sys
import time

from . import compress_command, lab_command, preflight, saving_commands, serve_command
from .saving_commands import bounded_int

ARCHITECTURES = ("mlp",)
# Upper limits of the count flags, named in their errors: beyond them a run would never end (epochs), or
# exhaust memory (units: a 784 x 8192 layer and its Adam slots already take 100 MB), or exceed MNIST itself.
MAX_EPOCHS = 100_000
MAX_UNITS = 8_192
MAX_BATCH_SIZE = 60_000  # the full MNIST training set; checked against the training split once data is loaded

# defaults of the train flags a resumed run takes from its checkpoint instead (their parser default is None, so
# that a flag given explicitly can be told apart and checked against the checkpoint)
TRAIN_DEFAULTS = {"model": "mlp", "init": "he_normal", "hidden": [128], "optimizer": "adam", "lr": None,
                  "batch_size": 128, "validation_split": 0.0, "data": "auto", "seed": None}


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


def training_strategy():
    """``DataParallel()`` when an MPI launcher started several processes (``mpirun -n 4 neurona train``), else None."""
    from .. import distributed

    if distributed.launched_under_mpi() and distributed.size() > 1:
        return distributed.DataParallel()
    return None


def on_rank_zero():
    """Whether this process prints and writes files: always, except on the ranks > 0 of an MPI run."""
    from .. import distributed

    return not distributed.launched_under_mpi() or distributed.rank() == 0


def run_training(args):
    """Build, compile, train and evaluate; returns (history, test loss, test accuracy, seconds).

    Under an MPI launcher with several processes, every process trains its part of each batch
    (``neurona.distributed.DataParallel``); rank 0 alone prints and writes checkpoints.
    """
    import neurona as nr

    from .. import optimizers

    if args.seed is not None:
        nr.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    check_batch_size(args.batch_size, len(x_train), args.validation_split, args.data)
    model = build_model(args.model, args.init, args.hidden)
    optimizer = optimizers.get(args.optimizer)
    if args.lr is not None:
        optimizer.learning_rate = args.lr
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    strategy = training_strategy()
    if args.verbose and on_rank_zero():
        model.summary()
    save = getattr(args, "save", None)  # train --save DIR: a checkpoint after every epoch
    if save:
        saving_commands.mark_preprocessing(model)
    saver = saving_commands.save_callback(args, save) if save else None
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=args.validation_split, verbose=args.verbose,
                        callbacks=[saver] if saver else None, distribute=strategy)
    seconds = time.perf_counter() - start
    if saver:
        saver.save_reference_statistics()
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, distribute=strategy)
    return history, loss, accuracy, seconds


def check_batch_size(batch_size, n_samples, validation_split, data):
    """Refuse a --batch-size larger than the training split, before any training (it would be one batch)."""
    n_train = n_samples - int(n_samples * validation_split)
    if batch_size > n_train:
        raise preflight.UsageError(f"--batch-size {batch_size} is larger than the {n_train} training samples of "
                                   f"--data {data} (after --validation-split {validation_split:g}); expected at "
                                   f"most {n_train}")


def cmd_demo(args):
    # the benchmark's recipe (benchmarks/mnist_mlp.py): Adam at 2e-3 beats Keras's default 1e-3 after 5 epochs
    args.model, args.init, args.hidden, args.optimizer, args.lr = "mlp", "he_normal", [128], "adam", 0.002
    args.batch_size, args.validation_split, args.verbose = 128, 0.0, 1
    print("Neurona demo: a 784-128-10 ReLU network, he_normal initialization, Adam (lr 0.002), batch 128")
    _, loss, accuracy, seconds = run_training(args)
    print(f"test accuracy: {accuracy:.4f}  (test loss {loss:.4f}; trained in {seconds:.1f}s)")


def check_train_paths(args):
    """Refuse unusable --save/--history paths before any training (see ``preflight``)."""
    save = args.save or args.resume  # a resumed run checkpoints into its own folder unless --save says otherwise
    if args.save:
        preflight.check_output_folder("--save", args.save)
    elif args.resume and os.path.isdir(args.resume):  # a missing one is reported by resume_training
        preflight.check_output_folder("--resume", args.resume)
    if args.history:
        preflight.check_output_file("--history", args.history)
        if save:
            preflight.check_not_inside("--history", args.history, "--save" if args.save else "--resume", save)


def cmd_train(args):
    check_train_paths(args)
    if args.resume:
        history, loss, accuracy, seconds = saving_commands.resume_training(args, load_mnist)
    else:
        for key, value in TRAIN_DEFAULTS.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        args.epochs = 5 if args.epochs is None else args.epochs
        history, loss, accuracy, seconds = run_training(args)
    if not on_rank_zero():  # the other processes of an MPI run trained with rank 0, which reports
        return
    print(f"test accuracy: {accuracy:.4f}  test loss: {loss:.4f}  training time: {seconds:.1f}s")
    if args.history:
        from ..saving.atomic import atomic_file

        record = {"args": {k: v for k, v in vars(args).items() if k != "func"}, "history": history.history,
                  "test_loss": loss, "test_accuracy": accuracy, "seconds": seconds}
        with atomic_file(args.history) as tmp:  # never a half-written record
            with open(tmp, "w") as f:
                json.dump(record, f, indent=2)
        print(f"history written to {args.history}")


def fraction(text):
    """An argparse type: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value:g}")
    return value


def positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {value:g}")
    return value


RESUME_HELP = """\
With --resume DIR the run continues from DIR's last completed epoch with the settings it was started
with: --model, --init, --hidden, --optimizer, --lr, --batch-size, --validation-split, --data and --seed
come from the checkpoint, and giving one of them with a different value is an error. --epochs (the new
total), --verbose, --history and --save may be given."""


def make_parser():
    from .. import __version__

    parser = argparse.ArgumentParser(prog="neurona", description="Neurona: deep learning from first principles")
    parser.add_argument("--version", action="version", version=f"neurona {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{demo,train,info,predict,serve,lab,compress}")

    demo = sub.add_parser("demo", help="train a dense network on MNIST and print the test accuracy")
    demo.add_argument("--epochs", type=bounded_int(MAX_EPOCHS), default=5, help=f"at most {MAX_EPOCHS}")
    demo.add_argument("--data", default="auto", choices=["auto", "full", "embedded"],
                      help="MNIST source: full files if present (auto), or the embedded subset")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="train a model on MNIST", epilog=RESUME_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--model", choices=ARCHITECTURES, help="architecture (default: mlp)")
    train.add_argument("--init", help="kernel initializer name, e.g. glorot_uniform (default: he_normal)")
    train.add_argument("--hidden", type=bounded_int(MAX_UNITS), nargs="+",
                       help=f"hidden layer sizes, each at most {MAX_UNITS} (default: 128)")
    train.add_argument("--optimizer", help="optimizer name (default: adam)")
    train.add_argument("--lr", type=positive_float, help="learning rate (default: the optimizer's)")
    train.add_argument("--epochs", type=bounded_int(MAX_EPOCHS), default=None,
                       help=f"at most {MAX_EPOCHS}; default 5 (with --resume: the run's own)")
    train.add_argument("--batch-size", type=bounded_int(MAX_BATCH_SIZE),
                       help="at most the number of training samples; default: 128")
    train.add_argument("--validation-split", type=fraction, help="fraction held out, in [0, 1) (default: 0)")
    train.add_argument("--data", choices=["auto", "full", "embedded"], help="MNIST source (default: auto)")
    train.add_argument("--seed", type=int, help="seed of every random draw (default: none)")
    train.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    train.add_argument("--history", default=None, help="write the history and test figures as JSON here")
    saving_commands.add_train_options(train)
    train.set_defaults(func=cmd_train)
    saving_commands.add_parsers(sub)
    serve_command.add_parser(sub)
    lab_command.add_parser(sub)
    compress_command.add_parser(sub)
    return parser


def _runtime_errors():
    from ..models import TrainingError

    return (TrainingError, RuntimeError, OSError, ImportError, MemoryError)


# a bad command line or input (nothing was done): status 2, as argparse's own errors; checked before
# _runtime_errors, whose OSError would also catch the file errors
USAGE_ERRORS = (ValueError, FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


def _fail(error, status):
    message = " ".join(str(error).split()) or type(error).__name__  # one line, whatever the error's text
    print(f"neurona: error: {message}", file=sys.stderr)
    return status


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    0 on success; 2 for a bad command line or input, 1 for a failure while running, 130 when interrupted;
    argparse's own errors (and --help, --version) exit through SystemExit as usual.
    """
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # plain `neurona`: the help, on stdout, with argparse's status for a missing command
        parser.print_help(sys.stdout)
        return 2
    try:
        args.func(args)
    except USAGE_ERRORS as error:
        return _fail(error, 2)
    except _runtime_errors() as error:
        return _fail(error, 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    return 0


if __name__ == "__main__":
    sys.exit(main())
