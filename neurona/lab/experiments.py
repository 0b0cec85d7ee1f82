"""``neurona lab reproduce NAME``: the paper reproductions, scripts ``experiments/NAME.py`` beside the package.

Each script defines ``main(argv=None)`` (argparse: ``--full`` for the paper-like size, ``--out``, ``--seed``
...) and prints what the paper reports beside what Neurona measured. The folder is the source checkout's
``experiments/`` (``Path(neurona.__file__).parents[1] / "experiments"``): a wheel install has none, and
``reproduce`` then says so.
"""

import importlib.util
from pathlib import Path


def experiments_dir():
    """The folder of the reproduction scripts (it may not exist, e.g. in a wheel install)."""
    import neurona

    return Path(neurona.__file__).resolve().parents[1] / "experiments"


def available(folder=None):
    """The names of the scripts in ``folder`` (default ``experiments_dir()``) that can be reproduced, sorted."""
    folder = Path(folder) if folder is not None else experiments_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.py") if p.stem.isidentifier() and not p.stem.startswith("_"))


def _load(name, folder):
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"neurona_experiments_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise ValueError(f"lab reproduce: {path} has no main(argv) function")
    return module


def reproduce(name, argv=None, folder=None):
    """Run ``experiments/<name>.py``'s ``main(argv)`` and return what it returns.

    Args:
        name: the experiment (``he2015``, ``glorot2010``, ``symmetry``, ``lsuv2016``, ``edge_of_chaos`` ...).
        argv: its command line, e.g. ``["--full"]`` or ``["--quick", "--out", "tmp"]`` (None: its defaults).
        folder: where the scripts are (default ``experiments_dir()``).

    Raises:
        ValueError: ``name`` is not one of the scripts there (the message lists them), or the folder is missing.
    """
    folder = Path(folder) if folder is not None else experiments_dir()
    if not folder.is_dir():
        raise ValueError(f"lab reproduce: no experiments folder at {folder}: the reproductions come with the "
                         "source checkout (git clone), not with an installed wheel")
    names = available(folder)
    if not isinstance(name, str) or name not in names:
        listed = ", ".join(names) or "none"
        raise ValueError(f"lab reproduce: unknown experiment {name!r}; available in {folder}: {listed}")
    return _load(name, folder).main(list(argv) if argv is not None else [])
