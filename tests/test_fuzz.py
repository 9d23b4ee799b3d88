"""Property: every input either validates or raises SpeccError with a file and a position.

Bounded and derandomised for CI; benchmarks/fuzz.py runs the same mutations 100,000+ times.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_mutations import check_input, mutate_text, mutated_spec_text, seed_specs

SEEDS = seed_specs()
SETTINGS = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

YAML_ALPHABET = st.sampled_from(
    list("abcxyz019_.-:[]{}#&*!|>'\"%@`,? \n\t\\~") + ["name", "layers", "type", "Conv2D",
                                                      "input", "shape", ": ", "\n  - ", "é"]
)


@SETTINGS
@given(st.lists(YAML_ALPHABET, max_size=80).map("".join))
def test_random_yaml_text(text: str) -> None:
    check_input(text)


@SETTINGS
@given(st.randoms(use_true_random=False))
def test_mutated_specs(rng: random.Random) -> None:
    check_input(mutated_spec_text(SEEDS, rng))


@SETTINGS
@given(st.randoms(use_true_random=False))
def test_damaged_spec_text(rng: random.Random) -> None:
    from spec_mutations import TINY

    text = TINY
    for _ in range(rng.randrange(1, 4)):
        text = mutate_text(text, rng)
    check_input(text)


def test_the_seeds_are_valid() -> None:
    """The mutations start from valid specs, so what they find are the mutations' effects."""
    from spec_mutations import TINY

    assert check_input(TINY)
