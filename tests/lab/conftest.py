"""Fixtures of the lab's tests."""

import pytest

from neurona.lab import parallel


@pytest.fixture
def ctrl_c_after_first_run(monkeypatch):
    """Ctrl-C reaches the grid's process just after its first finished run was saved (by either executor);
    calling the returned function stops that, e.g. before resuming."""
    real_finished = parallel.Progress.finished

    def interrupt(self, record):
        real_finished(self, record)
        raise KeyboardInterrupt

    monkeypatch.setattr(parallel.Progress, "finished", interrupt)
    return lambda: monkeypatch.setattr(parallel.Progress, "finished", real_finished)
