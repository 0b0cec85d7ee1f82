"""The model service: the Flask app factory, its routes and page, drift detection and monitoring.

Only the pure-NumPy pieces are imported here, so ``import neurona.serving`` never imports Flask; the app factory
imports Flask inside the function that builds the app.

Modules: ``drift`` (reference statistics of inputs and outputs, sliding-window two-sample tests,
Rabanser et al. 2019).
"""

from . import drift

__all__ = ["drift"]
