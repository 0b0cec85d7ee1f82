"""``neurona info``, ``neurona predict`` and the ``--save`` / ``--resume`` options of ``neurona train``.

``train --save DIR`` writes a resumable checkpoint to DIR at the end of every
epoch (so DIR always holds the latest state, and the trained model at the end);
``train --resume DIR`` continues that run from its last completed epoch with
the run's own settings (``RESUMED_ARGS``; a flag among them given with another
value is refused), and ends with the same weights as a run that was never
interrupted.

``predict`` applies the model's saved preprocessing to raw inputs, after
checking that their range fits it (``preflight.check_input_range``).
"""

import os
import sys

import numpy

from . import preflight

# the train arguments a resumed run takes from the checkpoint, so that it sees the same data in the same batches
RESUMED_ARGS = ("data", "batch_size", "validation_split", "model", "init", "hidden", "optimizer", "lr", "seed")


def add_parsers(sub):
    """The ``info`` and ``predict`` subcommands."""
    info = sub.add_parser("info", help="print the summary of a saved model or checkpoint")
    info.add_argument("path", help="a folder written by model.save(), ModelCheckpoint or train --save")
    info.set_defaults(func=cmd_info)

    predict = sub.add_parser(
        "predict", help="run a saved model on inputs stored in a .npy file",
        description="Run a saved model on the inputs of a .npy file. The inputs are raw (e.g. pixels 0-255): the "
                    "model's saved preprocessing (e.g. rescale(/255) -> flatten) is applied to them first. Inputs "
                    "whose range does not fit it are refused: raw values outside [0, 255], or values already "
                    "scaled to [0, 1] (use --no-preprocessing for those).")
    predict.add_argument("path", help="a saved model folder")
    predict.add_argument("input", help="a .npy file of raw inputs (the model's saved preprocessing is applied)")
    predict.add_argument("--output", default=None, help="write the predictions to this .npy file instead of printing")
    predict.add_argument("--batch-size", type=positive_int, default=256)
    add_input_options(predict)
    predict.set_defaults(func=cmd_predict)


def add_input_options(parser):
    """``--no-preprocessing`` and ``--no-range-check``: how ``read_inputs`` treats a command's .npy inputs."""
    parser.add_argument("--no-preprocessing", action="store_true",
                        help="the inputs are already preprocessed: skip the model's saved preprocessing steps")
    parser.add_argument("--no-range-check", action="store_true",
                        help="run even if the input range does not fit the saved preprocessing")


INT64_MAX = 2**63 - 1  # what the arrays' index arithmetic holds


def positive_int(text, maximum=INT64_MAX):
    """An argparse type: an integer in ``[1, maximum]`` (``bounded_int`` makes one with another maximum)."""
    import argparse

    expected = "an integer >= 1" if maximum == INT64_MAX else f"an integer from 1 to {maximum}"
    try:
        value = int(text)
    except ValueError:  # also a number of more digits than int() reads
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise argparse.ArgumentTypeError(f"expected {expected}, got {shown!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    if value > maximum:
        shown = str(value) if len(str(value)) <= 40 else f"a {len(str(value))}-digit number"
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to {maximum}, got {shown}")
    return value


def bounded_int(maximum):
    """An argparse type: an integer from 1 to ``maximum``, the limit named in the error."""
    def parse(text):
        return positive_int(text, maximum)

    parse.__name__ = f"integer from 1 to {maximum}"  # argparse's own messages name the type by it
    return parse


def add_train_options(train):
    train.add_argument("--save", default=None, metavar="DIR",
                       help="save a resumable checkpoint to DIR after every epoch (the final model at the end)")
    train.add_argument("--resume", default=None, metavar="DIR",
                       help="continue the run checkpointed in DIR up to --epochs (default: the run's own)")


def cmd_info(args):
    from .. import saving
    from ..saving.keras import files as keras_files

    keras_save = keras_files.describe_save(args.path)
    document = saving.peek(args.path) if keras_save is None else {}
    model = saving.load_model(args.path)
    model.summary()
    if keras_save is not None:
        print(f"Saved by Keras ({keras_save}; read by Neurona's Keras reader)")
    else:
        print(f"Saved by Neurona {document.get('neurona_version', '?')} (format version "
              f"{document['format_version']})")
    if model.optimizer is not None:
        opt = model.optimizer
        metrics = ", ".join(m.name for m in model.compiled_metrics) or "none"
        print(f"Compiled: optimizer {type(opt).__name__} (learning rate {opt.learning_rate:g}, {opt.iterations} steps "
              f"taken), loss {model.loss.name}, metrics {metrics}")
    else:
        print("Not compiled")
    print(f"Preprocessing: {saving.preprocessing.describe(model.preprocessing)}")
    training = document.get("training")
    if training:
        logs = {k: v[-1] for k, v in training.get("history", {}).get("history", {}).items() if v}
        # the losses first, then the metrics (the logs themselves are sorted by name, as Keras 3 keeps them)
        logs = dict(sorted(logs.items(), key=lambda item: (not item[0].endswith("loss"), item[0].startswith("val_"))))
        last = " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())
        print(f"Checkpoint: {training['epoch']} epochs completed" + (f"; last epoch {last}" if last else ""))


def cmd_predict(args):
    from .. import saving

    if args.output:
        preflight.check_output_file("--output", args.output)
    model = saving.load_model(args.path, compile=False)
    x = read_inputs(model, args.input, preprocessed=args.no_preprocessing, range_check=not args.no_range_check)
    y = model.predict(x, batch_size=args.batch_size, verbose=0)
    if args.output:
        from ..saving.atomic import atomic_file

        with atomic_file(args.output) as tmp:
            with open(tmp, "wb") as f:
                numpy.save(f, y)
        print(f"predictions of shape {y.shape} written to {args.output}")
    else:
        numpy.savetxt(sys.stdout, y.reshape(len(y), -1), fmt="%.8g")


def read_inputs(model, path, preprocessed=False, range_check=True):
    """The inputs of the .npy file ``path`` as ``model`` takes them: checked (finite; in the range its saved
    preprocessing expects, unless ``range_check`` is False) and run through that preprocessing unless
    ``preprocessed`` (``--no-preprocessing``)."""
    from ..saving import preprocessing

    x = load_npy(path)
    preflight.check_finite_input(x, path)
    if range_check:
        preflight.check_input_range(model.preprocessing, x, path, preprocessed=preprocessed)
    if model.preprocessing and not preprocessed:
        x = preprocessing.apply(model.preprocessing, x)
    return x


def load_npy(path):
    if os.path.isdir(path):
        raise preflight.UsageError(f"{path} is a folder; expected a .npy file of inputs")
    try:
        data = numpy.load(path, allow_pickle=False)  # a .npy of objects would need pickle: refused
    except (ValueError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise FileNotFoundError(f"no input file at {path!r}") from None
        raise preflight.UsageError(f"{path} cannot be read as a .npy array file: {error}") from None
    if not isinstance(data, numpy.ndarray):  # a .npz archive of several arrays
        data.close()
        raise preflight.UsageError(f"{path} is a .npz archive; expected a .npy file holding one array of inputs")
    return data


def save_callback(args, path):
    """A callback writing a checkpoint (with this run's arguments) to ``path`` after every epoch."""
    from .. import callbacks, saving

    extra = {"cli_args": {k: getattr(args, k) for k in (*RESUMED_ARGS, "epochs")}}

    class SaveEveryEpoch(callbacks.Callback):
        last = None
        rank_zero_only = True  # data-parallel: rank 0 writes the checkpoint


        def on_epoch_end(self, epoch, logs=None):
            history = saving.run_history(self.model, epoch, logs)
            saving.save_checkpoint(self.model, path, epoch=epoch + 1, history=history, extra=extra)
            self.last = (epoch + 1, history)

        def save_reference_statistics(self):
            """After ``fit``: the last checkpoint again, now with the reference statistics ``fit`` records at its
            very end (after every callback), so that ``neurona serve`` can watch for drift. Same weights and
            random states: nothing runs between the last epoch's save and this one."""
            if self.last is not None and self.model is not None and self.model.reference_statistics is not None:
                saving.save_checkpoint(self.model, path, epoch=self.last[0], history=self.last[1], extra=extra)

    return SaveEveryEpoch()


def mark_preprocessing(model):
    """Record the CLI's MNIST preprocessing (pixels / 255, flattened) in the model, for ``neurona predict``."""
    from ..saving import preprocessing

    model.preprocessing = [preprocessing.rescale(255.0), preprocessing.flatten()]


def resume_training(args, load_mnist):
    """Continue a checkpointed ``train --save`` run; returns (History, test loss, test accuracy, seconds)."""
    import time

    from .. import callbacks, saving
    from ..saving.atomic import backup_path
    from .main import on_rank_zero, training_strategy

    if not os.path.isdir(args.resume) and not os.path.isdir(backup_path(args.resume)):
        raise FileNotFoundError(f"no checkpoint to resume at {args.resume!r}")
    ckpt = saving.load_checkpoint(args.resume)
    saved = ckpt.extra.get("cli_args")
    if not saved:
        raise ValueError(f"{args.resume!r} was not written by 'neurona train --save'; its data settings are unknown")
    conflicts = preflight.resume_conflicts({key: getattr(args, key, None) for key in RESUMED_ARGS}, saved)
    if conflicts:  # silently training with other settings than asked would be worse than refusing
        raise preflight.UsageError(f"--resume {args.resume} continues the run with its own settings, and these flags "
                                   f"differ from them: {'; '.join(conflicts)}. Drop those flags, or start a new run "
                                   "without --resume")
    for key in RESUMED_ARGS:
        setattr(args, key, saved[key])
    args.epochs = args.epochs if args.epochs is not None else saved["epochs"]
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    model, start = ckpt.model, time.perf_counter()
    strategy, report = training_strategy(), on_rank_zero()  # any number of processes resumes the same run
    if ckpt.epoch < args.epochs:
        kept = ", ".join(f"{key.replace('_', '-')} {preflight.show_value(saved[key])}" for key in RESUMED_ARGS)
        if report:
            print(f"resuming {args.resume} at epoch {ckpt.epoch + 1}/{args.epochs} with its settings: {kept}")
        saver = save_callback(args, args.save or args.resume)
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, initial_epoch=ckpt.epoch,
                  validation_split=args.validation_split, verbose=args.verbose, callbacks=[saver],
                  distribute=strategy)
        if report:
            saver.save_reference_statistics()
    elif report:
        print(f"{args.resume} has already completed {ckpt.epoch} epochs (--epochs {args.epochs}): nothing to train")
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, distribute=strategy)
    history = callbacks.History()  # the whole run's: the checkpoint's epochs, then this run's
    record = saving.run_history(model)
    history.epoch, history.history = record["epoch"], record["history"]
    return history, loss, accuracy, seconds
