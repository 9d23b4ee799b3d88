"""One keras.applications model of each family, end to end (`make zoo` runs all 40).

Each is constructed with weights=None at its default input size (MobileNetV3 at 224x224),
given random biases and BatchNorm statistics, imported with every per-layer figure and
total met by specc's inference, built in PyTorch through the gate with exactly Keras's
per-layer counts, loaded with the imported weights, and compared with the original model's
output within 1e-4 relative (float32, inference mode).
"""

from __future__ import annotations

import pytest

from specc.zoo import REPRESENTATIVES, TOLERANCE, run_zoo_model


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_zoo_family_representative_round_trips(name: str) -> None:
    result = run_zoo_model(name)
    assert result.expectations_met, f"{name}: specc's inference differs from the Keras model"
    assert result.max_rel <= TOLERANCE, f"{name}: the PyTorch port differs by {result.max_rel:.2e}"
