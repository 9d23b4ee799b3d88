"""The export formats by name: what each writes, needs and takes (no framework imports, so
that `specc --help` and `specc validate` stay light)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str
    modules: tuple[str, ...]  # what writing and checking it imports
    extra: str  # the optional dependency group that installs them
    takes_layout: bool  # whether --layout nchw means anything for it


FORMATS: dict[str, ExportFormat] = {
    "onnx": ExportFormat("onnx", ".onnx", ("onnx", "onnxscript", "onnxruntime"), "interop", True),
    "keras": ExportFormat("keras", ".keras", ("keras",), "keras", False),
    "torch": ExportFormat("torch", ".pt", ("torch",), "torch", True),
    "safetensors": ExportFormat("safetensors", ".safetensors", ("safetensors",), "interop",
                                False),
}
