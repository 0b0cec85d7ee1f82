"""Real Keras for the interop tests, on its numpy backend (the lightest: see the test extra in pyproject.toml).

The backend is chosen here, before any test module imports Keras; a KERAS_BACKEND already set is kept.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "numpy")


def pytest_collection_modifyitems(items):
    """Keras 3.15's numpy backend converts its own variables with ``np.array(x)``, which NumPy 2 warns about
    (KerasVariable.__array__ takes no ``copy``): Keras's warning, not ours."""
    import pytest

    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"))
