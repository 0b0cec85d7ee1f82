"""The experiment scripts as modules, and their --quick run on the embedded MNIST subset (shared by the tests)."""

import importlib.util
import pathlib

import pytest

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[2] / "experiments"


def load(name):
    """``experiments/<name>.py`` as a module, by path: experiments/ is not an installed package."""
    spec = importlib.util.spec_from_file_location(f"{name}_experiment", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_quick(module, name, tmp_path_factory):
    """``module.main`` at --quick size into a fresh folder, offline with an empty data folder (the embedded data)."""
    out = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEURONA_DATA_DIR", str(tmp_path_factory.mktemp("no_data")))
        mp.setenv("NEURONA_OFFLINE", "1")
        return out, module.main(["--quick", "--out", str(out), "--data", "embedded"])
