"""neurona.config: Keras's global settings, stored in the backend, with their errors."""

import pytest

import neurona as nr
from neurona import backend, config


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    config.set_epsilon(1e-7)
    config.enable_interactive_logging()


def test_defaults_match_keras():
    assert config.floatx() == "float32"
    assert config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last"
    assert config.backend() == "neurona"
    assert config.is_interactive_logging_enabled() is True


def test_floatx_is_the_backend_setting():
    config.set_floatx("float64")
    assert nr.floatx() == backend.floatx() == "float64"
    assert nr.Tensor([1.0]).dtype == "float64"  # Python floats follow it
    with pytest.raises(ValueError, match=r"floatx must be one of \['float16', 'float32', 'float64'\]"):
        config.set_floatx("int32")


def test_epsilon_is_stored_and_shared_with_backend():
    config.set_epsilon(1e-5)
    assert config.epsilon() == backend.epsilon() == 1e-5
    backend.set_epsilon(2)
    assert config.epsilon() == 2.0 and isinstance(config.epsilon(), float)


@pytest.mark.parametrize("value, error, match", [
    (0.0, ValueError, r"set_epsilon: value must be .*> 0"),
    (-1e-7, ValueError, "set_epsilon: value"),
    (float("nan"), ValueError, "set_epsilon: value"),
    ("1e-7", TypeError, r"set_epsilon: value must be a real number, got '1e-7' \(str\)"),
    (True, TypeError, "set_epsilon: value"),
])
def test_epsilon_errors(value, error, match):
    with pytest.raises(error, match=match):
        config.set_epsilon(value)
    assert config.epsilon() == 1e-7  # unchanged


def test_image_data_format_only_channels_last():
    config.set_image_data_format("channels_last")
    backend.set_image_data_format("CHANNELS_LAST")
    assert backend.image_data_format() == config.image_data_format() == "channels_last"
    with pytest.raises(ValueError, match="Neurona's layers are channels_last only"):
        config.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match=r"data_format must be 'channels_last', got 'nhwc' \(str\)"):
        config.set_image_data_format("nhwc")
    with pytest.raises(ValueError, match="got None"):
        config.set_image_data_format(None)
    assert config.image_data_format() == "channels_last"


def test_interactive_logging_flag():
    config.disable_interactive_logging()
    assert config.is_interactive_logging_enabled() is False
    assert backend.is_interactive_logging_enabled() is False
    config.enable_interactive_logging()
    assert config.is_interactive_logging_enabled() is True


def test_unsafe_deserialization_is_a_documented_no_op():
    assert config.enable_unsafe_deserialization() is None
    assert "never store code" in config.enable_unsafe_deserialization.__doc__


def test_exposed_as_nr_config():
    assert nr.config is config and "config" in nr.__all__ and "random" in nr.__all__
    assert set(config.__all__) <= set(dir(config))
