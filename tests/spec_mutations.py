"""Mutations of valid specs, for fuzzing the loader (tests/test_fuzz.py, benchmarks/fuzz.py).

Every function takes a `random.Random`, so hypothesis (through `st.randoms()`) and the
long-running benchmark drive the same mutations.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from specc.errors import SpeccError
from specc.expectations import check_expectations
from specc.layers.registry import LAYER_TYPES
from specc.spec.load import load_spec_text
from specc.spec.yaml_source import parse_yaml
from specc.summary import render_summary, summary_json

ROOT = Path(__file__).resolve().parent.parent
FUZZ_FILE = "fuzz.yaml"

TINY = """\
name: tiny
input:
  shape: [12, 12, 3]
layers:
  - {name: conv, type: Conv2D, filters: 4, kernel_size: 3, padding: same, expect: {params: 112}}
  - {name: bn, type: BatchNormalization}
  - {name: pool, type: MaxPooling2D, pool_size: 2}
  - {name: flat, type: Flatten}
  - {name: out, type: Dense, units: 10, activation: softmax}
expect: {total_params: 5906}
train: {epochs: 2, batch_size: 32, lr: 0.01, optimizer: {name: sgd, momentum: 0.9}}
"""


def seed_specs() -> list[dict[str, Any]]:
    """The starting points: a tiny spec and every spec in specs/, as plain data."""
    texts = [TINY] + [path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("specs/*.yaml"))]
    return [parse_yaml(text, "seed.yaml")[0] for text in texts]


# ---------------------------------------------------------------- random values

_WORDS = ["relu", "same", "valid", "x", "", "Conv2D", "no", "1e-3", "ü", "a\nb", "'\"", "__init__",
          "import os", "${HOME}", "*a", "&a", "!!python/object", "\t", "\x00", "😀" * 3]


def random_scalar(rng: random.Random) -> Any:
    choice = rng.randrange(9)
    if choice == 0:
        return rng.choice([0, 1, -1, 2, 3, 7, 255, 256, 2**24, 2**24 + 1, 10**12, -(10**9), 2**63])
    if choice == 1:
        return rng.choice([0.0, -0.0, 0.5, 1.0, 1e-3, -2.5, 1e300, float("inf"), float("-inf"),
                           float("nan")])
    if choice == 2:
        return rng.choice([True, False])
    if choice == 3:
        return None
    if choice == 4:
        return rng.choice(_WORDS)
    if choice == 5:
        return rng.choice(list(LAYER_TYPES))
    if choice == 6:
        return [random_scalar(rng) for _ in range(rng.randrange(4))]
    if choice == 7:
        return {rng.choice(["a", "name", "type", "shape"]): random_scalar(rng)}
    return "".join(rng.choice("abcXYZ_019-. ") for _ in range(rng.randrange(1, 12)))


# ---------------------------------------------------------------- structure walking


def _containers(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    found: list[tuple[tuple, Any]] = []
    if isinstance(data, dict | list):
        found.append((path, data))
        items = data.items() if isinstance(data, dict) else enumerate(data)
        for key, value in items:
            found.extend(_containers(value, (*path, key)))
    return found


def _pick_slot(data: Any, rng: random.Random) -> tuple[Any, Any] | None:
    """A random (container, key-or-index) with a value in it."""
    candidates = [(c, k) for _, c in _containers(data) for k in (c if isinstance(c, dict) else
                                                                  range(len(c)))]
    return rng.choice(candidates) if candidates else None


def _layers(data: Any) -> list[Any] | None:
    layers = data.get("layers") if isinstance(data, dict) else None
    return layers if isinstance(layers, list) and layers else None


# ---------------------------------------------------------------- mutations


def drop_key(data: Any, rng: random.Random) -> None:
    mappings = [c for _, c in _containers(data) if isinstance(c, dict) and c]
    if mappings:
        mapping = rng.choice(mappings)
        del mapping[rng.choice(list(mapping))]


def replace_value(data: Any, rng: random.Random) -> None:
    slot = _pick_slot(data, rng)
    if slot:
        container, key = slot
        container[key] = random_scalar(rng)


def change_type(data: Any, rng: random.Random) -> None:
    slot = _pick_slot(data, rng)
    if slot:
        container, key = slot
        value = container[key]
        if isinstance(value, bool | int | float):
            container[key] = rng.choice([str(value), [value], {"value": value}])
        elif isinstance(value, str):
            container[key] = rng.choice([len(value), [value], None])
        elif isinstance(value, list):
            container[key] = value[0] if value else "[]"
        else:
            container[key] = [value]


def nudge_number(data: Any, rng: random.Random) -> None:
    slots = [(c, k) for _, c in _containers(data)
             for k in (c if isinstance(c, dict) else range(len(c)))
             if isinstance(c[k], int) and not isinstance(c[k], bool)]
    if slots:
        container, key = rng.choice(slots)
        container[key] = rng.choice([container[key] + 1, container[key] - 1, -container[key],
                                     container[key] * 1000, 0])


def misspell_key(data: Any, rng: random.Random) -> None:
    mappings = [c for _, c in _containers(data) if isinstance(c, dict) and c]
    if mappings:
        mapping = rng.choice(mappings)
        key = rng.choice(list(mapping))
        if key:
            spot = rng.randrange(len(key))
            wrong = key[:spot] + rng.choice("aeiou_") + key[spot + 1:]
            mapping[wrong] = mapping.pop(key)


def add_key(data: Any, rng: random.Random) -> None:
    mappings = [c for _, c in _containers(data) if isinstance(c, dict)]
    if mappings:
        rng.choice(mappings)[rng.choice(["filters", "units", "inputs", "expect", "bogus",
                                         "kernel_size", "rate", "padding"])] = random_scalar(rng)


def duplicate_layer(data: Any, rng: random.Random) -> None:
    layers = _layers(data)
    if layers:
        layers.insert(rng.randrange(len(layers) + 1), copy.deepcopy(rng.choice(layers)))


def delete_layer(data: Any, rng: random.Random) -> None:
    layers = _layers(data)
    if layers:
        del layers[rng.randrange(len(layers))]


def swap_layers(data: Any, rng: random.Random) -> None:
    layers = _layers(data)
    if layers and len(layers) > 1:
        i, j = rng.sample(range(len(layers)), 2)
        layers[i], layers[j] = layers[j], layers[i]


def retype_layer(data: Any, rng: random.Random) -> None:
    layers = _layers(data)
    if layers:
        layer = rng.choice(layers)
        if isinstance(layer, dict):
            layer["type"] = rng.choice(list(LAYER_TYPES))


def rewire_layer(data: Any, rng: random.Random) -> None:
    layers = _layers(data)
    if layers:
        layer = rng.choice(layers)
        names = [x.get("name") for x in layers if isinstance(x, dict)] + ["input", "nowhere"]
        if isinstance(layer, dict):
            layer["inputs"] = rng.sample(names, k=min(len(names), rng.randrange(0, 3)))


STRUCTURAL: list[Callable[[Any, random.Random], None]] = [
    drop_key, replace_value, change_type, nudge_number, misspell_key, add_key, duplicate_layer,
    delete_layer, swap_layers, retype_layer, rewire_layer,
]


def mutate_text(text: str, rng: random.Random) -> str:
    """Character-level damage: delete, insert or duplicate a little of the YAML text."""
    if not text:
        return rng.choice(_WORDS)
    spot = rng.randrange(len(text))
    choice = rng.randrange(4)
    if choice == 0:
        return text[:spot] + text[spot + rng.randrange(1, 8):]
    if choice == 1:
        return text[:spot] + rng.choice(":-[]{}#&*!|>'\"%@`, ?\t\n") + text[spot:]
    if choice == 2:
        lines = text.splitlines(keepends=True)
        line = rng.randrange(len(lines))
        return "".join(lines[: line + 1] + lines[line:])
    return text[:spot] + rng.choice(_WORDS) + text[spot:]


def mutated_spec_text(seeds: list[dict[str, Any]], rng: random.Random) -> str:
    data = copy.deepcopy(rng.choice(seeds))
    for _ in range(rng.randrange(1, 4)):
        rng.choice(STRUCTURAL)(data, rng)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's: 10x faster
    text = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=rng.choice([None, True]))
    if rng.random() < 0.3:
        text = mutate_text(text, rng)
    return text


# ---------------------------------------------------------------- the property


class FuzzFailure(AssertionError):
    """An input that made specc fail other than with a located SpeccError."""


def check_input(text: str) -> bool:
    """Validate `text` end to end; return True if it is a valid spec.

    Raises FuzzFailure when anything but a located one-line SpeccError comes out.
    """
    try:
        loaded = load_spec_text(text, FUZZ_FILE)
    except SpeccError as error:
        if error.file != FUZZ_FILE or error.position is None:
            raise FuzzFailure(f"error without a location: {error!r}") from error
        if "\n" in str(error) or "\r" in str(error):
            raise FuzzFailure(f"error is not one line: {str(error)!r}") from error
        return False
    except Exception as error:  # the property under test: nothing else may escape
        raise FuzzFailure(f"{type(error).__name__}: {error}") from error
    try:
        checks = check_expectations(loaded)
        render_summary(loaded, checks)
        import json

        json.dumps(summary_json(loaded, checks), allow_nan=False)
    except Exception as error:
        raise FuzzFailure(f"valid spec, but reporting failed: {type(error).__name__}: {error}") from error
    return True
