"""Initialization made visible: per-layer statistics through hooks, verdicts, signal-propagation theory.

>>> report = nr.diagnostics.inspect(model, x_batch, y_batch, loss="sparse_categorical_crossentropy")
>>> print(report)            # the table, the network figures and the verdicts in plain words
>>> report.verdicts          # data: [{"kind": "vanishing", "layers": [...], "message": "..."}]

Modules: ``recorder`` (the hooks), ``statistics`` (saturation, dead units),
``weights`` (theoretical vs measured std, update ratios), ``symmetry``
(identical units), ``verdicts``, ``mean_field`` (Poole et al. 2016),
``jacobian`` (Pennington et al. 2017), ``report``, ``plots``, ``monitor``
(the engine of ``callbacks.InitMonitor``).
"""

from .inspect import inspect
from .jacobian import JacobianTooLarge, jacobian_singular_values
from .mean_field import NotADenseStack, chi, expected_square, predict_preactivation_variances
from .monitor import InitWarning, warn_identical_units
from .plots import plot_comparison, plot_report
from .recorder import Recorder
from .report import InitReport
from .symmetry import symmetric_units

__all__ = ["inspect", "InitReport", "Recorder", "symmetric_units", "predict_preactivation_variances",
           "expected_square", "chi", "NotADenseStack", "jacobian_singular_values", "JacobianTooLarge",
           "plot_report", "plot_comparison", "InitWarning", "warn_identical_units"]
