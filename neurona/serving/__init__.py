"""The model service: the Flask app factory, its routes and page, drift detection and monitoring.

Importing ``neurona.serving`` never imports Flask: ``create_app`` imports Flask (and prometheus-client) when it
is called, and names the ``neurona[serve]`` extra if they are missing.

Modules: ``app`` (``create_app``: the routes), ``server`` (``serve``: waitress, ``neurona serve``), ``inputs``
(request bodies to model inputs), ``monitoring`` (counters, latency, accuracy from feedback, the drift window),
``drift`` (reference statistics of inputs and outputs, sliding-window two-sample tests, Rabanser et al. 2019).
"""

from . import drift
from .app import create_app

__all__ = ["create_app", "drift"]
