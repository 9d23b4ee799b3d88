"""Code generation, the build gate, the weight converter and parity.

Public API (no framework is imported until a model is built):

- :func:`specc.backends.gate.build_checked` (loaded spec, "torch" | "keras", out folder)
  -> :class:`specc.backends.gate.BuiltModel` (model, path, backend, layers, report);
  raises GateError (exit 1) when the built model differs from the spec.
- :func:`specc.backends.convert.keras_to_torch` / :func:`specc.backends.convert.torch_to_keras`
  (copy weights between the generated models, by layer name).
- :func:`specc.backends.parity.run_parity` -> :class:`specc.backends.parity.ParityResult`.

Each layer type describes its own Keras and PyTorch form (``keras_layer``, ``torch_emit``
in ``specc/layers/``); ``keras_codegen`` and ``torch_codegen`` assemble whole files.
"""

from specc.backends.convert import keras_to_torch, torch_to_keras
from specc.backends.gate import BuiltModel, GateError, build_checked
from specc.backends.parity import ParityResult, run_parity

__all__ = [
    "BuiltModel",
    "GateError",
    "ParityResult",
    "build_checked",
    "keras_to_torch",
    "run_parity",
    "torch_to_keras",
]
