"""The layer registry, filled by importing one module per layer type.

To add a layer type: write ``specc/layers/<name>.py`` with one ``@register_layer``
class, and add its import line below. Tests are driven by the registry.
"""

from specc.layers import (  # noqa: F401  (each import registers its layer types)
    activation,
    batch_normalization,
    conv2d,
    conv2d_transpose,
    cropping2d,
    dense,
    depthwise_conv2d,
    dropout,
    flatten,
    global_pooling,
    layer_normalization,
    merge,
    normalization_layer,
    pooling,
    relu,
    rescaling,
    reshape,
    separable_conv2d,
    up_sampling2d,
    zero_padding2d,
)
from specc.layers.base import Layer, LayerExpect, ParamCount
from specc.layers.registry import LAYER_TYPES, nearest_layer_type, register_layer

__all__ = [
    "LAYER_TYPES",
    "Layer",
    "LayerExpect",
    "ParamCount",
    "nearest_layer_type",
    "register_layer",
]
