"""FLOPs per example worked out by hand: every case of the layer-rule table in
tests/test_layer_rules.py, a few more for activations, and the seed's total computed from its
architecture without specc's rules.

The convention (README): a multiply-add counts as 2, a bias add and each activation's
per-element cost included (relu 1, relu6 2, sigmoid 3, softmax 3, gelu 8, ...); inference
BatchNormalization is one multiply-add per element (2), LayerNormalization 5 per element;
pooling one operation per window element; Add one per element and extra input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_layer_rules import CASES

from specc.layers import LAYER_TYPES
from specc.spec.load import load_spec

ROOT = Path(__file__).resolve().parent.parent

# (type, hyper-parameters, input shapes, FLOPs by hand)
HAND_FLOPS: list[tuple[str, dict[str, Any], list[tuple[int, ...]], int]] = [
    # Conv2D: outputs * (2 * kh * kw * channels per group + bias + activation)
    ("Conv2D", {"filters": 96, "kernel_size": 11, "padding": "same"}, [(32, 32, 3)], 32 * 32 * 96 * (2 * 11 * 11 * 3 + 1)),
    ("Conv2D", {"filters": 8, "kernel_size": [3, 5], "strides": 2}, [(15, 16, 4)], 7 * 6 * 8 * (2 * 3 * 5 * 4 + 1)),
    ("Conv2D", {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"}, [(15, 16, 4)], 8 * 8 * 8 * (2 * 9 * 4 + 1)),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "dilation_rate": 2, "use_bias": False}, [(9, 9, 2)], 5 * 5 * 6 * (2 * 9 * 2)),
    ("Conv2D", {"filters": 8, "kernel_size": 3, "groups": 2}, [(5, 5, 4)], 3 * 3 * 8 * (2 * 9 * 2 + 1)),
    ("Conv2D", {"filters": 4, "kernel_size": 1, "activation": "relu"}, [(2, 2, 3)], 2 * 2 * 4 * (2 * 3 + 1 + 1)),
    ("Conv2D", {"filters": 2, "kernel_size": 1, "activation": "gelu", "use_bias": False}, [(1, 1, 5)], 2 * (2 * 5 + 8)),
    # DepthwiseConv2D: outputs * (2 * kh * kw + bias + activation)
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, [(6, 6, 4)], 4 * 4 * 8 * (2 * 9 + 1)),
    ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "padding": "same", "use_bias": False}, [(7, 7, 5)], 4 * 4 * 5 * (2 * 9)),
    ("DepthwiseConv2D", {"kernel_size": 1, "activation": "sigmoid"}, [(2, 2, 3)], 2 * 2 * 3 * (2 + 1 + 3)),
    # SeparableConv2D: depthwise (2 * kh * kw per intermediate channel and pixel) + pointwise
    # (2 * intermediate channels per output) + bias and activation per output
    ("SeparableConv2D", {"filters": 7, "kernel_size": 3}, [(6, 6, 4)], 2 * 9 * 4 * 4 * 4 + 2 * 4 * 4 * 4 * 7 + 4 * 4 * 7),
    ("SeparableConv2D", {"filters": 7, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "use_bias": False}, [(6, 6, 4)], 2 * 9 * 8 * 6 * 6 + 2 * 8 * 6 * 6 * 7),
    ("SeparableConv2D", {"filters": 2, "kernel_size": 1, "activation": "relu"}, [(1, 1, 3)], 2 * 3 + 2 * 3 * 2 + 2 * (1 + 1)),
    # Dense: outputs * (2 * inputs + bias + activation)
    ("Dense", {"units": 10}, [(4096,)], 10 * (2 * 4096 + 1)),
    ("Dense", {"units": 3, "use_bias": False}, [(5, 4)], 5 * 3 * (2 * 4)),
    ("Dense", {"units": 10, "activation": "softmax"}, [(8,)], 10 * (2 * 8 + 1 + 3)),
    ("BatchNormalization", {}, [(4, 4, 96)], 2 * 4 * 4 * 96),
    ("BatchNormalization", {"center": False}, [(10,)], 2 * 10),
    # center/scale off and frozen alike: (x - mean) * inv_std * gamma + beta folds into one
    # multiply-add per element at inference
    ("BatchNormalization", {"scale": False}, [(5, 5, 8)], 2 * 5 * 5 * 8),
    ("BatchNormalization", {"trainable": False}, [(5, 5, 8)], 2 * 5 * 5 * 8),
    # Normalization: (x - mean) / sqrt(variance), a subtraction and a division per element,
    # whatever axes the statistics span and whether they are given or adapted
    ("Normalization", {}, [(224, 224, 3)], 2 * 224 * 224 * 3),
    ("Normalization", {"axis": [1, 2]}, [(4, 5, 3)], 2 * 4 * 5 * 3),
    ("Normalization", {"axis": None}, [(4, 5, 3)], 2 * 4 * 5 * 3),
    ("Normalization", {"mean": [0.5, 0.4, 0.3], "variance": [0.1, 0.2, 0.3]}, [(8, 8, 3)], 2 * 8 * 8 * 3),
    # Rescaling: x * scale + offset, one multiply-add per element (Keras adds even a zero offset)
    ("Rescaling", {"scale": 1 / 255}, [(32, 32, 3)], 2 * 32 * 32 * 3),
    ("Rescaling", {"scale": [1.0, 2.0, 3.0], "offset": -1.0}, [(32, 32, 3)], 2 * 32 * 32 * 3),
    ("LayerNormalization", {}, [(64,)], 5 * 64),
    ("LayerNormalization", {"scale": False}, [(3, 3, 8)], 5 * 3 * 3 * 8),
    ("Activation", {"activation": "softmax"}, [(10,)], 3 * 10),
    ("Activation", {"activation": "relu"}, [(2, 3)], 6),
    ("Activation", {"activation": "linear"}, [(2, 3)], 0),
    ("ReLU", {"max_value": 6.0}, [(2, 2, 3)], 2 * 12),
    ("Dropout", {"rate": 0.5}, [(3072,)], 0),
    ("Dropout", {"rate": 0.2, "noise_shape": [None, 1, 1, 1]}, [(7, 7, 80)], 0),  # identity at inference
    # Cropping2D and nearest UpSampling2D only move elements
    ("Cropping2D", {"cropping": [[0, 1], [0, 1]]}, [(83, 83, 96)], 0),
    ("Cropping2D", {"cropping": 2}, [(8, 9, 3)], 0),
    ("UpSampling2D", {}, [(7, 5, 3)], 0),
    # bilinear: each output element weighs 4 neighbouring taps, a multiply-add each; (21, 5, 3) out
    ("UpSampling2D", {"size": [3, 1], "interpolation": "bilinear"}, [(7, 5, 3)], 4 * 2 * 21 * 5 * 3),
    # Conv2DTranspose: every input element times every kernel weight of every filter (a
    # multiply-add each), then bias and activation per output element
    ("Conv2DTranspose", {"filters": 16, "kernel_size": 3, "strides": 2, "padding": "same"}, [(8, 8, 32)],
     2 * 8 * 8 * 32 * 3 * 3 * 16 + 16 * 16 * 16),  # out 16 x 16 x 16
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3}, [(8, 8, 2)],
     2 * 8 * 8 * 2 * 3 * 3 * 4 + 10 * 10 * 4),  # out (8 - 1) + 3 = 10
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 2, "strides": 3}, [(8, 8, 2)],
     2 * 8 * 8 * 2 * 2 * 2 * 4 + 24 * 24 * 4),  # out (8 - 1) * 3 + max(2, 3) = 24
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0,
                         "use_bias": False}, [(8, 8, 2)], 2 * 8 * 8 * 2 * 3 * 3 * 4),
    ("Flatten", {}, [(4, 4, 1024)], 0),
    ("Reshape", {"target_shape": [4, -1]}, [(2, 2, 6)], 0),
    ("Reshape", {"target_shape": [2, 3, 4]}, [(24,)], 0),
    # pooling: one operation per window element per output
    ("MaxPooling2D", {}, [(9, 9, 1024)], 4 * 4 * 1024 * 4),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, [(9, 9, 2)], 5 * 5 * 2 * 9),
    ("AveragePooling2D", {"pool_size": [2, 3], "strides": 1}, [(5, 5, 2)], 4 * 3 * 2 * 6),
    ("GlobalAveragePooling2D", {}, [(7, 7, 32)], 7 * 7 * 32),
    ("GlobalMaxPooling2D", {"keepdims": True}, [(7, 7, 32)], 7 * 7 * 32),
    ("ZeroPadding2D", {"padding": 1}, [(8, 8, 256)], 0),
    ("ZeroPadding2D", {"padding": [[0, 1], [2, 3]]}, [(8, 8, 2)], 0),
    ("Add", {"inputs": ["a", "b"]}, [(4, 4, 8), (4, 4, 8)], 4 * 4 * 8),
    ("Add", {"inputs": ["a", "b", "c"]}, [(2, 5), (2, 5), (2, 5)], 2 * 2 * 5),
    ("Concatenate", {"inputs": ["a", "b"]}, [(4, 4, 8), (4, 4, 3)], 0),
    ("Concatenate", {"inputs": ["a", "b"], "axis": 1}, [(4, 5, 8), (2, 5, 8)], 0),
    ("Concatenate", {"inputs": ["a", "b"], "axis": -2}, [(4, 5, 8), (4, 1, 8)], 0),
    # broadcasting merges: one operation per output element and extra input
    ("Add", {"inputs": ["a", "b"]}, [(7, 7, 16), (1, 1, 16)], 7 * 7 * 16),
    ("Add", {"inputs": ["a", "b", "c"]}, [(7, 1, 16), (1, 5, 1), (16,)], 2 * 7 * 5 * 16),  # out (7, 5, 16)
    ("Subtract", {"inputs": ["a", "b"]}, [(3, 4), (3, 4)], 3 * 4),
    ("Multiply", {"inputs": ["a", "b"]}, [(14, 14, 96), (1, 1, 96)], 14 * 14 * 96),
    ("Multiply", {"inputs": ["a", "b"]}, [(5,), (3, 1)], 3 * 5),  # out (3, 5)
    # Average: one add for the second input, then one division, per output element
    ("Average", {"inputs": ["a", "b"]}, [(2, 2, 3), (2, 2, 3)], (1 + 1) * 2 * 2 * 3),
    ("Maximum", {"inputs": ["a", "b"]}, [(2, 2, 3), (2, 1, 3)], 2 * 2 * 3),  # one comparison each
    ("Minimum", {"inputs": ["a", "b"]}, [(4,), (1,)], 4),
]


def _key(type_name: str, arguments: dict[str, Any], inputs: list[tuple[int, ...]]) -> str:
    return repr((type_name, sorted(arguments.items()), inputs))


def test_every_layer_rule_case_has_a_hand_computed_flops_figure() -> None:
    figures = {_key(*case[:3]) for case in HAND_FLOPS}
    missing = [case[:3] for case in CASES if _key(*case[:3]) not in figures]
    assert missing == [], "add FLOPs by hand to HAND_FLOPS for these layer-rule cases"


@pytest.mark.parametrize(("type_name", "arguments", "inputs", "flops"), HAND_FLOPS,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(HAND_FLOPS)])
def test_flops_match_hand_computed_values(type_name: str, arguments: dict[str, Any],
                                          inputs: list[tuple[int, ...]], flops: int) -> None:
    layer = LAYER_TYPES[type_name].model_validate({"type": type_name, "name": "layer",
                                                   **arguments})
    assert layer.flops(inputs, layer.output_shape(inputs)) == flops


def test_the_seed_total_computed_from_its_architecture() -> None:
    """AlexNet as the seed's summary lays it out; each line one layer's FLOPs by hand."""
    by_hand = sum([
        32 * 32 * 96 * (2 * 11 * 11 * 3 + 1),  # conv2d_1, 'same'
        2 * 32 * 32 * 96, 32 * 32 * 96,  # batch_normalization_1, relu
        16 * 16 * 96 * 4,  # max_pooling2d_1, 2x2
        16 * 16 * 256 * (2 * 5 * 5 * 96 + 1), 2 * 16 * 16 * 256, 16 * 16 * 256,  # conv2d_2
        8 * 8 * 256 * 4,
        10 * 10 * 512 * (2 * 3 * 3 * 256 + 1), 2 * 10 * 10 * 512, 10 * 10 * 512,  # conv2d_3
        5 * 5 * 512 * 4,
        7 * 7 * 1024 * (2 * 3 * 3 * 512 + 1), 2 * 7 * 7 * 1024, 7 * 7 * 1024,  # conv2d_4
        9 * 9 * 1024 * (2 * 3 * 3 * 1024 + 1), 2 * 9 * 9 * 1024, 9 * 9 * 1024,  # conv2d_5
        4 * 4 * 1024 * 4,
        3072 * (2 * 16384 + 1), 2 * 3072, 3072,  # dense_1 on the flattened 4x4x1024
        4096 * (2 * 3072 + 1), 2 * 4096, 4096,  # dense_2
        10 * (2 * 4096 + 1), 2 * 10, 3 * 10,  # dense_3, batch_normalization_8, softmax
    ])
    assert by_hand == 2_740_729_916
    assert load_spec(ROOT / "specs" / "alexnet.yaml").info.flops == by_hand
