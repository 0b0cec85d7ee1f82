"""Keras-guide programs run on Neurona with only their import lines changed (issue 11, "Done when").

Each program in keras_programs/ is a plain Keras 3 script (``import keras``, ``from keras import layers``) that
prints ``CHECK name: value`` lines. Here each one is copied with its imports rewritten mechanically
(``import keras`` -> ``import neurona as keras``, ``from keras[.x] import y`` -> ``from neurona[.x] import y``),
run in a subprocess on the MNIST subset embedded in Neurona, and its checks are compared with what the same
program printed under real Keras. To re-measure: ``KERAS_BACKEND=torch python keras_programs/<name>.py`` (set
KERAS_PROGRAMS_SYNTHETIC=1 when keras.datasets.mnist cannot download).
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "keras_programs"
TIMEOUT_S = 120

# Printed by each program under Keras 3.15.1 (torch backend, torch 2.13 CPU), with keras.datasets.mnist.load_data
# patched to return the same embedded subset Neurona reads. Accuracies vary with the seed streams of each framework,
# so they are in BOUNDS instead.
EXPECTED = {
    "custom_callbacks": {
        "calls_on_train_begin": 1,
        "calls_on_train_end": 1,
        "calls_on_epoch_begin": 2,
        "calls_on_epoch_end": 2,
        "calls_on_test_begin": 3,
        "calls_on_test_end": 3,
        "calls_on_predict_begin": 1,
        "calls_on_predict_end": 1,
        "calls_on_train_batch_begin": 8,
        "calls_on_train_batch_end": 8,
        "calls_on_test_batch_begin": 7,
        "calls_on_test_batch_end": 7,
        "calls_on_predict_batch_begin": 2,
        "calls_on_predict_batch_end": 2,
        "keys_on_train_begin": [],
        "keys_on_train_end": ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"],
        "keys_on_epoch_begin": [],
        "keys_on_epoch_end": ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"],
        "keys_on_test_begin": [],
        "keys_on_test_end": ["loss", "mean_absolute_error"],
        "keys_on_predict_begin": [],
        "keys_on_predict_end": [],
        "keys_on_train_batch_begin": [],
        "keys_on_train_batch_end": ["loss", "mean_absolute_error"],
        "keys_on_test_batch_begin": [],
        "keys_on_test_batch_end": ["loss", "mean_absolute_error"],
        "keys_on_predict_batch_begin": [],
        "keys_on_predict_batch_end": ["outputs"],
        "params_keys": ["epochs", "steps", "verbose"],
        "callback_has_model": True,
        "epochs_run": 4,
        "stopped_epoch": 3,
        "learning_rates_seen": [0.05, 0.05, 0.05, 2.0],
        "loss_rose_at_the_end": True,
        "best_weights_restored": True,
        "restored_weights_equal_best": True,
        "builtin_learning_rates": [0.05, 0.025, 0.0125],
        "builtin_history_keys": ["learning_rate", "loss", "mean_absolute_error"],
    },
    "functional_api": {
        "input_shape": (None, 784),
        "input_dtype": "float32",
        "model_name": "mnist_model",
        "model_layer_count": 4,
        "model_params": 55050,
        "first_history_keys": ["accuracy", "loss", "val_accuracy", "val_loss"],
        "reloaded_same_accuracy": True,
        "encoder_output_shape": (None, 8),
        "autoencoder_output_shape": (None, 28, 28, 1),
        "encoder_shares_weights": True,
        "nested_layer_names": ["img", "encoder", "decoder"],
        "nested_equals_parts": True,
        "ensemble_is_average": True,
        "ensemble_params": 51,
        "ticket_input_names": ["title", "body", "tags"],
        "ticket_history_keys": ["department_loss", "loss", "priority_loss"],
        "ticket_predict": [("department", (64, 4)), ("priority", (64, 1))],
        "shared_weights": 2,
        "shared_halves_equal": True,
        "block2_input_shape": (None, 12),
        "block2_output_shape": (None, 8),
        "first_layer_input_is_model_input": True,
        "all_feature_shapes": [(4, 20), (4, 12), (4, 8), (4, 3)],
        "block2_features_match": True,
        "resnet_params": 13866,
        "resnet_layer_types": [
            "Add",
            "Conv2D",
            "Dense",
            "Dropout",
            "GlobalAveragePooling2D",
            "InputLayer",
            "MaxPooling2D",
        ],
        "resnet_history_keys": ["acc", "loss", "val_acc", "val_loss"],
        "rebuilt_layer_types": ["InputLayer", "CustomDense"],
        "rebuilt_units": 10,
        "rebuilt_same_outputs": True,
    },
    "mnist_convnet": {
        "x_train_shape": (2000, 28, 28, 1),
        "y_train_shape": (2000, 10),
        "params": 34826,
        "layer_output_shapes": [
            (None, 26, 26, 32),
            (None, 13, 13, 32),
            (None, 11, 11, 64),
            (None, 5, 5, 64),
            (None, 1600),
            (None, 1600),
            (None, 10),
        ],
        "history_keys": ["accuracy", "loss", "val_accuracy", "val_loss"],
        "epochs_run": 3,
    },
    "ops_program": {
        "floatx": "float32",
        "set_random_seed_repeats_init": True,
        "seed_generator_draws_differ": True,
        "normal_moments": True,
        "uniform_range": True,
        "uniform_dtype": "float32",
        "attention_shape": (2, 5, 6),
        "attention_matches_numpy": True,
        "attention_is_causal": True,
        "layernorm_matches_numpy": True,
        "pool_matches_numpy": True,
        "argmax": [2, 1],
        "clip": [[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]],
        "one_hot": [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
        "stack_shape": (2, 2, 3),
        "transpose_shape": (3, 2),
        "sum_keepdims": [[2.0], [-5.0]],
        "where_relu": True,
        "logsumexp": 5.14384,
        "arange": [0, 2, 4],
        "dtype_of_cast": "int32",
        "split": [(2, 1), (2, 1), (2, 1)],
        "take": [[3.0, 1.0], [-6.0, -4.0]],
        "top_k": ([[3.0, 1.0], [5.0, -4.0]], [[2, 0], [1, 0]]),
        "pad_shape": (4, 5),
        "tile_repeat_shapes": ((4, 3), (2, 6)),
        "sort": [[-2.0, 1.0, 3.0], [-6.0, -4.0, 5.0]],
        "cumsum": [[1.0, -1.0, 2.0], [-4.0, 1.0, -5.0]],
        "squeeze_shape": (2, 3),
        "log_softmax_normalized": True,
        "var": [4.2222, 22.8889],
        "maximum_minimum": (9.0, -12.0),
        "gelu_is_erf_form": True,
        "sigmoid_at_zero": 0.5,
        "symbolic_shapes": ((None, 4, 1), (None, 16), (None, 2)),
        "symbolic_matches_numpy": True,
        "ops_history_keys": ["accuracy", "loss"],
        "ops_weights": 10,
    },
    "sequential_model": {
        "list_output_shape": (4, 3),
        "list_weights": 6,
        "list_layer_names": ["first", "second", "third"],
        "list_equals_chain": True,
        "layers_after_add": 3,
        "layers_after_pop": 2,
        "params_after_pop": 84,
        "weights_before_build": 0,
        "weights_after_build": 4,
        "kernel_shapes": [(4, 3), (3, 2)],
        "conv_output_shape": (None, 4, 4, 8),
        "conv_params": 1866,
        "feature_shapes": [(2, 11, 11, 4), (2, 5, 5, 6), (2, 3, 3, 8)],
        "features_match_model": True,
        "middle_shape": (2, 5, 5, 6),
        "frozen_trainable_weights": 2,
        "frozen_non_trainable_weights": 4,
        "weights_unchanged": [True, True, True, True, False, False],
        "stacked_trainable_weights": 2,
        "stacked_output_shape": (5, 3),
    },
    "subclassing": {
        "linear_output_shape": (2, 4),
        "linear_weights_are_w_b": True,
        "linear_matches_numpy": True,
        "sum_after_one_call": [2.0, 2.0],
        "sum_after_two_calls": [4.0, 4.0],
        "sum_weight_counts": (1, 1, 0),
        "lazy_weights_before_call": 0,
        "lazy_kernel_shape": (7, 32),
        "lazy_output_shape": (2, 32),
        "lazy_config": {"units": 32},
        "lazy_clone_units": 32,
        "mlp_output_shape": (3, 1),
        "mlp_weights": 6,
        "mlp_trainable_weights": 6,
        "losses_before_call": 0,
        "losses_after_call": 1,
        "losses_reset_each_call": 1,
        "activity_loss_value": 0.04,
        "kernel_penalty_count": 1,
        "kernel_penalty_matches": True,
        "add_loss_fit_finite": True,
        "dropout_inference_identity": True,
        "dropout_kept_fraction_near_half": True,
        "dropout_kept_scaled": True,
        "dropout_seed_generator_advances": True,
        "subclass_history_keys": ["accuracy", "loss"],
        "subclass_weights": 4,
        "subclass_sublayers": ["Dense", "Dense", "Dropout"],
        "vae_loss_decreased": True,
        "vae_output_shape": (5, 64),
        "vae_losses_after_call": 1,
        "vae_weights": 10,
        "vae_latent_shapes": [(5, 4), (5, 4), (5, 4)],
    },
    "training_evaluation": {
        "fit_history_keys": ["loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"],
        "fit_history_epochs": 3,
        "evaluate_len": 2,
        "predict_shape": (3, 10),
        "predict_rows_sum_to_one": True,
        "evaluate_loss_matches_predict": True,
        "evaluate_dict_keys": ["loss", "sparse_categorical_accuracy"],
        "custom_fn_loss_finite": True,
        "custom_class_loss_finite": True,
        "custom_class_loss_matches_numpy": True,
        "custom_metric_history_keys": ["categorical_true_positives", "loss"],
        "custom_metric_counts_hits": True,
        "add_loss_in_evaluate": True,
        "mimo_output_units": [1, 5],
        "mimo_history_keys": [
            "class_output_categorical_accuracy",
            "class_output_loss",
            "loss",
            "score_output_loss",
            "score_output_mean_absolute_error",
            "score_output_mean_absolute_percentage_error",
        ],
        "mimo_evaluate_keys": [
            "class_output_categorical_accuracy",
            "class_output_loss",
            "loss",
            "score_output_loss",
            "score_output_mean_absolute_error",
            "score_output_mean_absolute_percentage_error",
        ],
        "mimo_loss_is_weighted_sum": True,
        "mimo_predict_shapes": [(64, 1), (64, 5)],
        "class_weight_equals_sample_weight": True,
        "weighted_evaluate_matches_numpy": True,
        "py_dataset_len": 25,
        "py_dataset_history_keys": [
            "loss",
            "sparse_categorical_accuracy",
            "val_loss",
            "val_sparse_categorical_accuracy",
        ],
        "py_dataset_predict_shape": (500, 10),
        "early_stopping_epochs": 2,
        "checkpoint_files": ["mymodel_1.keras", "mymodel_2.keras"],
        "checkpoint_restores_predictions": True,
        "train_on_batch_keys": ["loss", "sparse_categorical_accuracy"],
        "train_on_batch_changed_weights": True,
        "test_on_batch_matches_evaluate": True,
        "predict_on_batch_shape": (7, 10),
        "generator_history_keys": ["loss", "sparse_categorical_accuracy"],
        "schedule_values": [0.1, 0.1, 0.05, 0.025],
        "optimizer_iterations": 25,
        "learning_rate_after_25_steps": 0.025,
    },
    "transfer_learning": {
        "dense_weights": (2, 2, 0),
        "batchnorm_weights": (4, 2, 2),
        "frozen_dense_weights": (2, 0, 2),
        "frozen_layer_unchanged": True,
        "outer_trainable_weights": 2,
        "inner_layers_trainable": [False, False],
        "head_trainable_weights": 2,
        "head_non_trainable_weights": 7,
        "transfer_history_keys": ["binary_accuracy", "loss", "val_binary_accuracy", "val_loss"],
        "base_unchanged_while_frozen": True,
        "fine_tune_trainable_weights": 7,
        "base_kernel_changed": True,
    },
}

# Accuracy floors both frameworks clear. Keras 3.15.1 measured (same data): training_evaluation 0.842 / 0.81 / 0.782,
# functional_api 0.842, transfer_learning 0.937 / 0.867 / 0.880, subclassing 0.983, mnist_convnet 0.82, ops 0.94.
BOUNDS = {
    "training_evaluation": {"test_accuracy": 0.75, "py_dataset_accuracy": 0.7, "generator_accuracy": 0.7},
    "functional_api": {"first_test_accuracy": 0.75},
    "transfer_learning": {"pretrain_accuracy": 0.85, "transfer_accuracy": 0.75, "fine_tune_accuracy": 0.75},
    "subclassing": {"subclass_accuracy": 0.9},
    "mnist_convnet": {"test_accuracy": 0.7},
    "ops_program": {"ops_test_accuracy": 0.85},
}

# Printed but compared with nothing, and why.
UNCOMPARED = {
    # Keras 3.15.1 prints False: fit's training=True overrides the training=False the base model was called with,
    # so BatchNormalization updates its moving statistics once the base is unfrozen (keras-team/keras#20285), which
    # is not what the transfer-learning guide says happens. Neurona keeps the node's training=False.
    "transfer_learning": {"moving_stats_unchanged"},
}


# Sections that stop at a feature Neurona does not have yet, and which one. They are left out of the runs above
# and run alone below, where they must still fail for that reason: when one passes, its entry goes.
KNOWN_GAPS = {}  # none left: the two that wrote .keras files (issue 14) port now


def section_checks(name, section):
    """The names of the checks that ``section`` of program ``name`` prints (read from its source)."""
    source = (PROGRAMS / f"{name}.py").read_text()
    body = re.search(rf"^def {section}\(\):\n(.*?)(?=^\S)", source, flags=re.M | re.S)
    assert body, f"{name} has no section {section}"
    return set(re.findall(r"""check\(\s*["']([^"']+)["']""", body.group(1)))


def select_sections(source, keep=None, skip=()):
    """The program running only the sections in ``keep`` (all when None), minus those in ``skip``."""
    if keep is None and not skip:
        return source  # (mnist_convnet is a plain script without sections)
    kept = f"(s.__name__ in {sorted(keep or ())!r} if {keep is not None!r} else True)"
    rule = f"SECTIONS = [s for s in SECTIONS if {kept} and s.__name__ not in {sorted(skip)!r}]\n"
    head, main, tail = source.partition('if __name__ == "__main__":')
    assert main, "a program ends with its if __name__ == '__main__' block"
    return head + rule + main + tail


def port(source):
    """The program with its keras imports pointed at neurona; no other line changes."""
    source = re.sub(r"^(\s*)import keras\b", r"\1import neurona as keras", source, flags=re.M)
    return re.sub(r"^(\s*)from keras(?=[. ])", r"\1from neurona", source, flags=re.M)


def parse_checks(stdout):
    """{name: value} from the CHECK lines; values read as Python literals where they are ones."""
    checks = {}
    for line in stdout.splitlines():
        if line.startswith("CHECK "):
            name, _, text = line[len("CHECK ") :].partition(": ")
            try:
                checks[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                checks[name] = text
    return checks


def run_ported(name, folder, keep=None, skip=()):
    script = folder / f"{name}.py"
    script.write_text(select_sections(port((PROGRAMS / f"{name}.py").read_text()), keep, skip))
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_PROGRAMS_SYNTHETIC", "KERAS_BACKEND")}
    env.update(NEURONA_OFFLINE="1", NEURONA_DATA_DIR=str(folder / "data"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    try:
        done = subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        output = error.stdout or ""
        output = output.decode(errors="replace") if isinstance(output, bytes) else output
        pytest.fail(f"{name} ran past {TIMEOUT_S} s; its output ends:\n{output[-2000:]}", pytrace=False)
    return done, parse_checks(done.stdout)


def test_every_program_has_expected_values():
    assert sorted(p.stem for p in PROGRAMS.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_port_changes_only_import_lines(name):
    source = (PROGRAMS / f"{name}.py").read_text()
    assert re.search(r"^import keras$", source, flags=re.M)
    assert not re.search(r"^\s*(import|from) neurona", source, flags=re.M)
    ported = port(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), ported.splitlines()) if a != b]
    assert len(source.splitlines()) == len(ported.splitlines()) and changed
    assert all(re.match(r"\s*(import keras|from keras[. ])", a) for a, _ in changed)
    assert all(re.match(r"\s*(import neurona as keras|from neurona[. ])", b) for _, b in changed)
    assert not re.search(r"^\s*(import|from) keras", ported, flags=re.M)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_program_ports_by_changing_the_import(name, tmp_path):
    gaps = KNOWN_GAPS.get(name, {})
    done, checks = run_ported(name, tmp_path, skip=gaps)
    problems = []
    if done.returncode != 0:
        problems.append(f"exit status {done.returncode}; stderr ends:\n{done.stderr[-3000:]}")
    left_out = set().union(*(section_checks(name, section) for section in gaps)) if gaps else set()
    expected = {check: value for check, value in EXPECTED[name].items() if check not in left_out}
    missing = [check for check in expected if check not in checks]
    if missing and done.returncode != 0:
        problems.append(f"{len(missing)} of {len(expected)} checks not reached")
    elif missing:
        problems.append(f"not printed: {missing}")
    for check, value in checks.items():
        if check in expected and value != expected[check]:
            problems.append(f"{check}: Neurona {value!r}, Keras {expected[check]!r}")
    for check, floor in BOUNDS.get(name, {}).items():
        if check in left_out:
            continue
        value = checks.get(check)
        if check in checks and (isinstance(value, bool) or not isinstance(value, (float, int)) or value < floor):
            problems.append(f"{check}: Neurona {value!r}, expected at least {floor}")
        elif check not in checks and done.returncode == 0:
            problems.append(f"{check}: not printed")
    unknown = set(checks) - set(expected) - set(BOUNDS.get(name, {})) - UNCOMPARED.get(name, set())
    if unknown:
        problems.append(f"printed but not expected (re-measure with Keras): {sorted(unknown)}")
    if problems:
        pytest.fail(f"{name} ported to Neurona:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("name, section", [(n, s) for n in sorted(KNOWN_GAPS) for s in sorted(KNOWN_GAPS[n])])
def test_known_gaps_still_fail_for_their_reason(name, section, tmp_path):
    done, _ = run_ported(name, tmp_path, keep={section})
    assert done.returncode != 0, f"{name}.{section} now ports: remove it from KNOWN_GAPS ({KNOWN_GAPS[name][section]})"
    assert ".keras" in done.stderr, f"{name}.{section} fails for another reason than {KNOWN_GAPS[name][section]}:\n" \
                                    f"{done.stderr[-2000:]}"
