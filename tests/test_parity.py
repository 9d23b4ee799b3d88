"""Parity: the generated Keras and PyTorch models compute the same function.

Every example of every registered layer type, and every spec in specs/, is built in both
backends (each passing the build gate), the Keras weights (randomised biases and
statistics included) are copied into PyTorch, and every layer's output must agree within
1e-4 relative in float32.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from layer_examples import EXAMPLE_IDS, EXAMPLES, load_example

from specc.backends.parity import TOLERANCE, run_parity
from specc.layers.base import LayerExample
from specc.spec.load import load_spec


@pytest.mark.parametrize(("type_name", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_every_layer_example_has_parity(
    type_name: str, index: int, example: LayerExample, tmp_path: Path
) -> None:
    result = run_parity(load_example(type_name, example, index), tmp_path, batch_size=3)
    assert result.passed, "\n" + result.table()


@pytest.mark.slow
def test_every_spec_has_parity(spec_path: Path, tmp_path: Path) -> None:
    loaded = load_spec(spec_path)
    # A single image for the 224x224 networks keeps this quick; small inputs get a few.
    batch = 1 if loaded.spec.input.shape[0] > 64 else 2
    result = run_parity(loaded, tmp_path, batch_size=batch)
    assert result.max_rel <= TOLERANCE, "\n" + result.table()
    assert {layer.name for layer in result.layers} >= {layer.name for layer in loaded.spec.layers}
