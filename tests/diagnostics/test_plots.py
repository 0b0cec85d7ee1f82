"""``diagnostics.plots``: the figures hold the report's numbers, files are written whole, pyplot is left alone."""

import copy
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import neurona as nr
from neurona import initializers, layers
from neurona.diagnostics import inspect
from neurona.diagnostics.plots import MAX_HISTOGRAMS, _histogram_layers, plot_comparison, plot_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _x(n=64, d=12, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _stack(init, activation="tanh", depth=3, width=16, d=12):
    return nr.Sequential([nr.Input((d,))] + [layers.Dense(width, activation=activation, kernel_initializer=init)
                                             for _ in range(depth)] + [layers.Dense(4)])


@pytest.fixture(scope="module")
def mpl():
    return pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def report():
    return inspect(_stack(initializers.GlorotNormal(seed=1)), _x())


def _names(report):
    return [r["layer"].rsplit("/", 1)[-1] for r in report.layers]


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_a_png_is_written_whole_and_reads_back_at_the_figure_size(mpl, report, tmp_path):
    import matplotlib.image

    path = tmp_path / "report.png"
    fig = report.plot(path)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    width, height = (fig.get_size_inches() * fig.dpi).round().astype(int)
    assert matplotlib.image.imread(path).shape == (height, width, 4)
    assert os.listdir(tmp_path) == ["report.png"]  # no temporary file left beside it


def test_the_curves_are_the_reports_figures_on_log_axes(mpl, report):
    fig = plot_report(report)
    n = len(report.layers)
    assert len(fig.axes) == 2 + n  # forward panel, backward panel, one histogram per layer
    forward, backward = fig.axes[:2]
    assert forward.get_yscale() == backward.get_yscale() == "log"
    expected = {
        (forward, "activation std"): [r["activation_std"] for r in report.layers],
        (forward, "pre-activation std"): [r["preactivation_std"] for r in report.layers],
        (backward, "output gradient std  (d objective / d output)"): [r["output_grad_std"] for r in report.layers],
        (backward, "kernel gradient std  (d objective / d kernel)"): [r["kernel"]["grad_std"] for r in report.layers],
    }
    for (ax, label), values in expected.items():
        line = _lines(ax)[label]
        assert all(v > 0 and math.isfinite(v) for v in values)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(n))
        np.testing.assert_array_equal(line.get_ydata(), values)
        assert line.get_marker() == "o"
    assert [t.get_text() for t in backward.get_xticklabels()] == _names(report)


def test_each_histogram_is_its_layers_counts_titled_with_name_and_activation(mpl, report):
    fig = plot_report(report)
    for ax, record, name in zip(fig.axes[2:], report.layers, _names(report)):
        assert ax.get_title() == f"{name} ({record['activation']})"
        values, edges, _ = ax.patches[0].get_data()
        np.testing.assert_array_equal(values, record["activation_histogram"]["counts"])
        np.testing.assert_array_equal(edges, record["activation_histogram"]["edges"])
        assert values.sum() == np.prod(record["output_shape"])  # every activation of the batch counted once


def test_zero_and_non_finite_values_are_gaps_named_in_a_note(mpl, report):
    broken = copy.deepcopy(report)
    names = _names(broken)
    broken.layers[1]["activation_std"] = 0.0
    broken.layers[2]["preactivation_std"] = math.nan
    broken.layers[0]["output_grad_std"] = math.inf
    fig = plot_report(broken)
    forward, backward = fig.axes[:2]
    act = _lines(forward)["activation std"].get_ydata()
    assert math.isnan(act[1]) and not np.isnan(np.delete(act, 1)).any()
    assert math.isnan(_lines(forward)["pre-activation std"].get_ydata()[2])
    note = forward.get_title(loc="right")
    assert f"activation std: zero or non-finite, not drawn at {names[1]} (0)" in note
    assert f"pre-activation std: zero or non-finite, not drawn at {names[2]} (nan)" in note
    assert f"{names[0]} (inf)" in backward.get_title(loc="right")
    assert plot_report(report).axes[0].get_title(loc="right") == ""  # nothing skipped, no note


def _synthetic(report, n, histograms=True):
    """``report`` with its first layer's record repeated ``n`` times under new names (no model to run)."""
    fake = copy.deepcopy(report)
    base = {k: v for k, v in report.layers[0].items() if histograms or not k.endswith("_histogram")}
    fake.layers = [dict(copy.deepcopy(base), layer=f"block/layer_{i}") for i in range(n)]
    return fake


def test_at_most_twenty_histograms_spread_evenly_over_depth(mpl, report):
    fig = plot_report(_synthetic(report, 47))
    assert len(fig.axes) == 2 + MAX_HISTOGRAMS
    shown = [int(ax.get_title().split()[0].split("_")[1]) for ax in fig.axes[2:]]
    assert shown[0] == 0 and shown[-1] == 46 and len(set(shown)) == MAX_HISTOGRAMS
    gaps = np.diff(shown)
    assert gaps.max() - gaps.min() <= 1  # evenly: 46 / 19 = 2.4 layers apart, rounded
    assert len(_lines(fig.axes[1])["output gradient std  (d objective / d output)"].get_ydata()) == 47
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels == [f"layer_{i}" for i in range(0, 47, 2)]  # past 40 layers, every other name: they would overlap


@given(n=st.integers(1, 300), missing=st.sets(st.integers(0, 299), max_size=30))
def test_histogram_layers_are_the_first_last_and_evenly_spaced_ones_that_have_one(n, missing):
    records = [{"activation_histogram": None if i in missing else {"counts": [1], "edges": [0, 1]}}
               for i in range(n)]
    have = [i for i in range(n) if i not in missing]
    picked = _histogram_layers(records)
    assert len(picked) == min(len(have), MAX_HISTOGRAMS) and set(picked) <= set(have)
    positions = [have.index(i) for i in picked]  # where the picks sit among the layers that have a histogram
    assert positions == sorted(set(positions))
    if have:
        assert positions[0] == 0 and positions[-1] == len(have) - 1
    if len(positions) > 1:
        gaps = np.diff(positions)
        assert gaps.max() - gaps.min() <= 1


def test_without_histograms_only_the_depth_panels_and_colliding_names_show_their_path(mpl, report):
    fake = _synthetic(report, 3, histograms=False)
    fake.layers[1]["layer"] = "other/layer_0"  # the same last part as block/layer_0
    fig = plot_report(fake)
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["block/layer_0", "other/layer_0", "layer_2"]


def test_an_empty_histogram_is_drawn_as_a_note(mpl, report):
    fake = _synthetic(report, 1)
    fake.layers[0]["activation_histogram"] = {"counts": [], "edges": []}
    ax = plot_report(fake).axes[2]
    assert not ax.patches and ax.texts[0].get_text() == "no finite values"


def test_comparison_puts_each_reports_curves_on_shared_log_axes(mpl, tmp_path):
    x = _x()
    reports = [inspect(_stack("he_normal", "relu"), x),
               inspect(_stack(initializers.RandomNormal(stddev=0.01, seed=2), "relu"), x)]
    path = tmp_path / "compare.svg"
    fig = plot_comparison(reports, ["he_normal", "N(0, 0.01)"], path)
    assert path.read_text().lstrip().startswith("<?xml") and "<svg" in path.read_text()
    assert len(fig.axes) == 2
    forward, backward = fig.axes
    assert forward.get_yscale() == backward.get_yscale() == "log"
    for rep, label in zip(reports, ["he_normal", "N(0, 0.01)"]):
        np.testing.assert_array_equal(_lines(forward)[label].get_ydata(), [r["activation_std"] for r in rep.layers])
        np.testing.assert_array_equal(_lines(backward)[label].get_ydata(), [r["output_grad_std"] for r in rep.layers])
        assert _lines(forward)[label].get_color() == _lines(backward)[label].get_color()
    # separately built models get different automatic names: layers are matched by position and type
    assert [t.get_text() for t in backward.get_xticklabels()] == [f"{i}: Dense" for i in range(4)]
    # tiny weights: the signal shrinks about 100-fold per layer, which a log axis shows as a straight fall
    small = _lines(forward)["N(0, 0.01)"].get_ydata()
    assert small[2] < 1e-3 * small[0]


def test_comparison_rejects_bad_arguments(mpl, report):
    with pytest.raises(ValueError, match="one label per report: 2 reports, 1 labels"):
        plot_comparison([report, report], ["a"])
    with pytest.raises(TypeError, match="labels must be a list of strings"):
        plot_comparison([report], "a")
    with pytest.raises(TypeError, match="reports must be a list of InitReport, got InitReport"):
        plot_comparison(report, ["a"])
    with pytest.raises(ValueError, match="at least one"):
        plot_comparison([], [])
    with pytest.raises(TypeError, match=r"reports\[1\] must be an InitReport .* got dict"):
        plot_comparison([report, {}], ["a", "b"])


def test_without_matplotlib_inspect_works_and_plot_says_what_to_install(report, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    fresh = inspect(_stack("glorot_uniform"), _x())
    assert "verdict:" in str(fresh) and fresh.layers[0]["activation_std"] > 0
    for draw in (lambda: fresh.plot(), lambda: plot_comparison([fresh], ["a"])):
        with pytest.raises(ImportError, match=r"pip install neurona\[plot\]") as info:
            draw()
        assert isinstance(info.value.__cause__, ImportError)


def test_a_save_into_a_missing_directory_raises_and_leaves_nothing(mpl, report, tmp_path):
    path = tmp_path / "missing" / "report.png"
    with pytest.raises(FileNotFoundError, match="directory does not exist"):
        report.plot(path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_save_failing_midway_leaves_the_earlier_file_as_it_was(mpl, report, tmp_path, monkeypatch):
    import matplotlib.figure

    path = tmp_path / "report.png"
    path.write_bytes(b"earlier picture")

    def broken_savefig(self, fname, **kwargs):
        fname.write(PNG_MAGIC + b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        report.plot(path)
    assert path.read_bytes() == b"earlier picture" and os.listdir(tmp_path) == ["report.png"]


def test_bad_paths_and_reports_get_clear_errors(mpl, report, tmp_path):
    with pytest.raises(ValueError, match=r"image format's extension \(.*\.png.*\), got '.*report\.xyz'"):
        report.plot(tmp_path / "report.xyz")
    with pytest.raises(ValueError, match="extension"):
        report.plot(tmp_path / "report")
    with pytest.raises(TypeError, match="path must be a file name .* got int"):
        report.plot(3)
    with pytest.raises(TypeError, match="report must be an InitReport .* got list"):
        plot_report([1, 2])
    empty = copy.deepcopy(report)
    empty.layers = []
    with pytest.raises(ValueError, match="no layer records"):
        plot_report(empty)
    assert os.listdir(tmp_path) == []


def test_pyplot_state_is_untouched(mpl, report, tmp_path):
    import matplotlib.pyplot as plt

    backend, figures = mpl.get_backend(), plt.get_fignums()
    report.plot()
    plot_comparison([report], ["a"], tmp_path / "b.pdf")  # a format that is not the canvas's own
    assert mpl.get_backend() == backend and plt.get_fignums() == figures
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")


def test_importing_neurona_imports_no_matplotlib_and_plotting_no_pyplot(mpl):
    code = ("import sys, numpy as np, neurona as nr\n"
            "assert 'matplotlib' not in sys.modules\n"
            "m = nr.Sequential([nr.Input((3,)), nr.layers.Dense(2, activation='relu')])\n"
            "nr.diagnostics.inspect(m, np.ones((4, 3), 'float32')).plot()\n"
            "assert 'matplotlib' in sys.modules and 'matplotlib.pyplot' not in sys.modules\n")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
