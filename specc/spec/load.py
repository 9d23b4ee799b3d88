"""Reading a spec file: bytes -> strict YAML with positions -> validated Spec -> ModelInfo.

Every failure on the way is a SpeccError located at ``file:line:col``. The model limits
(parameters, activation memory) are checked here, after inference, so nothing downstream
ever sees an absurd model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from specc.errors import SpeccError
from specc.graph import LayerInferenceError, ModelInfo, infer
from specc.layers.base import elements
from specc.limits import MAX_LAYERS, ModelLimitError, check_model_limits
from specc.spec.diagnostics import locate_inference_error, locate_validation_error
from specc.spec.model import DEFER_WIRING_CHECK, Spec, first_wiring_problem
from specc.spec.yaml_source import SourceMap, parse_yaml, read_spec_text

__all__ = ["LoadedSpec", "load_spec", "load_spec_text", "parse_spec"]


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    text: str
    spec: Spec
    info: ModelInfo
    source: SourceMap = field(default_factory=lambda: SourceMap("<unknown>"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def file(self) -> str:
        """The file name as shown in messages."""
        return self.source.file


def load_spec(path: str | Path) -> LoadedSpec:
    """Read, validate and infer one spec file; raises a located SpeccError on any fault."""
    display = str(path)
    text = read_spec_text(Path(path), display)
    return load_spec_text(text, display, path=Path(path))


def load_spec_text(text: str, file: str = "<string>", *, path: Path | None = None) -> LoadedSpec:
    """Like :func:`load_spec`, for text already in memory; ``file`` names it in messages."""
    spec, source = parse_spec(text, file)
    info = infer_located(spec, source)
    return LoadedSpec(path or Path(file), text, spec, info, source)


def parse_spec(text: str, file: str) -> tuple[Spec, SourceMap]:
    """YAML text -> validated Spec (schema and wiring), with the source map."""
    data, source = parse_yaml(text, file)
    _check_layer_count(data, source)
    try:
        spec = Spec.model_validate(data, context={DEFER_WIRING_CHECK: True})
    except ValidationError as error:
        raise locate_validation_error(error, data, source, Spec) from None
    problem = first_wiring_problem(spec)
    if problem is not None:
        raise SpeccError(problem.message, file=file, position=source.value(problem.path))
    return spec, source


def infer_located(spec: Spec, source: SourceMap) -> ModelInfo:
    """Inference, then the model limits; failures point at the layer at fault."""
    try:
        info = infer(spec)
    except LayerInferenceError as error:
        raise locate_inference_error(error, source) from None
    try:
        check_model_limits(
            ((item.index, item.params.total, elements(item.output_shape)) for item in info.layers),
            elements(spec.input.shape),
        )
    except ModelLimitError as error:
        if error.index is None:
            raise SpeccError(
                f"input: {error.message}", file=source.file, position=source.value(("input",))
            ) from None
        layer = spec.layers[error.index]
        raise SpeccError(
            f"layer {layer.name} ({layer.type}): {error.message}",
            file=source.file,
            position=source.value(("layers", error.index, "type")),
        ) from None
    return info


def _check_layer_count(data: dict[str, Any], source: SourceMap) -> None:
    layers = data.get("layers")
    if isinstance(layers, list) and len(layers) > MAX_LAYERS:
        raise SpeccError(
            f"{len(layers):,} layers; a spec has at most {MAX_LAYERS:,}",
            file=source.file,
            position=source.value(("layers", MAX_LAYERS)),
        )
