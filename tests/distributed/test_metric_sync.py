"""``metric_sync.reduced_results`` with the processes simulated in one (tests/distributed/fakes.py).

Each rank's metrics are updated on its part of the data; the reduced results must equal the metrics of all
the data updated in one process. The states are float64 running sums (counts, weighted totals): splitting the
samples only changes the order of the float64 additions, so the results agree to ~1e-15 relative (1e-10 is
allowed); the compiled model's loss is a float32 value per batch, weighted by the batch size, so its mean agrees
to float32's ~1e-7 (1e-6 allowed).
"""

import functools

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import layers, metrics, models
from neurona.distributed import metric_sync

from .fakes import simulate

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, database=None)


def dataset(n, seed):
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    return {"onehot": numpy.eye(3, dtype="float32")[labels], "labels": labels,
            "probs": rng.dirichlet(numpy.ones(3), n).astype("float32"),
            "values": rng.normal(size=n), "weights": rng.uniform(0.1, 2.0, n),
            "x": rng.normal(size=(n, 4)).astype("float32")}


class PositiveCount(metrics.Metric):
    """Keras's way: the state is ``add_variable`` variables (aggregation "sum", the default; float64 here, so that
    the sums of the parts equal the sum of the whole to float64's rounding)."""

    def __init__(self, name="positive_count"):
        super().__init__(name=name)
        self.count = self.add_variable(shape=(), initializer="zeros", dtype="float64", name="count")
        self.per_class = self.add_variable(shape=(3,), dtype="float64", name="per_class")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(numpy.sum(numpy.asarray(y_true)[:, 0]))
        self.per_class.assign_add(numpy.asarray(y_pred, dtype=numpy.float64).sum(axis=0))

    def result(self):
        return float(self.count.data) + float(self.per_class.data @ numpy.array([1.0, 10.0, 100.0]))


class SeenRows(metrics.Metric):
    """A custom metric keeping plain attributes: its state is unknown to the reduction."""

    def __init__(self, name="seen_rows"):
        super().__init__(name=name)
        self.seen = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.seen += len(y_true)

    def result(self):
        return float(self.seen)

    def reset_state(self):
        self.seen = 0


def standalone_metrics():
    """``[(metric, update(metric, data, rows))]``: every kind of state the built-in metrics keep."""
    def mean(m, d, s):
        m.update_state(d["values"][s], sample_weight=d["weights"][s])

    def classes(m, d, s):
        m.update_state(d["onehot"][s], d["probs"][s])

    def binary(m, d, s):
        m.update_state(d["onehot"][s, :1], d["probs"][s, :1])

    def labels(m, d, s):
        m.update_state(d["labels"][s], d["probs"][s].argmax(axis=1))

    return [(metrics.Mean(), mean), (metrics.Accuracy(), labels), (metrics.CategoricalAccuracy(), classes),
            (metrics.Precision(thresholds=[0.3, 0.5, 0.7]), binary), (metrics.Recall(), binary),
            (metrics.AUC(), binary), (metrics.AUC(curve="PR", name="pr_auc"), binary),
            (metrics.F1Score(), classes), (metrics.FBetaScore(average="macro", beta=2.0, threshold=0.4), classes),
            (PositiveCount(), classes)]


def results_of(items):
    return {m.name: m.result() for m, _ in items}


def assert_same(got, expected, rtol=1e-10):
    assert set(got) == set(expected)
    for name in expected:
        numpy.testing.assert_allclose(got[name], expected[name], rtol=rtol, atol=1e-12, err_msg=name)


def state_of(metric):
    """The metric's state as (type, float64 numbers), for checking it comes back unchanged."""
    values = [getattr(metric, name) for name in type(metric)._additive_state] + [v.data for v in metric._variables]
    return [(type(v).__name__, numpy.asarray(numpy.array(v, dtype=object).tolist(), dtype=numpy.float64))
            for v in values]


def split_run(data, bounds, make):
    """``run(comm)`` for ``simulate``: rank r's metrics updated on rows ``bounds[r]:bounds[r + 1]``."""
    def run(comm):
        items = make()
        rows = slice(bounds[comm.rank], bounds[comm.rank + 1])
        for metric, update in items:
            update(metric, data, rows)
        before, states = results_of(items), [state_of(m) for m, _ in items]
        reduced = metric_sync.reduced_results(comm, [m for m, _ in items])
        for (metric, _), state in zip(items, states):  # each process's own state, put back
            for (kind, numbers), (kind_after, after) in zip(state, state_of(metric)):
                assert kind == kind_after
                numpy.testing.assert_array_equal(numbers, after, err_msg=metric.name)
        assert_same(results_of(items), before, rtol=0)
        return reduced
    return run


@SETTINGS
@given(n=st.integers(2, 40), seed=st.integers(0, 2**16), cut=st.floats(0.0, 1.0))
def test_two_processes_report_the_metrics_of_all_their_samples(n, seed, cut):
    data, k = dataset(n, seed), 1 + int(cut * (n - 2))  # both ranks get rows: 1 <= k <= n - 1
    everything = standalone_metrics()
    for metric, update in everything:
        update(metric, data, slice(0, n))
    expected = results_of(everything)
    for reduced in simulate(2, split_run(data, [0, k, n], standalone_metrics)):
        assert_same(reduced, expected)


@SETTINGS
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(1, 29), min_size=2, max_size=2, unique=True))
def test_three_unequal_parts_are_weighed_by_their_samples_not_averaged(seed, cuts):
    data, (a, b) = dataset(30, seed), sorted(cuts)
    mean = lambda: [(metrics.Mean(), lambda m, d, s: m.update_state(d["values"][s]))]  # noqa: E731
    whole = mean()[0][0]
    whole.update_state(data["values"])
    for reduced in simulate(3, split_run(data, [0, a, b, 30], mean)):
        assert reduced["mean"] == pytest.approx(whole.result(), rel=1e-12)


@functools.cache
def compiled_model(extra=()):
    nr.seed(0)
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy",
                  metrics=["accuracy", metrics.Precision(), metrics.AUC(), metrics.F1Score(average="micro"),
                           *[cls() for cls in extra]])
    return model


def model_run(model, data, bounds, batch=4):
    def run(comm):
        model.reset_metrics()
        lo, hi = bounds[comm.rank], bounds[comm.rank + 1]
        for start in range(lo, hi, batch):
            model.test_step((data["x"][start:min(start + batch, hi)], data["onehot"][start:min(start + batch, hi)]))
        before = model.get_metrics_result()
        reduced = metric_sync.reduced_results(comm, model.metrics)
        assert model.get_metrics_result() == before  # the local running state is untouched
        return reduced, before
    return run


def whole_data_results(model, data):
    model.reset_metrics()
    model.test_step((data["x"], data["onehot"]))
    return model.get_metrics_result()


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 2**16), cut=st.floats(0.0, 1.0))
def test_a_compiled_models_metrics_are_those_of_the_global_batch(n, seed, cut):
    model, data, k = compiled_model(), dataset(n, seed), 1 + int(cut * (n - 2))
    expected = whole_data_results(model, data)
    assert set(expected) == {"loss", "accuracy", "precision", "auc", "f1_score"}
    for reduced, _ in simulate(2, model_run(model, data, [0, k, n])):
        assert_same(reduced, expected, rtol=1e-6)


def test_an_unknown_metric_reports_rank_zeros_result_everywhere():
    data = dataset(20, 3)
    make = lambda: [(SeenRows(), lambda m, d, s: m.update_state(d["onehot"][s], d["probs"][s]))]  # noqa: E731
    assert [r["seen_rows"] for r in simulate(3, split_run(data, [0, 4, 9, 20], make))] == [4.0, 4.0, 4.0]


def test_an_unknown_metric_among_the_compiled_ones_leaves_the_others_global():
    """A custom metric without declared state takes rank 0's result; the compiled metrics beside it stay global."""
    model, data = compiled_model(extra=(SeenRows,)), dataset(40, 7)
    expected = whole_data_results(model, data)
    runs = simulate(2, model_run(model, data, [0, 3, 40]))
    for reduced, _ in runs:
        assert reduced["seen_rows"] == 3.0  # rank 0's
        assert_same({k: v for k, v in reduced.items() if k != "seen_rows"},
                    {k: v for k, v in expected.items() if k != "seen_rows"}, rtol=1e-6)
    assert runs[0][1]["accuracy"] != pytest.approx(expected["accuracy"])  # rank 0 alone would differ


class Aggregated(metrics.Metric):
    """One variable per aggregation; ``result`` reports them all."""

    def __init__(self, name="aggregated"):
        super().__init__(name=name)
        self.kinds = {"sum": "sum", "mean": "mean", "first": "only_first_replica", "none": "none", "null": None}
        for key, aggregation in self.kinds.items():
            setattr(self, key, self.add_variable(shape=(2,), aggregation=aggregation, name=key))

    def update_state(self, values):
        for key in self.kinds:
            getattr(self, key).assign_add(numpy.asarray(values, dtype="float32"))

    def result(self):
        return {key: numpy.array(getattr(self, key).data) for key in self.kinds}


def test_each_aggregation_of_add_variable_is_honoured():
    values = [numpy.array([1.0, 2.0]), numpy.array([10.0, 20.0]), numpy.array([100.0, 400.0])]

    def run(comm):
        metric = Aggregated()
        metric.update_state(values[comm.rank])
        reduced = metric_sync.reduced_results(comm, [metric])
        numpy.testing.assert_array_equal(metric.result()["sum"], values[comm.rank])  # put back
        return reduced

    for rank, reduced in enumerate(simulate(3, run)):
        numpy.testing.assert_allclose(reduced["sum"], [111.0, 422.0])
        numpy.testing.assert_allclose(reduced["mean"], [37.0, 422.0 / 3], rtol=1e-6)
        numpy.testing.assert_array_equal(reduced["first"], values[0])
        numpy.testing.assert_array_equal(reduced["none"], values[rank])  # kept per process
        numpy.testing.assert_array_equal(reduced["null"], values[rank])
        assert reduced["sum"].dtype == numpy.float32  # the variable's dtype, through the float64 vector


def test_one_process_gets_its_own_results_and_no_metric_sends_nothing():
    from neurona.distributed.communicator import LocalCommunicator

    data = dataset(12, 0)
    items = standalone_metrics()
    for metric, update in items:
        update(metric, data, slice(0, 12))
    assert_same(metric_sync.reduced_results(LocalCommunicator(), [m for m, _ in items]), results_of(items), rtol=0)


def test_a_process_without_samples_adds_nothing_and_gets_the_others_results():
    """Rank 1 saw no row (its reset state is scalar zeros where rank 0 holds per-threshold or per-class arrays):
    both get the results of rank 0's rows alone, as one process that saw them."""
    data = dataset(6, 1)

    def run(comm):
        items = standalone_metrics()
        for metric, update in items if comm.rank == 0 else ():
            update(metric, data, slice(0, 6))
        return metric_sync.reduced_results(comm, [m for m, _ in items])

    alone = standalone_metrics()
    for metric, update in alone:
        update(metric, data, slice(0, 6))
    for results in simulate(2, run):
        assert_same(results, results_of(alone), rtol=0)
