"""Global settings under the names of ``keras.config``, so ``keras.config.floatx()`` ports as ``nr.config.floatx()``.

The values live in the backend (``backend.dtypes`` for ``floatx``, ``backend.session``
for the rest), where every layer of the package may read them; this module only
gathers them under Keras's names::

    import neurona as keras

    keras.config.set_floatx("float64")
    keras.config.epsilon()               # 1e-07
    keras.config.image_data_format()     # 'channels_last'
    keras.config.backend()               # 'neurona'
"""

from .backend.dtypes import floatx, set_floatx
from .backend.policy import global_policy as dtype_policy
from .backend.policy import set_policy as set_dtype_policy
from .backend.session import (
    backend,
    disable_interactive_logging,
    enable_interactive_logging,
    epsilon,
    image_data_format,
    is_interactive_logging_enabled,
    set_epsilon,
    set_image_data_format,
)


def enable_unsafe_deserialization():
    """Accepted for Keras programs, and does nothing.

    Keras refuses by default to rebuild ``Lambda`` layers from saved Python bytecode;
    Neurona's formats (``model.json`` + ``model.h5``) never store code or pickles, so
    there is nothing unsafe to enable.
    """


__all__ = [
    "backend", "dtype_policy", "set_dtype_policy",
    "disable_interactive_logging", "enable_interactive_logging", "enable_unsafe_deserialization",
    "epsilon", "floatx", "image_data_format", "is_interactive_logging_enabled", "set_epsilon", "set_floatx",
    "set_image_data_format",
]
