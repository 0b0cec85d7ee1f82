"""Fixtures of the dataset tests."""

import pytest

from neurona.datasets import cache


@pytest.fixture
def no_network(tmp_path, monkeypatch):
    """Offline, empty data and Keras folders under ``tmp_path``, and an urlopen that fails the test if anything
    reaches it (a test that fakes a server patches ``cache.urlopen`` again). Modules that define their own
    ``no_network`` fixture use theirs."""
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    monkeypatch.setenv(cache.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def forbidden(url, timeout):
        raise AssertionError(f"network access attempted: {url}")

    monkeypatch.setattr(cache, "urlopen", forbidden)
