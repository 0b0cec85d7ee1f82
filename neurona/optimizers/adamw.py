"""AdamW: Adam with decoupled weight decay."""

from .adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), Keras 3 semantics.

    Each step first shrinks the weights, independently of the gradient and of
    Adam's adaptive scaling, then applies the Adam update (see ``Adam``)::

        var <- var - lr * weight_decay * var
        var <- var - alpha * m / (sqrt(v) + epsilon)

    Adding ``weight_decay * var`` to the gradient instead (L2 regularization) would
    be divided by ``sqrt(v)`` and so decay weights with large gradients less; the
    paper shows decoupling restores the regularization and separates the best
    learning rate from the best decay. The decay is scaled by the learning rate
    (as in Keras and PyTorch), so a schedule anneals both together.

    Reference:
        I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        weight_decay: decay coefficient >= 0. Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: as in ``Adam``.
        **kwargs: clipnorm, clipvalue, global_clipnorm, name (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number >= 0, got None (use Adam for no decay)")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, **kwargs)
