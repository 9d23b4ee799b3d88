"""Run the keras.applications zoo (`make zoo`): every model, or those named, one table.

    python benchmarks/zoo.py                    # all 40, table to stdout and build/zoo.md
    python benchmarks/zoo.py ResNet50 MobileNet # some
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from specc.zoo import ALL_MODELS, run_zoo_model, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=list(ALL_MODELS))
    parser.add_argument("--table", type=Path, default=Path("build/zoo.md"))
    args = parser.parse_args()
    results = []
    for name in args.models:
        result = run_zoo_model(name)
        results.append(result)
        print(table([result]).splitlines()[-1], flush=True)
        gc.collect()
    text = table(results)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(text + "\n", encoding="utf-8")
    print("\n" + text)
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
