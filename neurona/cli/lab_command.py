"""``neurona lab compare ...`` and ``neurona lab reproduce NAME [--full] [args]``: the initialization lab.

``compare`` reads the command line and calls ``neurona.lab.compare`` (the work and its checks live there);
``reproduce`` runs ``experiments/NAME.py``'s ``main(argv)`` with the arguments after NAME. Bad values exit with
status 2 and ``neurona: error: ...`` (ValueError, through ``cli.main``); Ctrl-C keeps the finished runs and
exits with 130.
"""

import argparse
import importlib
import shlex

from .arg_types import float_in
from .saving_commands import bounded_int, positive_int

MAX_EPOCHS = 100_000
MAX_UNITS = 8_192
MAX_DEPTH = 1_000


def _importable(text, option):
    """``module:function`` from the command line (a user builder or initializer), imported."""
    module_name, _, attr = text.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"{option} {text!r}: cannot import module {module_name!r} ({error})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"{option} {text!r}: module {module_name!r} has no function {attr!r}")
    return fn


_target = float_in(lambda v: 0 < v <= 1, "an accuracy in (0, 1]")
_learning_rate = float_in(lambda v: 0 < v < float("inf"), "a finite number > 0")


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _add_compare(lab):
    compare = lab.add_parser(
        "compare", help="train one architecture under several initializers and seeds, and compare them",
        description="Train the same model under each initializer and seed (in parallel processes, or as Ray "
                    "tasks), then write OUT/results.json, OUT/report.md (ranked table, diagnostics verdicts) and "
                    "OUT/curves.png, OUT/init_depth.png. Each run is reproducible from its seed alone; --resume "
                    "continues an interrupted grid without redoing finished runs.")
    compare.add_argument("--init", nargs="+", default=["he_normal", "glorot_uniform"], metavar="NAME",
                         help="initializers: registry names, lsuv, or module:function (default: he_normal "
                              "glorot_uniform)")
    compare.add_argument("--seeds", nargs="+", type=_seed, default=[0, 1, 2], metavar="N", help="default: 0 1 2")
    compare.add_argument("--model", default="dense",
                         help="dense, conv, or module:function building the model from (input_shape, "
                              "num_classes, kernel_initializer) (default: dense)")
    compare.add_argument("--depth", type=bounded_int(MAX_DEPTH), default=3, help="hidden layers (default 3)")
    compare.add_argument("--width", type=bounded_int(MAX_UNITS), default=128,
                         help="units or channels per hidden layer (default 128)")
    compare.add_argument("--activation", default="relu", help="hidden activation (default relu)")
    compare.add_argument("--normalization", action="store_true", help="batch norm after each hidden layer")
    compare.add_argument("--epochs", type=bounded_int(MAX_EPOCHS), default=3, help="default 3")
    compare.add_argument("--batch-size", type=positive_int, default=128, help="default 128")
    compare.add_argument("--optimizer", default="sgd", help="optimizer name (default sgd)")
    compare.add_argument("--lr", type=_learning_rate, default=None, help="learning rate (default: the optimizer's)")
    compare.add_argument("--target", type=_target, default=0.9,
                         help="validation accuracy to reach, for epochs and seconds to target (default 0.9)")
    compare.add_argument("--data", choices=["auto", "full", "embedded"], default="auto",
                         help="MNIST: full files if on this machine (auto; $NEURONA_DATA_DIR), or the embedded "
                              "subset; validation is the test split")
    compare.add_argument("--max-train", type=positive_int, default=None, help="use the first N training examples")
    compare.add_argument("--max-val", type=positive_int, default=None, help="use the first N validation examples")
    compare.add_argument("--out", default="lab_compare", help="output folder (default lab_compare)")
    compare.add_argument("--jobs", type=positive_int, default=None,
                         help="runs at a time: worker processes (default: the CPU count; 1 runs in this process), "
                              "or with --executor ray, Ray tasks (default: the cluster's CPUs / --threads)")
    compare.add_argument("--threads", type=positive_int, default=1,
                         help="threads per run, the same whatever --jobs (default 1)")
    compare.add_argument("--executor", choices=["local", "ray"], default="local",
                         help="local: worker processes on this machine (default); ray: one Ray task per run, on "
                              "a local Ray instance or the cluster at --address (needs neurona[ray]); the same "
                              "results either way")
    compare.add_argument("--address", default=None, metavar="HOST:PORT",
                         help="with --executor ray: the Ray cluster, HOST:PORT, auto or ray://HOST:PORT (default: "
                              "$RAY_ADDRESS, else a new local Ray instance)")
    compare.add_argument("--resume", action="store_true", help="continue the comparison in --out")
    compare.add_argument("--no-plots", action="store_true", help="skip the PNG figures (no matplotlib needed)")
    compare.add_argument("--quiet", action="store_true", help="no progress line")
    compare.set_defaults(func=cmd_compare)


def _add_reproduce(lab):
    reproduce = lab.add_parser(
        "reproduce", help="run a paper reproduction from experiments/ (he2015, glorot2010, symmetry, ...)",
        description="Run experiments/NAME.py (the source checkout's folder beside the package) with the arguments "
                    "after NAME, e.g. `neurona lab reproduce he2015 --full`. Each prints the paper's figures "
                    "beside Neurona's and writes its table and figure.")
    reproduce.add_argument("name", metavar="NAME", help="the experiment (an unknown name lists those available)")
    reproduce.add_argument("args", nargs=argparse.REMAINDER,
                           help="passed to the experiment: --full (the paper-like size), --out DIR, --seed N ...")
    reproduce.set_defaults(func=cmd_reproduce)


def add_parser(sub):
    """Register ``neurona lab`` and its subcommands on the ``neurona`` subparsers ``sub``."""
    lab = sub.add_parser("lab", help="the initialization lab: compare initializers, reproduce papers",
                         description="The initialization lab: `compare` initializers on MNIST, or `reproduce` "
                                     "a paper's experiment.")
    subcommands = lab.add_subparsers(dest="lab_command", metavar="{compare,reproduce}", required=True)
    _add_compare(subcommands)
    _add_reproduce(subcommands)


def _command_line(args):
    """The command as typed, for the top of report.md."""
    words = ["neurona", "lab", "compare", "--init", *args.init, "--seeds", *map(str, args.seeds),
             "--model", args.model]
    if ":" not in args.model:
        words += ["--depth", str(args.depth), "--width", str(args.width), "--activation", args.activation]
        words += ["--normalization"] if args.normalization else []
    words += ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--optimizer", args.optimizer]
    words += ["--lr", f"{args.lr:g}"] if args.lr is not None else []
    words += ["--target", f"{args.target:g}", "--data", args.data]
    for flag, value in (("--max-train", args.max_train), ("--max-val", args.max_val), ("--jobs", args.jobs)):
        words += [flag, str(value)] if value is not None else []
    words += ["--threads", str(args.threads), "--out", args.out]
    words += ["--executor", args.executor] if args.executor != "local" else []
    words += ["--address", args.address] if args.address is not None else []
    return shlex.join(words)


def cmd_compare(args):
    from .. import lab

    inits = [_importable(i, "--init") if ":" in i else i for i in args.init]
    model = _importable(args.model, "--model") if ":" in args.model else args.model
    result = lab.compare(inits, args.seeds, model=model, depth=args.depth, width=args.width,
                         activation=args.activation, normalization=args.normalization, epochs=args.epochs,
                         batch_size=args.batch_size, optimizer=args.optimizer, learning_rate=args.lr,
                         target=args.target, data=args.data, max_train=args.max_train, max_val=args.max_val,
                         out=args.out, jobs=args.jobs, threads=args.threads, resume=args.resume,
                         plots=not args.no_plots, progress=not args.quiet, command=_command_line(args),
                         executor=args.executor, address=args.address)
    print(f"{len(result.results['runs'])} runs; report: {result.report}")
    for i, row in enumerate(result.ranking, 1):
        acc, std = row["final_val_accuracy_mean"], row["final_val_accuracy_std"]
        shown = "-" if acc is None else f"{acc:.4f}" + ("" if std is None else f" ± {std:.4f}")
        marks = "".join(f", {row[k]} {k}" for k in ("diverged", "stalled") if row[k])
        print(f"  {i}. {row['initializer']}: final val acc {shown}{marks}")


def cmd_reproduce(args):
    from .. import lab

    lab.reproduce(args.name, args.args)
