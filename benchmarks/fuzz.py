"""Long fuzzing runs: `python benchmarks/fuzz.py [--target specs|archives|checkpoints]
[--examples N] [--seconds S] [--seed S]`.

specs (default): the spec loader, with the property and mutations of tests/test_fuzz.py:
every input either validates or is refused with a located one-line SpeccError.
archives, checkpoints: damaged copies of a valid data archive or checkpoint (random bytes,
bit flips, truncations; tests/bad_data/fuzz_targets.py, as tests/test_fuzz_files.py): each is
read or refused with a one-line SpeccError. Prints how many inputs ran, how many were
valid, refused, and failed (anything else escaping), with the first failures' inputs.
Exit status 1 if any failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bad_data.fuzz_targets import TARGETS
from spec_mutations import (
    TINY,
    FuzzFailure,
    check_input,
    mutate_text,
    mutated_spec_text,
    seed_specs,
)

RANDOM_ALPHABET = list("abcxyz019_.-:[]{}#&*!|>'\"%@`,? \n\t\\~") + [
    "name", "layers", "type", "Conv2D", "input", "shape", ": ", "\n  - ", "é",
]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(RANDOM_ALPHABET) for _ in range(rng.randrange(0, 120)))


def damaged_tiny(rng: random.Random) -> str:
    text = TINY
    for _ in range(rng.randrange(1, 5)):
        text = mutate_text(text, rng)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=("specs", *TARGETS), default="specs")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    if args.target != "specs":
        return fuzz_files(args, rng)
    seeds = seed_specs()
    kinds = [
        ("mutated spec", lambda: mutated_spec_text(seeds, rng), 0.5),
        ("damaged text", lambda: damaged_tiny(rng), 0.3),
        ("random text", lambda: random_text(rng), 0.2),
    ]
    outcomes: Counter[str] = Counter()
    failures: list[tuple[str, str, str]] = []
    start = time.perf_counter()
    ran = 0
    while ran < args.examples:
        if args.seconds is not None and time.perf_counter() - start > args.seconds:
            break
        kind, make, _ = rng.choices(kinds, weights=[w for *_, w in kinds])[0]
        text = make()
        ran += 1
        try:
            outcomes[f"{kind}: valid" if check_input(text) else f"{kind}: refused"] += 1
        except FuzzFailure as failure:
            outcomes[f"{kind}: FAILED"] += 1
            failures.append((kind, str(failure), text))
        if ran % 10_000 == 0:
            seconds = time.perf_counter() - start
            print(f"  ... {ran:,} ran, {len(failures)} failed, {seconds:.0f} s", flush=True)
    elapsed = time.perf_counter() - start

    print(f"fuzz: {ran:,} examples in {elapsed:.0f} s ({ran / elapsed:,.0f}/s), seed {args.seed}")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:28} {count:>9,}")
    print(f"failed: {len(failures):,}")
    for kind, reason, text in failures[:10]:
        print(f"--- {kind}: {reason}\n{text[:2000]!r}")
    return 1 if failures else 0


def fuzz_files(args: argparse.Namespace, rng: random.Random) -> int:
    """Damaged archives or checkpoints, in a temporary folder (and data cache)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="specc-fuzz-") as folder:
        os.environ["SPECC_DATA"] = str(Path(folder) / "cache")
        (Path(folder) / "cache").mkdir()
        target = TARGETS[args.target](Path(folder))
        outcomes: Counter[str] = Counter()
        failures: list[tuple[str, str, bytes]] = []
        start = time.perf_counter()
        ran = 0
        while ran < args.examples:
            if args.seconds is not None and time.perf_counter() - start > args.seconds:
                break
            kind, content = target.example(rng)
            ran += 1
            try:
                outcomes[f"{kind}: read" if target.check(content) else f"{kind}: refused"] += 1
            except FuzzFailure as failure:
                outcomes[f"{kind}: FAILED"] += 1
                failures.append((kind, str(failure), content))
            if ran % 1_000 == 0:
                seconds = time.perf_counter() - start
                print(f"  ... {ran:,} ran, {len(failures)} failed, {seconds:.0f} s", flush=True)
        elapsed = time.perf_counter() - start
    print(f"fuzz {args.target}: {ran:,} examples in {elapsed:.0f} s ({ran / elapsed:,.1f}/s), "
          f"seed {args.seed}")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:40} {count:>9,}")
    print(f"failed: {len(failures):,}")
    for kind, reason, content in failures[:10]:
        print(f"--- {kind}: {reason} ({len(content):,} bytes)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
