"""Mixed precision: float32 weights and optimizer state, float16 or bfloat16 computations (Keras's
``keras.mixed_precision``).

    >>> import neurona as nr
    >>> nr.mixed_precision.set_policy("mixed_float16")   # layers made from now on
    >>> model = nr.Sequential([...]); model.compile("adam", "sparse_categorical_crossentropy")
    >>> # compile wrapped the optimizer in a LossScaleOptimizer; the loss is computed in float32
    >>> nr.mixed_precision.set_policy(None)              # back to floatx()

The policy is read by each layer when it is made (``layers/base.py``, ``layers/autocast.py``); the loss
scaling is ``optimizers.LossScaleOptimizer``. On the CPU the 16-bit passes save activation memory and
check that a model trains in reduced precision; their speed matters on a GPU (NumPy has no float16 BLAS:
the matrix products round their float16 operands' exact float32 products, as tensor cores do).
"""

from .backend.policy import Policy, get, global_policy, set_policy
from .optimizers.loss_scale import LossScaleOptimizer

DTypePolicy = Policy  # Keras 3's name
set_global_policy = set_policy  # Keras's name
set_dtype_policy = set_policy  # keras.config's name
dtype_policy = global_policy

__all__ = ["Policy", "DTypePolicy", "set_policy", "set_global_policy", "set_dtype_policy", "global_policy",
           "dtype_policy", "get", "LossScaleOptimizer"]
