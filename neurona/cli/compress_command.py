"""``neurona compress MODEL_DIR --output DIR --quantize int8|dynamic | --prune F | --prune-filters F``.

One transform of ``neurona.compression`` applied to a saved model, the result saved to a new folder:

- ``--quantize int8``: post-training static quantization (``compression.quantize``): int8 per-channel kernels
  and uint8 activations on ranges observed on calibration inputs: ``--calibration FILE.npy`` (raw inputs as for
  ``neurona predict``: the model's saved preprocessing is applied to them), or, when the model's input is
  MNIST-shaped (784, 28x28 or 28x28x1), images of the MNIST training set (``--data``, as ``neurona train``);
- ``--quantize dynamic``: Dense layers with int8 kernels whose inputs are quantized per batch (no data);
- ``--prune F``: one-shot magnitude pruning to sparsity F (``--scope layer|global``), stripped: the output is a
  plain model whose kernels hold the zeros, which model.h5 stores compressed;
- ``--prune-filters F``: structured pruning of a Sequential model: the weakest filters and units removed.

DIR receives model.json + model.h5 (and model.onnx with ``--onnx``), with the model's saved preprocessing and
compile settings but no optimizer state (a compressed model is for inference); it is written whole into a
temporary folder beside DIR and renamed into place, so an error leaves nothing at DIR. Every check of the
command line and of the data comes before the writing; each failure is one line and exit status 2.
"""

import os

import numpy

from ..compression.calibration import METHODS as CALIBRATION_METHODS
from ..compression.pruning import SCOPES
from ..datasets.mnist import SOURCES as MNIST_SOURCES
from ..saving import MODEL_H5, MODEL_JSON
from . import preflight
from .arg_types import fraction
from .saving_commands import add_input_options, load_npy, positive_int, read_inputs

QUANTIZE_MODES = ("int8", "dynamic")
MNIST_SHAPES = ((784,), (28, 28), (28, 28, 1))
DEFAULT_SAMPLES = 1000
ONNX_FILE = "model.onnx"
OUTPUT_FILES = (MODEL_JSON, MODEL_H5, ONNX_FILE)  # what --overwrite may replace
# the parts of a model.h5 the size report names: (top-level group, label)
H5_PARTS = (("weights", "weights"), ("optimizer", "optimizer state (left out of the output)"),
            ("reference_statistics", "drift reference statistics"))

# the options only one transform reads: (attribute, flag, the transform that reads it)
TRANSFORM_OPTIONS = (("scope", "--scope", "--prune"), ("calibration", "--calibration", "--quantize int8"),
                     ("calibration_method", "--calibration-method", "--quantize int8"),
                     ("samples", "--samples", "--quantize int8"))

DESCRIPTION = """\
Apply one compression transform to a saved model and save the result to a new folder DIR (model.json +
model.h5, with --onnx also model.onnx), written atomically: on any error nothing is left at DIR. Prints what
was done, per-layer sparsity or the quantized layers, the size of model.h5 before and after, and with
--evaluate the accuracy before and after. Inputs (--calibration, --evaluate) are raw, as for `neurona
predict`: the model's saved preprocessing is applied to them (--no-preprocessing if they are already
preprocessed)."""


def add_parser(sub):
    """Register ``neurona compress`` on the ``neurona`` subparsers ``sub``."""
    cmd = sub.add_parser("compress", help="quantize or prune a saved model into a new folder",
                         description=DESCRIPTION)
    cmd.add_argument("path", metavar="MODEL_DIR", help="a saved model folder (model.save(), train --save)")
    cmd.add_argument("--output", required=True, metavar="DIR", help="the folder to write the compressed model to")
    transform = cmd.add_mutually_exclusive_group(required=True)
    transform.add_argument("--quantize", choices=QUANTIZE_MODES,
                           help="int8: static post-training quantization (needs calibration inputs); dynamic: "
                                "int8 Dense kernels, inputs quantized per batch (no data)")
    transform.add_argument("--prune", type=fraction, metavar="FRACTION",
                           help="zero this fraction of the kernel weights, the smallest first, in [0, 1)")
    transform.add_argument("--prune-filters", type=fraction, metavar="FRACTION",
                           help="remove this fraction of the filters and units of every Dense/Conv layer but the "
                                "last (a Sequential model), in [0, 1)")
    cmd.add_argument("--scope", choices=SCOPES, help="--prune: each kernel to the fraction (layer, the default) "
                                                     "or one threshold for all kernels (global)")
    cmd.add_argument("--calibration", metavar="FILE.npy",
                     help="--quantize int8: raw inputs on which the activation ranges are observed (default for "
                          "a model of MNIST-shaped input: images of the MNIST training set)")
    cmd.add_argument("--calibration-method", choices=CALIBRATION_METHODS,
                     help="--quantize int8: the ranges' rule (default minmax; percentile clips outliers)")
    cmd.add_argument("--samples", type=positive_int, metavar="N",
                     help=f"--quantize int8: calibrate on the first N inputs (default {DEFAULT_SAMPLES})")
    evaluate = cmd.add_mutually_exclusive_group()
    evaluate.add_argument("--evaluate", nargs=2, metavar=("X.npy", "Y.npy"),
                          help="print the accuracy before and after on these raw inputs and labels (class "
                               "numbers or one-hot rows)")
    evaluate.add_argument("--evaluate-mnist", action="store_true",
                          help="print the accuracy before and after on the MNIST test split (--data)")
    cmd.add_argument("--data", choices=MNIST_SOURCES,
                     help="MNIST source of the default calibration images and of --evaluate-mnist (default auto)")
    cmd.add_argument("--onnx", action="store_true", help=f"also write DIR/{ONNX_FILE}")
    cmd.add_argument("--overwrite", action="store_true",
                     help="replace DIR if it exists (it may hold only an earlier output's files)")
    add_input_options(cmd)
    cmd.set_defaults(func=cmd_compress)


def cmd_compress(args):
    from .. import saving

    _check_options(args)
    _check_output(args)
    if args.onnx:
        _check_onnx()
    model = saving.load_model(args.path)
    _check_single_input(model)
    calibration = _calibration(args, model) if args.quantize == "int8" else None
    evaluation = _evaluation(args, model)
    compressed, done = _transform(args, model, calibration)
    compressed.preprocessing = model.preprocessing  # so that `neurona predict/serve DIR` take raw inputs too
    drift = _reference_statistics(model, compressed, evaluation or calibration)
    accuracy = None if evaluation is None else (_accuracy(model, evaluation), _accuracy(compressed, evaluation))
    sizes, parts = _write(args, compressed)
    for line in done:
        print(line)
    _print_sizes(args, sizes, parts)
    if accuracy is not None:
        (before, classes_before), (after, classes_after) = accuracy
        print(f"accuracy on {evaluation[2]} ({len(evaluation[0]):,} samples): {before:.4f} -> {after:.4f} "
              f"(the predicted classes agree on {numpy.mean(classes_before == classes_after):.1%})")
    if drift:
        print(drift)
    print(f"written to {args.output}")


# ---- checks made before any work -------------------------------------------------------------------------
def _flag_of(args):
    if args.quantize:
        return f"--quantize {args.quantize}"
    return "--prune" if args.prune is not None else "--prune-filters"


def _check_options(args):
    """Refuse an option that the chosen transform would silently ignore."""
    flag = _flag_of(args)
    for attribute, option, reader in TRANSFORM_OPTIONS:
        if getattr(args, attribute) is not None and flag != reader:
            raise preflight.UsageError(f"{option} applies to {reader} only, not to {flag}")
    if args.data is not None and not args.evaluate_mnist and not (flag == "--quantize int8" and
                                                                  args.calibration is None):
        raise preflight.UsageError("--data picks the MNIST images of --evaluate-mnist and of the default "
                                   "calibration of --quantize int8 (without --calibration); neither is asked for")
    if (args.no_preprocessing or args.no_range_check) and not (args.calibration or args.evaluate):
        raise preflight.UsageError("--no-preprocessing and --no-range-check apply to the .npy inputs of "
                                   "--calibration and --evaluate; neither is given")


def _check_output(args):
    """``--output`` names a folder that can receive the result, and not the model's own folder."""
    out, model_dir = os.path.realpath(args.output), os.path.realpath(args.path)
    if out == model_dir:
        raise preflight.UsageError(f"--output {args.output} is the model's own folder {args.path}; write the "
                                   "compressed model to a new folder")
    preflight.check_not_inside("--output", args.output, "MODEL_DIR", args.path)
    if not args.overwrite and os.path.isdir(args.output) and os.listdir(args.output):
        raise preflight.UsageError(f"--output {args.output}: the folder exists and is not empty; pass --overwrite "
                                   "to replace it, or choose a new folder")
    preflight.check_output_folder("--output", args.output, replaces=OUTPUT_FILES, owner="the compressed model")


def _check_onnx():
    try:
        import onnx  # noqa: F401 - only whether it is there, before any work
    except ImportError:
        raise ImportError('--onnx needs the onnx package: pip install "neurona[onnx]"') from None


def _check_single_input(model):
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or model.input_shape is None:
        known = f"has {len(inputs)} inputs" if inputs else "has no known input (a subclassed or unbuilt model)"
        raise preflight.UsageError(f"model {model.name!r} ({type(model).__name__}) {known}; neurona compress takes "
                                   "a built Sequential or functional model of one input")


def _check_fits(model, x, what):
    """Refuse inputs whose sample shape is not the model's input shape (after the saved preprocessing)."""
    expected = tuple(model.input_shape[1:])
    if x.ndim == 0 or len(x) == 0:
        raise preflight.UsageError(f"{what} holds no inputs (shape {x.shape}); expected an array of shape "
                                   f"(N, {', '.join(map(str, expected))})")
    got = tuple(x.shape[1:])
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        from ..saving.preprocessing import describe

        after = f" after the model's saved preprocessing ({describe(model.preprocessing)})" \
            if model.preprocessing else ""
        raise preflight.UsageError(f"{what} holds inputs of shape {x.shape}{after}, but model {model.name!r} takes "
                                   f"samples of shape {expected}; expected an array of shape "
                                   f"(N, {', '.join(map(str, expected))})")


# ---- data ------------------------------------------------------------------------------------------------
def _inputs(args, model, path, flag):
    x = read_inputs(model, path, preprocessed=args.no_preprocessing, range_check=not args.no_range_check)
    _check_fits(model, x, f"{flag} {path}")
    return x


def _mnist(args, model, split, flag, count=None):
    """``(inputs, labels, source)``: the MNIST ``"training"`` or ``"test"`` set as ``model`` takes it (its saved
    preprocessing, or pixels scaled to [0, 1] as ``neurona train`` feeds them), reshaped to its input shape, the
    first ``count`` images (default all); None when the model's input is not MNIST-shaped."""
    from .. import datasets
    from ..saving import preprocessing

    if tuple(model.input_shape[1:]) not in MNIST_SHAPES:
        return None
    train, test = datasets.mnist.load_data(source=args.data or "auto")
    images, labels = train if split == "training" else test
    images, labels = images[:count], labels[:count]
    if model.preprocessing:
        x = preprocessing.apply(model.preprocessing, images)
    else:
        x = images.astype(numpy.float32) / numpy.float32(255)
    x = x.reshape(len(x), *model.input_shape[1:])
    _check_fits(model, x, flag)
    kind = datasets.mnist.last_source().kind
    return x, labels.astype(numpy.int64), f"the MNIST {split} set ({kind})"


def _calibration(args, model):
    """``(inputs, source)`` of ``--quantize int8``'s calibration, at most ``--samples`` of them."""
    count = args.samples or DEFAULT_SAMPLES
    if args.calibration:
        return _inputs(args, model, args.calibration, "--calibration")[:count], args.calibration
    found = _mnist(args, model, "training", "the default calibration data (MNIST)", count)
    if found is None:
        raise preflight.UsageError(
            f"--quantize int8 needs calibration inputs, on which the activation ranges are observed: pass "
            f"--calibration FILE.npy (raw inputs as for neurona predict, a few hundred to a few thousand), or use "
            f"--quantize dynamic, which needs none (model {model.name!r} takes inputs of shape "
            f"{tuple(model.input_shape[1:])}, not MNIST images, so there is no default)")
    return found[0], found[2]


def _evaluation(args, model):
    """``(inputs, class labels, source)`` of ``--evaluate`` / ``--evaluate-mnist``, or None."""
    if args.evaluate_mnist:
        found = _mnist(args, model, "test", "--evaluate-mnist")
        if found is None:
            raise preflight.UsageError(f"--evaluate-mnist: model {model.name!r} takes inputs of shape "
                                       f"{tuple(model.input_shape[1:])}, not MNIST images; pass --evaluate X.npy "
                                       "Y.npy")
        return found
    if not args.evaluate:
        return None
    x_path, y_path = args.evaluate
    x = _inputs(args, model, x_path, "--evaluate")
    y = load_npy(y_path)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        y = numpy.argmax(y, axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iubf" or not numpy.all(y == numpy.round(y)):
        raise preflight.UsageError(f"--evaluate {y_path}: labels of shape {y.shape} and dtype {y.dtype}; expected "
                                   f"{len(x)} class numbers (shape ({len(x)},)) or one-hot rows, one per input of "
                                   f"{x_path}")
    return x, y.astype(numpy.int64), x_path


def _accuracy(model, evaluation):
    """``(accuracy, predicted classes)`` of ``model`` on ``(x, y, _)`` (one sigmoid unit: > 0.5 is class 1)."""
    x, y, _ = evaluation
    probabilities = numpy.asarray(model.predict(x, batch_size=256, verbose=0))
    probabilities = probabilities.reshape(len(x), -1)
    classes = (probabilities[:, 0] > 0.5).astype(numpy.int64) if probabilities.shape[1] == 1 \
        else numpy.argmax(probabilities, axis=1)
    return float(numpy.mean(classes == y)), classes


# ---- the transform and its description -------------------------------------------------------------------
def _transform(args, model, calibration):
    """``(compressed model, lines describing what was done)``."""
    from .. import compression

    flag = _flag_of(args)
    try:
        _check_targets(model, args, flag)
        if args.quantize == "int8":
            x, source = calibration
            method = args.calibration_method or "minmax"
            compressed = compression.quantize(model, x, calibration=method)
            head = (f"{flag}: int8 per-channel kernels, uint8 activations on {method} ranges calibrated on "
                    f"{len(x):,} samples of {source}; quantized layers:")
        elif args.quantize == "dynamic":
            compressed = compression.quantize_dynamic(model)
            head = f"{flag}: Dense layers with int8 kernels, inputs quantized per batch; quantized layers:"
        elif args.prune is not None:
            scope = args.scope or "layer"
            pruned = compression.prune_low_magnitude(model, sparsity=args.prune, scope=scope)
            compressed = compression.strip_pruning(pruned)
            return compressed, [f"{flag} {args.prune:g} (scope {scope}): kernel sparsity per layer:",
                                *_sparsity_lines(compressed)]
        else:
            compressed = compression.prune_filters(model, args.prune_filters)
            return compressed, [f"{flag} {args.prune_filters:g}: filters and units per layer:",
                                *_filter_lines(model, compressed, args.prune_filters)]
    except TypeError as error:  # a subclassed model, or a functional one for --prune-filters
        raise preflight.UsageError(f"{flag}: {error}") from None
    names = [layer.layer.name for layer in _leaves(compressed) if isinstance(layer, compression.QuantizeWrapper)]
    return compressed, [head, *(f"  {name}" for name in names)]


def _check_targets(model, args, flag):
    """Refuse a model that ``--quantize`` / ``--prune`` would leave as it is (no layer of the kinds they take)."""
    from ..compression.transform import target_layers
    from ..compression.wrapper import WRAPPABLE
    from ..layers import Dense

    if args.prune_filters is None:
        kinds = (Dense,) if args.quantize == "dynamic" else WRAPPABLE
        if not target_layers(model, kinds=kinds):  # which also refuses a model transformed already
            raise preflight.UsageError(f"{flag}: model {model.name!r} has no {'/'.join(k.__name__ for k in kinds)} "
                                       "layer to transform")


def _leaves(model):
    """The layers of ``model``, nested models walked through (a wrapper counts as one layer)."""
    from ..compression import KernelWrapper

    for layer in model.layers:
        if hasattr(layer, "layers") and not isinstance(layer, KernelWrapper):
            yield from _leaves(layer)
        else:
            yield layer


def _sparsity_lines(model):
    from .. import backend

    lines, zeros, total = [], 0, 0
    for layer in _leaves(model):
        if getattr(layer, "kernel", None) is None:
            continue
        kernel = backend.asnumpy(layer.kernel.data)
        count = int(kernel.size - numpy.count_nonzero(kernel))
        zeros, total = zeros + count, total + kernel.size
        lines.append(f"  {layer.name}: {count / kernel.size:.1%} zeros ({count:,} of {kernel.size:,} weights)")
    return [*lines, f"  all kernels: {zeros / total:.1%} zeros ({zeros:,} of {total:,} weights)"]


def _filter_lines(model, compressed, fraction_asked):
    lines = []
    for before, after in zip(model.layers, compressed.layers):
        for key in ("filters", "units"):
            if key in before.get_config() and before.get_config()[key] != after.get_config()[key]:
                lines.append(f"  {before.name}: {before.get_config()[key]} -> {after.get_config()[key]} {key}")
    if not lines:
        raise preflight.UsageError(f"--prune-filters {fraction_asked:g} removes nothing from model {model.name!r}: it "
                                   "prunes every Dense/Conv layer but the last (whose units are the outputs), and "
                                   "either there is none or the fraction is too small to remove one filter")
    return [*lines, f"  parameters: {model.count_params():,} -> {compressed.count_params():,}"]


def _reference_statistics(model, compressed, data):
    """The drift reference of the output: recomputed on the command's inputs, since the original one describes
    the original model's outputs; a line saying what became of it (None when the model had none)."""
    if model.reference_statistics is None:
        return None
    if data is not None:
        try:
            compressed.compute_reference_statistics(data[0])
            return f"drift reference statistics: recomputed for the compressed model on {data[-1]}"
        except ValueError:
            pass
    compressed.reference_statistics = None
    return ("drift reference statistics: not carried over (they describe the original model's outputs; give "
            "--evaluate or --evaluate-mnist to recompute them)")


# ---- writing and sizes -----------------------------------------------------------------------------------
def _write(args, model):
    """Save ``model`` (and its ONNX graph) into a temporary folder beside ``--output``, renamed into place at the
    end; ``({file name: size in bytes}, the parts of its model.h5)``."""
    from .. import saving
    from ..saving.atomic import atomic_folder

    replaces = OUTPUT_FILES if args.overwrite else ()  # checked again under the writer's lock
    with atomic_folder(args.output, overwrite=True, replaces=replaces) as tmp:
        saving.save_model(model, tmp, include_optimizer=False)
        if args.onnx:
            saving.export_onnx(model, os.path.join(tmp, ONNX_FILE))
        sizes = {name: os.path.getsize(os.path.join(tmp, name)) for name in os.listdir(tmp)}
        parts = _h5_parts(os.path.join(tmp, MODEL_H5))
    return sizes, parts


def _size(count):
    if count < 1024:
        return f"{count:,} bytes"
    return f"{count / 1024:,.1f} KiB" if count < 1024**2 else f"{count / 1024**2:,.1f} MiB"


def _h5_parts(path):
    """``{part: bytes stored}`` of a Neurona model.h5 (the datasets under each top-level group); {} for another
    file (a Keras one)."""
    import h5py

    def stored(group):
        sizes = []
        group.visititems(lambda _, item: sizes.append(item.id.get_storage_size())
                         if isinstance(item, h5py.Dataset) else None)
        return sum(sizes)

    try:
        with h5py.File(path, "r") as h5:
            return {label: stored(h5[name]) for name, label in H5_PARTS if isinstance(h5.get(name), h5py.Group)}
    except OSError:
        return {}


def _print_sizes(args, sizes, output_h5):
    source = os.path.join(args.path, MODEL_H5) if os.path.isdir(args.path) else args.path
    after = sizes[MODEL_H5]
    if not os.path.isfile(source):
        print(f"{MODEL_H5}: {_size(after)}")
    else:
        before = os.path.getsize(source)
        print(f"{MODEL_H5}: {_size(before)} -> {_size(after)} ({after / before:.2f}x)")
        parts_before, parts_after = _h5_parts(source), output_h5
        for _, label in H5_PARTS:
            if label in parts_before or label in parts_after:
                shown = [_size(parts[label]) if label in parts else "none" for parts in (parts_before, parts_after)]
                print(f"  {label}: {shown[0]} -> {shown[1]}")
    if args.quantize:
        print(f"  ({MODEL_H5} keeps the float kernels: Neurona simulates the integer grids; {ONNX_FILE} stores "
              f"the int8 codes{'' if args.onnx else ', see --onnx'})")
    if ONNX_FILE in sizes:
        print(f"{ONNX_FILE}: {_size(sizes[ONNX_FILE])}")
