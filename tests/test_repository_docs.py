"""The files that document the language stay true to the code: the committed JSON Schema
(which every spec's `# yaml-language-server: $schema=` line points at) and the README's
layer reference."""

from __future__ import annotations

import json
from pathlib import Path

from specc.reference import layer_table
from specc.spec.schema import spec_json_schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_matches_the_language() -> None:
    committed = json.loads((ROOT / "specc.schema.json").read_text(encoding="utf-8"))
    assert committed == spec_json_schema(), "regenerate it: specc schema > specc.schema.json"


def test_every_spec_points_editors_at_the_schema(spec_path: Path) -> None:
    first_line = spec_path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../specc.schema.json"


def test_readme_layer_reference_matches_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert layer_table() in readme, "update the README: python -m specc.reference"
