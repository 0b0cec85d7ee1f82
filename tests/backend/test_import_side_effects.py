"""Importing Neurona changes nothing outside it (issue 10, item 17).

Each check runs in a fresh interpreter: this test process has long since
imported SciPy (hypothesis, onnx) and called ``fit``.
"""

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
import neurona
from neurona.backend import allocator
report = {"scipy": "scipy" in sys.modules, "urllib_request": "urllib.request" in sys.modules,
          "tuned_on_import": allocator.is_tuned()}
if sys.argv[1] == "fit":
    import numpy as np
    from neurona import layers, models
    model = models.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    report["tuned_after_fit"] = allocator.is_tuned()
print(json.dumps(report))
"""


def _probe(mode, **env):
    result = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                            env={**os.environ, **env}, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_leaves_the_allocator_and_heavy_modules_alone():
    report = _probe("import")
    assert report == {"scipy": False, "urllib_request": False, "tuned_on_import": False}


def test_fit_tunes_the_allocator_unless_switched_off():
    assert _probe("fit", NEURONA_MALLOC_TUNING="1")["tuned_after_fit"] is (sys.platform.startswith("linux"))
    assert _probe("fit", NEURONA_MALLOC_TUNING="0")["tuned_after_fit"] is False
