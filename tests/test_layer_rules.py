"""Each layer type's shape, parameter and FLOP rules against values worked out by hand.

The table below must hold at least one case for every registered layer type: a new type
fails `test_every_registered_type_has_hand_computed_cases` until its cases are written.
"""

from __future__ import annotations

from typing import Any

import pytest

from specc.errors import LayerError
from specc.layers import LAYER_TYPES, Layer

# (type, hyper-parameters, input shapes, output shape, trainable, non-trainable)
CASES: list[tuple[str, dict[str, Any], list[tuple[int, ...]], tuple[int, ...], int, int]] = [
    ("Conv2D", {"filters": 96, "kernel_size": 11, "padding": "same"}, [(32, 32, 3)], (32, 32, 96), (11 * 11 * 3 + 1) * 96, 0),
    ("Conv2D", {"filters": 8, "kernel_size": [3, 5], "strides": 2}, [(15, 16, 4)], (7, 6, 8), (3 * 5 * 4 + 1) * 8, 0),
    ("Conv2D", {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"}, [(15, 16, 4)], (8, 8, 8), (9 * 4 + 1) * 8, 0),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "dilation_rate": 2, "use_bias": False}, [(9, 9, 2)], (5, 5, 6), 9 * 2 * 6, 0),
    ("Conv2D", {"filters": 8, "kernel_size": 3, "groups": 2}, [(5, 5, 4)], (3, 3, 8), (9 * 2 + 1) * 8, 0),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, [(6, 6, 4)], (4, 4, 8), 9 * 4 * 2 + 8, 0),
    ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "padding": "same", "use_bias": False}, [(7, 7, 5)], (4, 4, 5), 9 * 5, 0),
    ("SeparableConv2D", {"filters": 7, "kernel_size": 3}, [(6, 6, 4)], (4, 4, 7), 9 * 4 + 4 * 7 + 7, 0),
    ("SeparableConv2D", {"filters": 7, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "use_bias": False}, [(6, 6, 4)], (6, 6, 7), 9 * 8 + 8 * 7, 0),
    ("Dense", {"units": 10}, [(4096,)], (10,), 4096 * 10 + 10, 0),
    ("Dense", {"units": 3, "use_bias": False}, [(5, 4)], (5, 3), 12, 0),
    ("BatchNormalization", {}, [(4, 4, 96)], (4, 4, 96), 2 * 96, 2 * 96),
    ("BatchNormalization", {"center": False}, [(10,)], (10,), 10, 20),
    ("BatchNormalization", {"scale": False}, [(5, 5, 8)], (5, 5, 8), 8, 16),
    ("BatchNormalization", {"trainable": False}, [(5, 5, 8)], (5, 5, 8), 0, 32),
    ("LayerNormalization", {}, [(64,)], (64,), 128, 0),
    ("Normalization", {}, [(224, 224, 3)], (224, 224, 3), 0, 2 * 3 + 1),
    ("Normalization", {"axis": [1, 2]}, [(4, 5, 3)], (4, 5, 3), 0, 2 * 20 + 1),
    ("Normalization", {"axis": None}, [(4, 5, 3)], (4, 5, 3), 0, 2 * 1 + 1),
    ("Normalization", {"mean": [0.5, 0.4, 0.3], "variance": [0.1, 0.2, 0.3]}, [(8, 8, 3)], (8, 8, 3), 0, 0),
    ("Rescaling", {"scale": 0.00392156862745098}, [(32, 32, 3)], (32, 32, 3), 0, 0),
    ("Rescaling", {"scale": [1.0, 2.0, 3.0], "offset": -1.0}, [(32, 32, 3)], (32, 32, 3), 0, 0),
    ("LayerNormalization", {"scale": False}, [(3, 3, 8)], (3, 3, 8), 8, 0),
    ("Activation", {"activation": "softmax"}, [(10,)], (10,), 0, 0),
    ("ReLU", {"max_value": 6.0}, [(2, 2, 3)], (2, 2, 3), 0, 0),
    ("Dropout", {"rate": 0.5}, [(3072,)], (3072,), 0, 0),
    ("Dropout", {"rate": 0.2, "noise_shape": [None, 1, 1, 1]}, [(7, 7, 80)], (7, 7, 80), 0, 0),
    ("Cropping2D", {"cropping": [[0, 1], [0, 1]]}, [(83, 83, 96)], (82, 82, 96), 0, 0),
    ("Cropping2D", {"cropping": 2}, [(8, 9, 3)], (4, 5, 3), 0, 0),
    ("Flatten", {}, [(4, 4, 1024)], (16384,), 0, 0),
    ("Reshape", {"target_shape": [4, -1]}, [(2, 2, 6)], (4, 6), 0, 0),
    ("Reshape", {"target_shape": [2, 3, 4]}, [(24,)], (2, 3, 4), 0, 0),
    ("MaxPooling2D", {}, [(9, 9, 1024)], (4, 4, 1024), 0, 0),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, [(9, 9, 2)], (5, 5, 2), 0, 0),
    ("AveragePooling2D", {"pool_size": [2, 3], "strides": 1}, [(5, 5, 2)], (4, 3, 2), 0, 0),
    ("GlobalAveragePooling2D", {}, [(7, 7, 32)], (32,), 0, 0),
    ("GlobalMaxPooling2D", {"keepdims": True}, [(7, 7, 32)], (1, 1, 32), 0, 0),
    ("ZeroPadding2D", {"padding": 1}, [(8, 8, 256)], (10, 10, 256), 0, 0),
    ("UpSampling2D", {}, [(7, 5, 3)], (14, 10, 3), 0, 0),
    ("UpSampling2D", {"size": [3, 1], "interpolation": "bilinear"}, [(7, 5, 3)], (21, 5, 3), 0, 0),
    ("Conv2DTranspose", {"filters": 16, "kernel_size": 3, "strides": 2, "padding": "same"}, [(8, 8, 32)], (16, 16, 16), (3 * 3 * 32 + 1) * 16, 0),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3}, [(8, 8, 2)], (10, 10, 4), (9 * 2 + 1) * 4, 0),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 2, "strides": 3}, [(8, 8, 2)], (24, 24, 4), (4 * 2 + 1) * 4, 0),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0, "use_bias": False}, [(8, 8, 2)], (15, 15, 4), 9 * 2 * 4, 0),
    ("ZeroPadding2D", {"padding": [[0, 1], [2, 3]]}, [(8, 8, 2)], (9, 13, 2), 0, 0),
    ("Add", {"inputs": ["a", "b"]}, [(4, 4, 8), (4, 4, 8)], (4, 4, 8), 0, 0),
    ("Concatenate", {"inputs": ["a", "b"]}, [(4, 4, 8), (4, 4, 3)], (4, 4, 11), 0, 0),
    ("Concatenate", {"inputs": ["a", "b"], "axis": 1}, [(4, 5, 8), (2, 5, 8)], (6, 5, 8), 0, 0),
    ("Concatenate", {"inputs": ["a", "b"], "axis": -2}, [(4, 5, 8), (4, 1, 8)], (4, 6, 8), 0, 0),
    ("Add", {"inputs": ["a", "b"]}, [(7, 7, 16), (1, 1, 16)], (7, 7, 16), 0, 0),
    ("Add", {"inputs": ["a", "b", "c"]}, [(7, 1, 16), (1, 5, 1), (16,)], (7, 5, 16), 0, 0),
    ("Subtract", {"inputs": ["a", "b"]}, [(3, 4), (3, 4)], (3, 4), 0, 0),
    ("Multiply", {"inputs": ["a", "b"]}, [(14, 14, 96), (1, 1, 96)], (14, 14, 96), 0, 0),
    ("Multiply", {"inputs": ["a", "b"]}, [(5,), (3, 1)], (3, 5), 0, 0),
    ("Average", {"inputs": ["a", "b"]}, [(2, 2, 3), (2, 2, 3)], (2, 2, 3), 0, 0),
    ("Maximum", {"inputs": ["a", "b"]}, [(2, 2, 3), (2, 1, 3)], (2, 2, 3), 0, 0),
    ("Minimum", {"inputs": ["a", "b"]}, [(4,), (1,)], (4,), 0, 0),
]

# (type, hyper-parameters, input shapes, argument at fault)
REFUSED: list[tuple[str, dict[str, Any], list[tuple[int, ...]], str | None]] = [
    ("Conv2D", {"filters": 4, "kernel_size": 5}, [(3, 3, 1)], "kernel_size"),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, [(10,)], None),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "groups": 2}, [(5, 5, 4)], "groups"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, [(9, 9, 1)], "strides"),
    ("Conv2D", {"filters": 4, "kernel_size": 0}, [(9, 9, 1)], "kernel_size"),
    ("MaxPooling2D", {"pool_size": 4}, [(3, 3, 1)], "pool_size"),
    ("Reshape", {"target_shape": [5, -1]}, [(2, 2, 6)], "target_shape"),
    ("Add", {"inputs": ["a", "b"]}, [(4, 4, 8), (4, 4, 3)], "inputs"),
    ("Multiply", {"inputs": ["a", "b"]}, [(4, 4, 8), (2, 8)], "inputs"),
    ("Subtract", {"inputs": ["a", "b", "c"]}, [(4,), (4,), (4,)], "inputs"),
    ("Concatenate", {"inputs": ["a", "b"], "axis": 0}, [(4,), (4,)], "axis"),
    ("Concatenate", {"inputs": ["a", "b"], "axis": 4}, [(4, 4, 2), (4, 4, 2)], "axis"),
    ("Concatenate", {"inputs": ["a", "b"], "axis": 1}, [(4, 4, 2), (4, 3, 2)], "inputs"),
    ("ZeroPadding2D", {"padding": -1}, [(3, 3, 1)], "padding"),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2, "output_padding": 2}, [(8, 8, 2)], "output_padding"),
    ("UpSampling2D", {"size": 0}, [(8, 8, 2)], "size"),
    ("Cropping2D", {"cropping": 2}, [(4, 9, 3)], "cropping"),
    ("Cropping2D", {"cropping": [1, -1]}, [(4, 9, 3)], "cropping"),
    ("Dropout", {"rate": 0.2, "noise_shape": [None, 1, 1]}, [(7, 7, 80)], "noise_shape"),
    ("Dropout", {"rate": 0.2, "noise_shape": [None, 2, 1, 1]}, [(7, 7, 80)], "noise_shape"),
    ("Rescaling", {"scale": [1.0, 2.0]}, [(4, 4, 3)], "scale"),
    ("Normalization", {"axis": 0}, [(4, 4, 3)], "axis"),
    ("Normalization", {"axis": 4}, [(4, 4, 3)], "axis"),
    ("Normalization", {"mean": [0.0, 1.0], "variance": [1.0, 1.0]}, [(4, 4, 3)], "mean"),
]


def _build(type_name: str, arguments: dict[str, Any]) -> Layer:
    return LAYER_TYPES[type_name].model_validate({"type": type_name, "name": "layer", **arguments})


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_every_registered_type_has_hand_computed_cases(type_name: str) -> None:
    assert any(case[0] == type_name for case in CASES), f"add hand-computed cases for {type_name}"


@pytest.mark.parametrize(
    ("type_name", "arguments", "inputs", "shape", "trainable", "non_trainable"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_rules_match_hand_computed_values(
    type_name: str,
    arguments: dict[str, Any],
    inputs: list[tuple[int, ...]],
    shape: tuple[int, ...],
    trainable: int,
    non_trainable: int,
) -> None:
    layer = _build(type_name, arguments)
    assert layer.output_shape(inputs) == shape
    params = layer.counted_params(inputs)
    assert (params.trainable, params.non_trainable) == (trainable, non_trainable)
    assert eval(params.formula, {"__builtins__": {}}) == params.total  # the arithmetic shown adds up
    assert layer.flops(inputs, shape) >= 0


@pytest.mark.parametrize(
    ("type_name", "arguments", "inputs", "field"),
    REFUSED,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(REFUSED)],
)
def test_rules_refuse_inputs_that_do_not_fit(
    type_name: str, arguments: dict[str, Any], inputs: list[tuple[int, ...]], field: str | None
) -> None:
    layer = _build(type_name, arguments)
    with pytest.raises(LayerError) as raised:
        layer.output_shape(inputs)
        layer.param_count(inputs)
    assert raised.value.field == field


def test_conv_flops_count_a_multiply_add_as_two() -> None:
    layer = _build("Conv2D", {"filters": 96, "kernel_size": 11, "padding": "same", "use_bias": False})
    assert layer.flops([(32, 32, 3)], (32, 32, 96)) == 32 * 32 * 96 * 11 * 11 * 3 * 2


def test_dense_flops_include_bias_adds() -> None:
    layer = _build("Dense", {"units": 10})
    assert layer.flops([(4096,)], (10,)) == 10 * (2 * 4096 + 1)
