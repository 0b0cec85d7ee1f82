"""TensorBoard: CRC32C, the record and protobuf bytes, and what a fit writes, read back by an independent reader."""

import json
import os
import re
import struct

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers, models
from neurona.callbacks import _protobuf as pb
from neurona.callbacks import event_file, summary_values
from neurona.callbacks.tensorboard import _weight_images

from . import tensorboard_reader as tb
from .conftest import blobs


def f32(value):
    """``value`` rounded to binary32, as event files store scalars."""
    return float(np.float32(value))


# ---- CRC32C, varints and the exact bytes of records ---------------------------------------------------------
@pytest.mark.parametrize("data, crc", [
    (b"123456789", 0xE3069283),  # the CRC catalogue's check value of CRC-32C
    (b"", 0x00000000),
    (bytes(32), 0x8A9136AA),  # RFC 3720 (iSCSI), appendix B.4
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_vectors(data, crc):
    assert event_file.crc32c(data) == crc == tb.crc32c_bitwise(data)


def test_crc32c_matches_a_bitwise_implementation_and_continues():
    rng = np.random.default_rng(0)
    for size in (1, 7, 100, 1000):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert event_file.crc32c(data) == tb.crc32c_bitwise(data)
        assert event_file.crc32c(data[size // 2:], event_file.crc32c(data[:size // 2])) == tb.crc32c_bitwise(data)
        assert event_file.masked_crc32c(data) == tb.masked(tb.crc32c_bitwise(data))


@pytest.mark.parametrize("value, encoded", [(0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"),
                                            (-1, "ff" * 9 + "01"), (2**63 - 1, "ff" * 8 + "7f")])
def test_varint(value, encoded):
    assert pb.varint(value).hex() == encoded
    assert tb._varint(pb.varint(value), 0)[0] == value % 2**64


def test_float_fields_round_to_binary32_and_overflow_to_infinity():
    assert pb.float_field(2, 0.1) == b"\x15" + struct.pack("<f", 0.1)
    assert tb.decode(pb.float_field(2, 1e300))[2] == [float("inf")]
    assert tb.decode(pb.float_field(2, -1e300))[2] == [float("-inf")]


# Bytes checked once with the `tensorboard` package (2.21) in a scratch script: the Event they frame equals
# event_pb2.Event(wall_time=1700000000.25, step=7, summary=Summary(value=[Value(tag="epoch_loss",
# simple_value=0.5)])).SerializeToString(), and tensorboard's PyRecordReader (which checks both CRCs) and
# EventAccumulator read the records back (the histogram with min 0, max 3, num 4, sum 5, sum_squares 11,
# bucket_limit [1, 2, 3], bucket [1, 2, 1]).
SCALAR_RECORD = ("200000000000000029eda9500900001040fc54d94110072a130a110a0a65706f63685f6c6f7373150000003f"
                 "8dbef107")
HISTOGRAM_RECORD = ("7f0000000000000050391acb0900001040fc54d94110022a720a700a0b772f686973746f6772616d2a61090000"
                    "00000000000011000000000000084019000000000000104021000000000000144029000000000000264032180000"
                    "00000000f03f000000000000004000000000000008403a18000000000000f03f0000000000000040000000000000"
                    "f03fe99af2c3")


def test_records_are_byte_exact():
    scalar = event_file.encode_event(1700000000.25, 7, [summary_values.scalar_value("epoch_loss", 0.5)])
    assert event_file.frame_record(scalar).hex() == SCALAR_RECORD
    histo = summary_values.histogram_value("w/histogram", np.array([0.0, 1.0, 1.0, 3.0]), buckets=3)
    assert event_file.frame_record(event_file.encode_event(1700000000.25, 2, [histo])).hex() == HISTOGRAM_RECORD


def test_histogram_value_statistics_and_buckets():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((20, 30))
    (value,) = tb.event(event_file.encode_event(1.0, 1, [summary_values.histogram_value("h", data)]))["values"]
    h = value["histo"]
    counts, edges = np.histogram(data, bins=30)
    assert (h["min"], h["max"], h["num"]) == (data.min(), data.max(), 600)
    assert h["sum"] == pytest.approx(data.sum(), rel=1e-12) and h["sum_squares"] == pytest.approx((data**2).sum())
    assert h["bucket"] == counts.tolist() and np.allclose(h["bucket_limit"], edges[1:])
    assert h["bucket_limit"][-1] == h["max"]
    const = tb.histogram(tb.decode(summary_values.histogram_value("c", np.full(5, 2.0)))[5][0])
    assert (const["min"], const["max"], const["bucket_limit"], const["bucket"]) == (2.0, 2.0, [2.0], [5.0])
    # NaN and infinities have no bucket: they are left out of every statistic
    mixed = tb.histogram(tb.decode(summary_values.histogram_value("m", [1.0, np.nan, np.inf, 3.0]))[5][0])
    assert (mixed["num"], mixed["min"], mixed["max"], sum(mixed["bucket"])) == (2, 1.0, 3.0, 2)
    empty = tb.histogram(tb.decode(summary_values.histogram_value("e", np.zeros(0)))[5][0])
    assert (empty["num"], empty["bucket"]) == (0, [])


def test_writer_file_name_first_record_and_close(tmp_path):
    writer = event_file.EventFileWriter(tmp_path / "a" / "train", clock=lambda: 1234.5)
    other = event_file.EventFileWriter(tmp_path / "a" / "train", clock=lambda: 1234.5)
    pattern = rf"events\.out\.tfevents\.0000001234\.{re.escape(os.uname().nodename)}\.{os.getpid()}\.\d+\.v2"
    assert re.fullmatch(pattern, os.path.basename(writer.path)) and writer.path != other.path
    writer.write(3, [summary_values.scalar_value("x", 2.5)])
    writer.close()
    writer.close()
    first, second = (tb.event(r) for r in tb.read_records(writer.path))
    assert first == {"wall_time": 1234.5, "step": 0, "file_version": "brain.Event:2", "values": []}
    assert second == {"wall_time": 1234.5, "step": 3, "values": [{"tag": "x", "scalar": 2.5}]}
    with pytest.raises(ValueError, match="is closed"):
        writer.write(4, [])
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="cannot create the log folder"):
        event_file.EventFileWriter(tmp_path / "file" / "train")


# ---- what fit writes ------------------------------------------------------------------------------------------
def _sequential():
    nr.seed(0)
    model = models.Sequential([layers.Input((2,)), layers.Dense(4, activation="relu", name="d1"),
                               layers.BatchNormalization(name="bn"), layers.Dense(2, activation="softmax", name="d2")],
                              name="seq")
    model.compile(optimizer=nr.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_writes_keras_tags_steps_and_values(tmp_path):
    x, y = blobs(40)
    model = _sequential()
    seen = {"batches": [], "tests": [], "weights": {}}
    record = callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen["batches"].append(dict(logs)),
        on_test_end=lambda logs: seen["tests"].append((model.optimizer.iterations, dict(logs))),
        on_epoch_end=lambda e, logs: seen["weights"].update({e: {w.name: w.numpy() for w in model.weights}}))
    board = callbacks.TensorBoard(tmp_path / "logs", histogram_freq=2, update_freq=2)
    history = model.fit(x[:30], y[:30], epochs=3, batch_size=10, verbose=0, validation_data=(x[30:], y[30:]),
                        callbacks=[record, board])
    train, val = tb.scalars(tmp_path / "logs" / "train"), tb.scalars(tmp_path / "logs" / "validation")
    assert sorted(train) == ["batch_accuracy", "batch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    for key in ("loss", "accuracy"):
        assert train[f"epoch_{key}"] == [(e, f32(v)) for e, v in enumerate(history.history[key])]
        assert val[f"epoch_{key}"] == [(e, f32(v)) for e, v in enumerate(history.history[f"val_{key}"])]
        # every 2nd of the 9 batches, counted from 1 across epochs, with the running means of the logs
        assert train[f"batch_{key}"] == [(s, f32(seen["batches"][s - 1][key])) for s in (2, 4, 6, 8)]
        assert val[f"evaluation_{key}_vs_iterations"] == [(it, f32(logs[key])) for it, logs in seen["tests"]]
    assert [it for it, _ in seen["tests"]] == [3, 6, 9]
    assert train["epoch_learning_rate"] == [(0, f32(0.1)), (1, f32(0.1)), (2, f32(0.1))]
    assert sorted(val) == ["epoch_accuracy", "epoch_loss", "evaluation_accuracy_vs_iterations",
                           "evaluation_loss_vs_iterations"]

    values = tb.read_run(tmp_path / "logs" / "train")
    histograms = [(step, v["tag"], v["histo"]) for step, v in values if "histo" in v]
    names = ["d1/kernel", "d1/bias", "bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance", "d2/kernel",
             "d2/bias"]
    assert [(s, t) for s, t, _ in histograms] == [(e, f"seq/{n}/histogram") for e in (0, 2) for n in names]
    for step, tag, h in histograms:
        w = seen["weights"][step][tag[len("seq/"):-len("/histogram")]].astype(np.float64)
        counts, _ = np.histogram(w, bins=30) if w.min() < w.max() else ([w.size], None)
        assert (h["num"], h["min"], h["max"]) == (w.size, w.min(), w.max()) and h["bucket"] == list(counts)
    (graph,) = [(s, v) for s, v in values if v["tag"] == "keras"]
    assert graph[0] == 0 and graph[1]["plugin"] == ("graph_keras_model", b"1")
    dtype, shape, (text,) = graph[1]["tensor"]
    assert (dtype, shape) == (7, []) and json.loads(text) == json.loads(model.to_json())  # 7: DT_STRING
    assert board._writers == {}  # closed when training ended


def test_functional_and_nested_weight_paths_as_keras_names_them(tmp_path):
    # Keras 3.15 (scratch script): a Functional model's weights are "<layer>/<weight>", those of a Sequential
    # inside it "<sequential>/<layer>/<weight>"
    inputs = nr.Input((2,))
    block = models.Sequential([layers.Input((2,)), layers.Dense(3, name="inner")], name="block")
    model = nr.Model(inputs, layers.Dense(2, name="head")(block(inputs)), name="outer")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 2), "float32"), verbose=0,
              callbacks=[callbacks.TensorBoard(tmp_path, histogram_freq=1, write_graph=False)])
    tags = [v["tag"] for _, v in tb.read_run(tmp_path / "train") if "histo" in v]
    assert tags == ["block/inner/kernel/histogram", "block/inner/bias/histogram", "head/kernel/histogram",
                    "head/bias/histogram"]


def test_every_epoch_is_on_disk_when_it_ends_and_survives_a_crash(tmp_path):
    x, y = blobs(20)
    counts = []

    def peek(epoch, logs):
        counts.append(len(tb.scalars(tmp_path / "train")["epoch_loss"]))
        if epoch == 2:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        _sequential().fit(x, y, epochs=5, batch_size=10, verbose=0,
                          callbacks=[callbacks.TensorBoard(tmp_path), callbacks.LambdaCallback(on_epoch_end=peek)])
    assert counts == [1, 2, 3]  # flushed at once; the crash loses nothing written before it


def test_steps_per_second_and_batch_updates(tmp_path):
    x, y = blobs(20)
    on_disk = []
    peek = callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: on_disk.append(len(tb.scalars(tmp_path / "train")["batch_loss"])))
    _sequential().fit(x, y, epochs=2, batch_size=10, verbose=0,
                      callbacks=[callbacks.TensorBoard(tmp_path, update_freq="batch", write_steps_per_second=True),
                                 peek])
    assert on_disk == [1, 2, 3, 4]  # each batch's records are flushed as they are written
    train = tb.scalars(tmp_path / "train")
    assert [s for s, _ in train["batch_steps_per_second"]] == [1, 2, 3, 4] == [s for s, _ in train["batch_loss"]]
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert all(v > 0 for _, v in train["batch_steps_per_second"] + train["epoch_steps_per_second"])
    _sequential().fit(x, y, epochs=1, batch_size=10, verbose=0, callbacks=[callbacks.TensorBoard(tmp_path / "b")])
    assert sorted(tb.scalars(tmp_path / "b" / "train")) == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]


def test_evaluate_writes_evaluation_scalars_and_closes(tmp_path):
    x, y = blobs(20)
    model = _sequential()
    model.fit(x, y, epochs=2, batch_size=10, verbose=0)
    board = callbacks.TensorBoard(tmp_path)
    loss, accuracy = model.evaluate(x, y, verbose=0, callbacks=[board])
    assert tb.scalars(tmp_path / "validation") == {"evaluation_accuracy_vs_iterations": [(4, f32(accuracy))],
                                                   "evaluation_loss_vs_iterations": [(4, f32(loss))]}
    assert board._writers == {} and not (tmp_path / "train").exists()


def test_logs_that_are_not_one_number_are_skipped_with_one_warning(tmp_path):
    x, y = blobs(20)
    add = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(per_class=[0.5, 0.25], n=np.int64(3)))
    with pytest.warns(UserWarning, match=r"the log 'per_class' is not a single number") as caught:
        _sequential().fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[add, callbacks.TensorBoard(tmp_path)])
    assert sum("per_class" in str(w.message) for w in caught) == 1
    train = tb.scalars(tmp_path / "train")
    assert "epoch_per_class" not in train and train["epoch_n"] == [(0, 3.0), (1, 3.0)]


def test_graph_is_skipped_for_subclassed_models(tmp_path):
    class Net(models.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(2, name="dense_a")

        def call(self, x):
            return self.dense(x)

    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0,
              callbacks=[callbacks.TensorBoard(tmp_path, histogram_freq=1)])
    tags = [v["tag"] for _, v in tb.read_run(tmp_path / "train")]
    assert "keras" not in tags and "net/dense_a/kernel/histogram" in tags  # a subclassed model scopes its layers


def test_a_model_without_json_trains_without_its_graph(tmp_path):
    model = models.Sequential([layers.Input((2,)), layers.Lambda(lambda t: t * 2), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(UserWarning, match="cannot be written as JSON, so its graph is not written"):
        model.fit(np.ones((4, 2), "float32"), np.ones((4, 2), "float32"), verbose=0,
                  callbacks=[callbacks.TensorBoard(tmp_path)])
    assert "epoch_loss" in tb.scalars(tmp_path / "train")


# ---- weight images --------------------------------------------------------------------------------------------
def test_weight_image_layouts_as_keras():
    v = np.arange(6, dtype=np.float64) / 10
    assert _weight_images(v).shape == (1, 6, 1, 1)  # a vector: one 6 x 1 image
    assert _weight_images(v.reshape(3, 2)).shape == (1, 2, 3, 1)  # taller than wide: transposed
    assert _weight_images(np.zeros((3, 3, 1, 5))).shape == (5, 3, 3, 1)  # squeezed, one image per filter
    assert _weight_images(np.zeros((3, 3, 2, 5))) is None and _weight_images(np.zeros(())) is None
    assert _weight_images(np.zeros((2, 3, 3, 4))).shape == (2, 3, 3, 4)  # 4-D with 4 last: RGBA as it is
    pixels = _weight_images(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan]))[0, :, 0, 0]
    assert pixels.tolist() == [0, 0, 127, 255, 255, 0]  # min(max(v * 255.5, 0), 255), truncated; NaN -> 0


def test_write_images_writes_decodable_pngs_of_the_weights(tmp_path):
    model = _sequential()
    seen = {}
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: seen.update({w.name: w.numpy() for w in model.weights}))
    x, y = blobs(20)
    model.fit(x, y, epochs=1, batch_size=10, verbose=0,
              callbacks=[record, callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    images = {v["tag"]: v for _, v in tb.read_run(tmp_path / "train") if v.get("plugin", ("",))[0] == "images"}
    assert sorted(images) == sorted(f"seq/{n}/image" for n in ("d1/kernel", "d1/bias", "bn/gamma", "bn/beta",
                                                                "bn/moving_mean", "bn/moving_variance", "d2/kernel",
                                                                "d2/bias"))
    dtype, shape, (width, height, png) = images["seq/d1/kernel/image"]["tensor"]
    kernel = seen["d1/kernel"]  # (2, 4): wider than tall, so drawn as it is
    assert (dtype, shape, width, height) == (7, [3], b"4", b"2")
    expected = np.clip(kernel.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
    assert np.array(tb.decode_png(png))[:, :, 0].tolist() == expected.tolist()
    with pytest.warns(UserWarning, match="writes images only with the histograms"):
        callbacks.TensorBoard(tmp_path, write_images=True)


# ---- arguments ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, message", [
    ({"log_dir": None}, TypeError, r"TensorBoard: expected a path \(str or os.PathLike\) as log_dir, got None"),
    ({"log_dir": 3}, TypeError, r"as log_dir, got 3 \(int\)"),
    ({"log_dir": ""}, ValueError, "got the empty path"),
    ({"update_freq": "steps"}, ValueError, r"update_freq must be 'epoch', 'batch' or a positive number of batches, "
                                           r"got 'steps' \(str\)"),
    ({"update_freq": 0}, ValueError, r"update_freq .* got 0 \(int\)"),
    ({"update_freq": True}, ValueError, r"update_freq .* got True \(bool\)"),
    ({"update_freq": 2.0}, ValueError, r"update_freq .* got 2.0 \(float\)"),
    ({"histogram_freq": -1}, ValueError, r"histogram_freq must be a non-negative integer, got -1 \(int\)"),
    ({"histogram_freq": 1.5}, ValueError, r"histogram_freq must be a non-negative integer, got 1.5"),
    ({"embeddings_freq": -2}, ValueError, r"embeddings_freq must be a non-negative integer"),
    ({"write_graph": "yes"}, TypeError, r"write_graph must be True or False, got 'yes' \(str\)"),
    ({"write_images": 1}, TypeError, r"write_images must be True or False, got 1 \(int\)"),
    ({"write_steps_per_second": None}, TypeError, r"write_steps_per_second must be True or False"),
    ({"profile_batch": 5}, ValueError, r"profiling is not available in Neurona, got profile_batch=5"),
    ({"profile_batch": (2, 4)}, ValueError, r"profiling is not available .* profile_batch=\(2, 4\)"),
    ({"profile_batch": "2,4"}, ValueError, r"profiling is not available"),
    ({"profile_batch": -1}, ValueError, r"profile_batch must be a non-negative integer or a pair"),
    ({"profile_batch": (4, 2)}, ValueError, r"profile_batch must be .* got \(4, 2\) \(tuple\)"),
    ({"profile_batch": "a"}, ValueError, r"profile_batch must be"),
    ({"profile_batch": 1.0}, ValueError, r"profile_batch must be"),
    ({"embeddings_metadata": 3}, TypeError, r"embeddings_metadata must be None, a file name \(str\) or a dict"),
], ids=lambda v: repr(v) if isinstance(v, dict) else "")
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        callbacks.TensorBoard(**kwargs)


def test_accepted_arguments(tmp_path):
    board = callbacks.TensorBoard(tmp_path, update_freq=np.int64(5), profile_batch=(0, 0), histogram_freq=np.int32(2))
    assert (board.update_freq, board.profile_batch, board.histogram_freq) == (5, 0, 2)
    assert callbacks.TensorBoard(update_freq="batch").update_freq == 1 and callbacks.TensorBoard().log_dir == "logs"
    assert callbacks.TensorBoard(profile_batch="0").profile_batch == 0
    with pytest.warns(UserWarning, match="embeddings_freq=1 is not supported"):
        callbacks.TensorBoard(tmp_path, embeddings_freq=1, embeddings_metadata={"emb": "meta.tsv"})
    assert not os.listdir(tmp_path)  # nothing is written before training starts
