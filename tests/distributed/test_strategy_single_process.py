"""``distribute=DataParallel()`` without mpirun: one process trains as without it; a twin peer exercises the rest.

One process: bit-identical results, not merely close. With one process there is nothing to sum and nobody to
wait for: the steps, logs and shuffled order are those of a plain ``fit``, so any difference would be a change
in what is computed.

``Twin`` (fakes.py) is rank 0 of 2 whose peer sends exactly what it sends. Each process's share of a global
batch of 2b rows is 1/2, so the summed gradient ``2 x (g / 2)`` equals the gradient ``g`` of rank 0's half of
the batch to the bit (multiplying by 1/2 and 2 is exact in binary floating point); the averaged moving statistics
``2 x (m / 2)`` and the doubled metric states (totals and counts both doubled: the same ratios) are exact too. A
fit under ``Twin`` must therefore end bit-identical to a plain fit on rank 0's halves of the batches.
"""

import numpy
import pytest

import neurona as nr
from neurona import callbacks, layers, mixed_precision, models, optimizers
from neurona.distributed import DataParallel, DistributedError
from neurona.distributed import communicator as communicator_module
from neurona.distributed.buckets import CONTROL_SLOTS
from neurona.distributed.communicator import LocalCommunicator

from .fakes import Twin


@pytest.fixture(autouse=True)
def _one_process(monkeypatch):
    monkeypatch.setattr(communicator_module, "_world", LocalCommunicator())


@pytest.fixture
def twin(monkeypatch):
    comm = Twin()
    monkeypatch.setattr(communicator_module, "_world", comm)
    return comm


@pytest.fixture
def mixed_float16():
    mixed_precision.set_policy("mixed_float16")
    yield
    mixed_precision.set_policy(None)


def data(n=101, seed=1):
    rng = numpy.random.default_rng(seed)
    return rng.normal(size=(n, 12)).astype("float32"), numpy.eye(3, dtype="float32")[rng.integers(0, 3, n)]


def model(metrics=("accuracy", "auc"), optimizer="adam"):
    nr.seed(0)
    net = models.Sequential([layers.Input((12,)), layers.Dense(16, activation="tanh"), layers.BatchNormalization(),
                             layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    net.compile(optimizer, "categorical_crossentropy", metrics=list(metrics))
    return net


def assert_same_weights(net, other):
    assert len(net.weights) == len(other.weights)
    for w, v in zip(net.weights, other.weights):
        numpy.testing.assert_array_equal(w.data, v.data, err_msg=w.name)


def train(distribute):
    """fit (shuffled, validation, a last batch of 1 row), evaluate, predict: everything they return."""
    x, y = data()
    net = model()
    nr.seed(5)  # the shuffling generator
    history = net.fit(x, y, batch_size=16, epochs=2, validation_split=0.2, verbose=0,
                      distribute=distribute() if distribute else None)
    scores = net.evaluate(x, y, batch_size=30, verbose=0, return_dict=True,
                          distribute=distribute() if distribute else None)
    predictions = net.predict(x, batch_size=30, verbose=0, distribute=distribute() if distribute else None)
    return net, history.history, scores, predictions


def test_one_process_trains_exactly_as_without_distribute():
    plain, plain_history, plain_scores, plain_predictions = train(None)
    net, history, scores, predictions = train(DataParallel)
    assert history == plain_history and scores == plain_scores
    assert set(history) == {"loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"}
    numpy.testing.assert_array_equal(predictions, plain_predictions)
    assert_same_weights(net, plain)
    assert len(net.weights) == 8 and net.optimizer.iterations == plain.optimizer.iterations == 12  # ceil(81/16) x 2
    assert net.optimizer._gradient_reducer is None


def test_one_process_keeps_the_logs_of_a_custom_train_step():
    class Custom(models.Sequential):
        def train_step(self, data):
            return {**super().train_step(data), "custom": 7.0}

    x, y = data(64)
    histories = []
    for distribute in (None, DataParallel()):
        nr.seed(0)
        net = Custom([layers.Input((12,)), layers.Dense(3, activation="softmax")])
        net.compile("adam", "categorical_crossentropy")
        histories.append(net.fit(x, y, batch_size=32, verbose=0, distribute=distribute).history)
    assert histories[1] == histories[0]


def halves(array, batch):
    """Rank 0's rows of every global batch of ``batch`` rows (the first half of each; len(array) % batch == 0)."""
    return array.reshape(-1, 2, batch // 2, *array.shape[1:])[:, 0].reshape(-1, *array.shape[1:])


def test_a_twin_run_trains_exactly_as_one_process_on_its_half_of_every_batch(twin):
    (x, y), (xv, yv) = data(128), data(64, seed=2)
    runs = []
    for strategy in (DataParallel(), None):
        net = model()
        nr.seed(5)
        if strategy is None:
            history = net.fit(halves(x, 32), halves(y, 32), batch_size=16, epochs=2, shuffle=False, verbose=0,
                              validation_data=(halves(xv, 32), halves(yv, 32)), validation_batch_size=16)
            scores = net.evaluate(halves(xv, 32), halves(yv, 32), batch_size=16, verbose=0)
        else:
            history = net.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, validation_data=(xv, yv),
                              distribute=strategy)
            assert strategy.allreduce_calls == 8  # one per step: 128 / 32 x 2
            # a step's first allreduce: the control slots, every trainable weight and the 2 x 16 moving statistics
            assert twin.reduced[0] == CONTROL_SLOTS + len(net.trainable_weights) + \
                sum(w.data.size for w in net.trainable_weights) + 32
            scores = net.evaluate(xv, yv, batch_size=32, verbose=0, distribute=DataParallel())
        runs.append((net, history.history, scores))
    (net, history, scores), (plain, plain_history, plain_scores) = runs
    assert history == plain_history and scores == plain_scores and "val_auc" in history
    assert_same_weights(net, plain)  # the moving mean and variance (averaged) included
    assert net.optimizer.iterations == plain.optimizer.iterations == 8 and twin.aborted == []


def test_the_reducer_is_there_for_fit_only_and_removed_when_fit_raises(twin, capfd):
    x, y = data(128)
    net, strategy, seen = model(), DataParallel(), []

    class Probe(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(net.optimizer._gradient_reducer)
            if batch == 1:
                raise RuntimeError("a callback failed")

    with pytest.raises(RuntimeError, match="a callback failed"):
        net.fit(x, y, batch_size=32, verbose=0, callbacks=[Probe()], distribute=strategy)
    assert len(seen) == 2 and all(r is not None and r.__self__.comm is strategy.comm for r in seen)
    assert net.optimizer._gradient_reducer is None
    assert twin.aborted == [1]  # the peer may wait in a collective: the run is stopped, not left hanging
    assert "rank 0 of 2 failed" in capfd.readouterr().err


class FailingLayer(layers.Layer):
    def call(self, x, training=False):
        if training:
            raise ValueError("a bad batch")
        return x


def test_an_error_before_the_gradient_is_raised_as_a_distributed_error_without_abort(twin):
    x, y = data(64)
    nr.seed(0)
    net = models.Sequential([layers.Input((12,)), FailingLayer(), layers.Dense(3, activation="softmax")])
    net.compile("sgd", "categorical_crossentropy")
    before = [w.data.copy() for w in net.weights]
    with pytest.raises(DistributedError, match="rank 0: ValueError: a bad batch") as raised:
        net.fit(x, y, batch_size=32, verbose=0, distribute=DataParallel())
    assert raised.value.failures == {0: "ValueError: a bad batch", 1: "ValueError: a bad batch"}
    assert isinstance(raised.value.__cause__, ValueError) and twin.aborted == []
    assert net.optimizer._gradient_reducer is None and net.optimizer.iterations == 0
    for w, b in zip(net.weights, before):
        numpy.testing.assert_array_equal(w.data, b)


def mixed_model():
    nr.seed(0)
    net = nr.Sequential([layers.Input((8,)), layers.Dense(16, activation="relu"),
                         layers.Dense(3, activation="softmax")])
    net.compile(optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    assert isinstance(net.optimizer, optimizers.LossScaleOptimizer)
    net.optimizer.dynamic_scale = 2.0**19  # the first steps overflow float16: skipped, the scale halved
    return net


def test_loss_scaling_scales_by_the_process_share_and_reduces_once(mixed_float16, twin):
    """Under float16 the loss that backward sees is loss x dynamic scale x this process's share of the global
    batch (so the scaled gradients are as large as one process's over the whole batch, and overflow alike); the
    scaler's gradients are summed once per step, not the inner optimizer's again."""
    rng = numpy.random.default_rng(3)
    x, y = rng.normal(size=(256, 8)).astype("float32"), rng.integers(0, 3, 256)
    strategy, net, seen = DataParallel(), mixed_model(), []
    scale_loss = net.optimizer.scale_loss

    def spy(loss):
        scaled = scale_loss(loss)
        seen.append((float(loss.data), float(scaled.data), net.optimizer.dynamic_scale))
        return scaled

    net.optimizer.scale_loss = spy
    loss = net.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, distribute=strategy).history["loss"]
    assert strategy.allreduce_calls == 24 and net.optimizer.inner_optimizer._gradient_reducer is None
    assert len(seen) == 24
    for value, scaled, scale in seen:
        assert scaled == pytest.approx(value * scale * 0.5, rel=1e-6)  # twin: each process holds half the batch
    assert net.optimizer.iterations == 24 - net.optimizer.skipped_steps and loss[-1] < loss[0]
    assert net.optimizer._loss_share is None  # fit over: scale_loss is the plain one again


def test_loss_scaling_in_one_process_trains_as_without_distribute(mixed_float16):
    rng = numpy.random.default_rng(3)
    x, y = rng.normal(size=(128, 8)).astype("float32"), rng.integers(0, 3, 128)
    nets = [mixed_model(), mixed_model()]
    for net, strategy in zip(nets, (None, DataParallel())):
        nr.seed(7)
        net.fit(x, y, batch_size=32, epochs=2, verbose=0, distribute=strategy)
    assert nets[1].optimizer.skipped_steps == nets[0].optimizer.skipped_steps > 0
    assert nets[1].optimizer.iterations == nets[0].optimizer.iterations > 0
    assert_same_weights(nets[1], nets[0])


@pytest.mark.parametrize("wrong", ["mirrored", 1, True, DataParallel])
@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_distribute_takes_none_or_a_data_parallel_strategy(wrong, call):
    x, y = data(8)
    net = model()
    args = (x,) if call == "predict" else (x, y)
    with pytest.raises(ValueError, match=rf"{call}: distribute must be None or a neurona\.distributed\.DataParallel"):
        getattr(net, call)(*args, verbose=0, distribute=wrong)
    assert net.optimizer.iterations == 0


@pytest.mark.parametrize("bucket_bytes", [10, 1023, 0, -5, True, 2048.0, "25MB", None])
def test_bucket_bytes_must_be_an_integer_of_at_least_1024(bucket_bytes):
    with pytest.raises(ValueError, match=f"bucket_bytes must be an integer >= 1024, got {bucket_bytes!r}"):
        DataParallel(bucket_bytes=bucket_bytes)


def test_bucket_bytes_sets_the_largest_buffer():
    assert DataParallel(bucket_bytes=1024).bucket_bytes == 1024
    assert DataParallel(bucket_bytes=numpy.int64(4096)).bucket_bytes == 4096
    strategy = DataParallel()
    assert (strategy.rank, strategy.size) == (0, 1) and repr(strategy) == "DataParallel(rank=0, size=1)"


class Announcer(callbacks.Callback):
    rank_zero_only = True


def test_rank_zero_only_callbacks_run_on_rank_zero_alone(tmp_path):
    writers = [callbacks.CSVLogger(str(tmp_path / "log.csv")),
               callbacks.ModelCheckpoint(str(tmp_path / "m.weights.h5"), save_weights_only=True),
               callbacks.ProgbarLogger(), callbacks.TensorBoard(str(tmp_path / "tb")), Announcer()]
    deciders = [callbacks.EarlyStopping(), callbacks.TerminateOnNaN(), callbacks.Callback()]
    given = [writers[0], deciders[0], writers[1], deciders[1], *writers[2:], deciders[2]]
    strategy = DataParallel()
    assert strategy.callbacks(given) is given and strategy.verbose(1) == 1
    strategy.rank = 1
    kept = strategy.callbacks(given)
    assert len(kept) == 3 and all(a is b for a, b in zip(kept, deciders))  # in their order
    assert strategy.verbose(2) == 0 and strategy.callbacks(None) is None and strategy.callbacks([]) == []
