"""The session's global state: the settings of ``keras.config`` that live below every layer, and ``clear_session``.

The settings (the fuzz factor ``epsilon``, the image data format, whether
progress is printed interactively) are stored here, in the backend, so that
``neurona.config``, ``neurona.backend`` and any layer above may read them
without importing upward. ``clear_session`` forgets what the session has
accumulated (the counters behind default layer names, pooled scratch memory)
and leaves these settings as they are, as Keras's does.
"""

import gc

from .. import naming
from ..arguments import check_bool, check_real, shown
from . import cuda, workspace

#: The only image data format Neurona's layers compute in: arrays are ``(batch, height, width, channels)``.
CHANNELS_LAST = "channels_last"

_epsilon = 1e-7
_interactive_logging = True


def backend():
    """The name of the backend computing Neurona's tensors: always ``"neurona"`` (Keras's ``keras.config.backend``)."""
    return "neurona"


def epsilon():
    """The fuzz factor ``eps`` (default ``1e-7``) that keeps divisions and logarithms finite, ``x / (y + eps)``.

    Stored for Keras programs that read or set it; Neurona's ops and losses keep their own documented constants.
    """
    return _epsilon


def set_epsilon(value):
    """Set the fuzz factor returned by ``epsilon()``.

    Args:
        value: a finite real number > 0.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: it is not finite or not positive.
    """
    global _epsilon
    _epsilon = check_real(value, "set_epsilon", "value", low=0.0, low_open=True)


def image_data_format():
    """The layout of image arrays: ``"channels_last"``, ``(batch, height, width, channels)``."""
    return CHANNELS_LAST


def set_image_data_format(data_format):
    """Accept the layout Neurona's image layers use, ``"channels_last"``; refuse any other.

    Neurona's convolution and pooling layers compute only in ``(batch, height, width, channels)``,
    so storing ``"channels_first"`` would promise a layout that no layer honours.

    Raises:
        ValueError: ``data_format`` is anything but ``"channels_last"`` (any case).
    """
    if isinstance(data_format, str) and data_format.lower() == CHANNELS_LAST:
        return
    if isinstance(data_format, str) and data_format.lower() == "channels_first":
        raise ValueError("set_image_data_format: Neurona's layers are channels_last only ((batch, height, width, "
                         "channels)); got 'channels_first': transpose the data instead, e.g. "
                         "x.transpose(0, 2, 3, 1)")
    raise ValueError(f"set_image_data_format: data_format must be 'channels_last', got {shown(data_format)}")


def enable_interactive_logging():
    """Print progress interactively (progress bars rewritten in place), the default."""
    global _interactive_logging
    _interactive_logging = True


def disable_interactive_logging():
    """Print progress as plain lines (for logs and files) instead of progress bars rewritten in place."""
    global _interactive_logging
    _interactive_logging = False


def is_interactive_logging_enabled():
    """Whether progress is printed interactively (see ``enable_interactive_logging``)."""
    return _interactive_logging


def clear_session(free_memory=True):
    """Forget the state the session has built up, as Keras's ``clear_session`` does.

    The counters behind default names are reset, so the next ``Dense`` is named
    ``"dense"`` again. Models and layers already made keep their names and weights.

    Args:
        free_memory: also drop the pooled scratch buffers of ``backend.workspace``,
            run Python's garbage collector, and hand CuPy's cached GPU blocks back to
            the driver when a GPU is in use.

    Raises:
        TypeError: ``free_memory`` is not a bool.
    """
    free_memory = check_bool(free_memory, "clear_session", "free_memory")
    naming.reset_names()
    if free_memory:
        workspace.clear()
        gc.collect()
        if cuda.available:  # pragma: no cover - depends on the machine
            cuda.cupy.get_default_memory_pool().free_all_blocks()
            cuda.cupy.get_default_pinned_memory_pool().free_all_blocks()
