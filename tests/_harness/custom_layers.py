"""Custom layers that tests share: the keras-io functional API guide's pattern of a layer that is not registered."""

from neurona import layers, models, ops


class CustomDense(layers.Layer):
    """The guide's layer: ``get_config`` returns only its own argument (no name, no ``**kwargs``)."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="b")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


class SubclassedDense(models.Model):
    """A subclassed model holding one Dense layer: its graph is in ``call``, which transforms cannot rewrite."""

    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units)

    def call(self, x):
        return self.dense(x)
