"""Reading a spec file: YAML text -> validated Spec -> inferred ModelInfo.

INTERIM: plain yaml.safe_load without positions; the spec-language work replaces the
internals (positions, strict YAML) while keeping this interface.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from specc.errors import SpeccError
from specc.graph import LayerInferenceError, ModelInfo, infer
from specc.spec.model import Spec


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    text: str
    spec: Spec
    info: ModelInfo

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def load_spec(path: str | Path) -> LoadedSpec:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        spec = Spec.model_validate(yaml.safe_load(text))
        info = infer(spec)
    except (ValidationError, LayerInferenceError) as error:
        raise SpeccError(str(error).splitlines()[0], file=str(path)) from None
    return LoadedSpec(path, text, spec, info)
