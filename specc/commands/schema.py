"""`specc schema`: the JSON Schema of the spec language, for editors."""

from __future__ import annotations

import argparse
import json

HELP = (
    "Print the JSON Schema of the spec language (save it with `specc schema > "
    "specc.schema.json` and start a spec with `# yaml-language-server: $schema=...`)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from specc.spec.schema import spec_json_schema

    print(json.dumps(spec_json_schema(), indent=2, ensure_ascii=False))
    return 0
