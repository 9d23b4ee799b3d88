"""Keras models the import tests name as `keras_import_models:<function>` (code by choice)."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers
from keras.src.applications.convnext import LayerScale
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer


def squeeze_excite() -> keras.Model:
    """Ops between layers, a squeeze-and-excitation gate, a nested model, frozen layers,
    keras.applications' custom layers, BatchNormalization variants, initializers.

    Seeded, with random statistics and biases, so two calls build the same model."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((12, 12, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1)(inputs)
    x = layers.Normalization(mean=[0.1, 0.2, 0.3], variance=[1.0, 2.0, 0.5])(x)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem",
                      kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out"))(x)
    x = layers.BatchNormalization(axis=3, scale=False, name="stem_bn")(x)
    gate = layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    x = layers.Multiply()([x, gate])
    squeeze = layers.GlobalAveragePooling2D(keepdims=True)(x)
    squeeze = layers.Conv2D(8, 1, activation="sigmoid")(squeeze)
    x = x * squeeze
    residual = layers.Conv2D(8, 1, name="residual")(x)
    x = CustomScaleLayer(0.17, name="scaled_sum")([x, residual])
    x = LayerScale(1e-6, 8, name="layer_scale")(x)
    x = layers.BatchNormalization(center=False, name="frozen_bn")(x)
    inner = keras.Sequential([layers.Conv2D(4, 1, name="inner_conv"),
                              layers.Activation("hard_silu", name="inner_act")], name="inner")
    x = inner(x)
    x = layers.Dropout(0.2, noise_shape=(None, 1, 1, 1))(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(5, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, x, name="squeeze-excite")
    model.get_layer("stem").trainable = False
    model.get_layer("frozen_bn").trainable = False
    rng = np.random.default_rng(7)
    for variable in model.weights:
        short = variable.path.rsplit("/", 1)[-1]
        if short in ("bias", "beta", "moving_mean", "gamma", "moving_variance", "kernel"):
            low = 0.5 if short in ("gamma", "moving_variance") else -0.5
            variable.assign(rng.uniform(low, low + 1.0, variable.shape).astype("float32"))
    return model


def variable_size() -> keras.Model:
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(4, 3)(inputs)
    return keras.Model(inputs, layers.GlobalMaxPooling2D()(x))


def shared_layer() -> keras.Model:
    inputs = keras.Input((8,))
    dense = layers.Dense(8, name="shared")
    return keras.Model(inputs, dense(dense(inputs)))


def two_outputs() -> keras.Model:
    inputs = keras.Input((8,))
    return keras.Model(inputs, [layers.Dense(2)(inputs), layers.Dense(3)(inputs)])


def unsupported_layer() -> keras.Model:
    inputs = keras.Input((8, 4))
    return keras.Model(inputs, layers.Conv1D(2, 3, name="temporal")(inputs))


def regularized() -> keras.Model:
    inputs = keras.Input((8,))
    return keras.Model(inputs, layers.Dense(2, kernel_regularizer="l2", name="decayed")(inputs))


def unsupported_activation() -> keras.Model:
    inputs = keras.Input((8,))
    return keras.Model(inputs, layers.Dense(2, activation="softsign", name="head")(inputs))


class Doubling(layers.Layer):
    def call(self, x: object) -> object:
        return x * 2


def custom_layer() -> keras.Model:
    inputs = keras.Input((8,))
    return keras.Model(inputs, Doubling(name="doubling")(inputs))


def not_a_model() -> int:
    return 42


def raises() -> keras.Model:
    raise RuntimeError("no model today")


def unbuilt_sequential() -> keras.Model:
    """A Sequential written without keras.Input, never built: its input size is unknown."""
    return keras.Sequential([layers.Conv2D(4, 3, name="conv"), layers.Flatten(name="flat"),
                             layers.Dense(2, name="head")])


class _Subclassed(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.head = layers.Dense(2)

    def call(self, inputs):
        return self.head(inputs)


def subclassed() -> keras.Model:
    model = _Subclassed()
    model.build((None, 4))
    return model


def mixed_precision() -> keras.Model:
    """Built under mixed_float16, its head kept in float32, as Keras's guide recommends."""
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("mixed_float16")
    try:
        inputs = keras.Input((8, 8, 3))
        x = layers.Flatten()(layers.Conv2D(4, 3)(inputs))
        return keras.Model(inputs, layers.Dense(2, dtype="float32")(x))
    finally:
        keras.config.set_dtype_policy(previous)


def layer_aliases() -> keras.Model:
    """Keras layers that specc writes as another layer with arguments."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 3))
    x = layers.Conv2D(4, 3, name="conv")(inputs)
    x = layers.LeakyReLU(negative_slope=0.3, name="leaky")(x)
    x = layers.SpatialDropout2D(0.25, name="channel_drop")(x)
    x = layers.ELU(name="elu")(layers.Identity(name="same")(x))
    x = layers.Dense(5, name="head")(layers.Flatten(name="flat")(x))
    return keras.Model(inputs, layers.Softmax(name="probabilities")(x), name="layer_aliases")


def channels_first_dropout() -> keras.Model:
    inputs = keras.Input((4, 6, 6))
    return keras.Model(inputs, layers.SpatialDropout2D(0.1, data_format="channels_first",
                                                       name="drop")(inputs))


def activation_object() -> keras.Model:
    inputs = keras.Input((8,))
    return keras.Model(inputs, layers.Dense(2, activation=layers.LeakyReLU(0.1),
                                            name="head")(inputs))


def sourceless_activation() -> keras.Model:
    """A lambda activation whose source Keras cannot find, as one defined by exec()."""
    namespace: dict[str, object] = {}
    exec("double = lambda x: x * 2", namespace)  # noqa: S102  (the test's own code)
    inputs = keras.Input((8,))
    return keras.Model(inputs, layers.Dense(2, activation=namespace["double"],
                                            name="head")(inputs))


def array_rescaling() -> keras.Model:
    inputs = keras.Input((4, 4, 3))
    return keras.Model(inputs, layers.Rescaling(np.array([1.0, 2.0, 0.5]), name="scale")(inputs))


def divided_by_zero() -> keras.Model:
    inputs = keras.Input((3,))
    return keras.Model(inputs, inputs / np.array([1.0, 0.0, 2.0], "float32"))


class _Doubled(keras.Model):
    """Built as a functional model, but its call() doubles what the graph computes."""

    def __init__(self) -> None:
        inputs = keras.Input((4,))
        super().__init__(inputs, layers.Dense(3, name="inner_head")(inputs), name="doubled")

    def call(self, x: object, training: object = None) -> object:
        return super().call(x) * 2.0


def own_call() -> keras.Model:
    return _Doubled()


def nested_own_call() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, layers.Dense(2, name="head")(_Doubled()(inputs)))


def gelu(x: object) -> object:
    """A function of one's own that Keras saves by its name, as if it were Keras's gelu."""
    return keras.ops.tanh(x) * 3.0


def own_named_activation() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, layers.Dense(3, activation=gelu, name="head")(inputs))


def tensorflow_activations() -> keras.Model:
    """TensorFlow's own activation functions, which compute Keras's of the same name."""
    import tensorflow as tf

    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    x = layers.Dense(4, activation=tf.nn.silu, name="silu")(inputs)
    x = layers.Dense(4, activation=tf.nn.leaky_relu, name="leaky")(x)
    x = layers.Activation(tf.nn.gelu, name="gelu")(x)
    return keras.Model(inputs, layers.Dense(3, activation=tf.nn.relu, name="head")(x))


def relu(x: object) -> object:
    """Keras's relu up to 10, clipped above: saved as 'relu' all the same."""
    return keras.ops.minimum(keras.ops.relu(x), 10.0)


def own_clipped_relu() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, layers.Activation(relu, name="clipped")(inputs))


def monte_carlo_dropout() -> keras.Model:
    """Dropout kept on at inference: Keras's predictions are random."""
    inputs = keras.Input((8,))
    x = layers.Dropout(0.5, name="mc")(layers.Dense(8)(inputs), training=True)
    return keras.Model(inputs, layers.Dense(2)(x))


def frozen_backbone_called_in_inference() -> keras.Model:
    """Keras's transfer-learning guide: base(x, training=False)."""
    backbone = keras.Sequential([keras.Input((8,)), layers.Dense(4, name="bb_dense"),
                                 layers.BatchNormalization(name="bb_bn")], name="backbone")
    backbone.trainable = False
    inputs = keras.Input((8,))
    return keras.Model(inputs, layers.Dense(2, name="head")(backbone(inputs, training=False)))
