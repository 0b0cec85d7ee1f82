"""benchmarks/port_keras_program.py: the mechanical port and the section-by-section run the README's figures use."""

import importlib.util
import io
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "port_keras_program.py"
_spec = importlib.util.spec_from_file_location("port_keras_program", SCRIPT)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

PROGRAM = '''"""
Title: a keras-io style program
"""
import numpy as np
import keras
from keras import layers
from keras.models import Sequential
from tensorflow import keras as tfk_unused

"""
## Build
"""
model = Sequential([keras.Input((3,)), layers.Dense(2)])
rows = model.predict(np.ones((4, 3)), verbose=0).shape[0]

"""
## Needs TensorFlow
"""
import tensorflow as tf

"""
### Broken on purpose
"""
raise RuntimeError("section failed")

"""
## After the failure
"""
after = rows + 1
'''


def test_port_changes_only_the_import_lines():
    ported = tool.port(PROGRAM)
    changed = [(a, b) for a, b in zip(PROGRAM.splitlines(), ported.splitlines()) if a != b]
    assert changed == [("import keras", "import neurona as keras"),
                       ("from keras import layers", "from neurona import layers"),
                       ("from keras.models import Sequential", "from neurona.models import Sequential"),
                       ("from tensorflow import keras as tfk_unused", "import neurona as tfk_unused")]
    assert tool.port("from tensorflow import keras\nfrom tensorflow.keras import layers\n") == \
        "import neurona as keras\nfrom neurona import layers\n"
    assert tool.port("import keras as K\nimport keras.backend as B\n  import keras.ops\n") == \
        "import neurona as K\nimport neurona.backend as B\n  import neurona as keras\n"
    untouched = "import kerasx\nmy_keras = 1\nimport keras_hub\n"
    assert tool.port(untouched) == untouched


def test_sections_run_in_one_namespace_and_a_failure_does_not_stop_the_rest(tmp_path):
    path = tmp_path / "program.py"
    path.write_text(PROGRAM.replace("from tensorflow import keras as tfk_unused\n", ""))
    out = io.StringIO()
    results = tool.run(str(path), cut="TensorFlow", stream=out)
    assert [(r["section"], r["status"]) for r in results] == [
        ("(preamble)", "PASS"), ("Build", "PASS"), ("Needs TensorFlow", "CUT"), ("Broken on purpose", "FAIL"),
        ("After the failure", "PASS")]
    assert results[3]["error"] == "RuntimeError: section failed"
    raise_line = path.read_text().splitlines().index('raise RuntimeError("section failed")') + 1
    assert f'File "{path}", line {raise_line}' in out.getvalue()  # tracebacks point at the program's own lines


def test_main_prints_the_count_and_writes_json(tmp_path, capsys):
    path = tmp_path / "program.py"
    path.write_text(PROGRAM.replace("from tensorflow import keras as tfk_unused\n", ""))
    assert tool.main([str(path), "--cut", "TensorFlow|Broken", "--json", str(tmp_path / "r.json")]) == 0
    assert f"{path}: 3 of 3 sections pass, 2 cut" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "r.json").read_text())) == 5


def test_dropped_imports_and_capped_epochs(tmp_path, capsys):
    source = "import tensorflow as tf\nfrom tensorflow import data\nimport tensorflowx\n"
    assert tool.drop_imports(source, ["tensorflow"]) == (
        "pass  # dropped: import tensorflow as tf\npass  # dropped: from tensorflow import data\nimport tensorflowx\n")
    path = tmp_path / "program.py"
    path.write_text("import numpy as np\nimport tensorflow as tf\nimport keras\n"
                    "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
                    "model.compile('sgd', 'mse')\n"
                    "history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=50, verbose=0)\n"
                    "assert len(history.history['loss']) == 2\n")
    from neurona.models import Model

    fit = Model.fit
    try:
        assert tool.main([str(path), "--drop-import", "tensorflow", "--max-epochs", "2"]) == 0
    finally:
        Model.fit = fit
    assert "1 of 1 sections pass; fit capped at 2 epochs 1 time(s)" in capsys.readouterr().out
