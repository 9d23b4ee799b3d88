"""One keras.applications model of each family, end to end (`make zoo` runs all 40).

Each is constructed with weights=None at its default input size (MobileNetV3 at 224x224),
given random biases and BatchNorm statistics, imported with every per-layer figure and
total met by specc's inference, built in PyTorch through the gate with exactly Keras's
per-layer counts, loaded with the imported weights, and compared with the original model
within 1e-4 relative at its output and its last layer's input (inference mode), in float64
and, where the untrained model is not chaotic in float32 (see specc/zoo.py), in float32.
"""

from __future__ import annotations

import pytest

from specc.zoo import REPRESENTATIVES, TOLERANCE, run_zoo_model


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_zoo_family_representative_round_trips(name: str) -> None:
    result = run_zoo_model(name)
    assert result.expectations_met, f"{name}: specc's inference differs from the Keras model"
    assert result.max_rel_float64 <= TOLERANCE, (
        f"{name}: the PyTorch port differs by {result.max_rel_float64:.2e} in float64")
    assert result.max_rel <= TOLERANCE or not result.float32_decides, (
        f"{name}: the PyTorch port differs by {result.max_rel:.2e} in float32")
