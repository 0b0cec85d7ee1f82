"""The initialization lab: compare initializers on real data in one call, and reproduce the published results.

>>> import neurona as nr
>>> nr.lab.compare(["he_normal", "glorot_uniform", "lsuv"], seeds=[0, 1, 2], depth=6, epochs=3, out="lab_out")
>>> nr.lab.reproduce("he2015", ["--quick"])

Modules: ``grid`` (run specs, model builders), ``runner`` (one run), ``parallel`` (worker processes, progress),
``ray_executor`` (the runs as Ray tasks), ``results`` (results.json, resume), ``report`` (report.md), ``plots``
(PNG figures), ``compare`` (the whole grid), ``experiments`` (``reproduce``). The command line is
``neurona lab compare`` / ``neurona lab reproduce``.
"""

from .compare import Comparison, compare
from .experiments import reproduce

__all__ = ["compare", "Comparison", "reproduce"]
