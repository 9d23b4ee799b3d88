"""keras.applications models through their printed summaries: each model's Keras 3 summary,
as captured output prints it (80 columns, names cut with `…`), goes through
`specc import summary`, and the graph it gives is compared with the graph `specc import
keras` reads from the model itself (each layer's type and what it reads, recursively).

    python benchmarks/summary_zoo.py                       # the default list below
    python benchmarks/summary_zoo.py ResNet50 DenseNet121
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

DEFAULT = ["ResNet50", "ResNet50V2", "Xception", "MobileNetV2", "DenseNet121", "EfficientNetB0",
           "EfficientNetV2B0", "InceptionV3", "NASNetMobile", "ConvNeXtTiny"]


def compare(name: str, folder: Path) -> str:
    import keras

    from specc.cli import main
    from specc.graph import graph_signature
    from specc.importers.keras import import_model_object
    from specc.spec.load import load_spec, load_spec_text

    model = getattr(keras.applications, name)(weights=None)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        model.summary()
    table = folder / f"{name}.txt"
    table.write_text(printed.getvalue(), encoding="utf-8")
    out = folder / f"{name}.yaml"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        code = main(["import", "summary", str(table), "-o", str(out)])
    if code != 0:
        return f"not imported (exit {code}): {errors.getvalue().strip().splitlines()[-1]}"
    truth = graph_signature(load_spec_text(import_model_object(model, name).text, name).spec)
    imported = graph_signature(load_spec(out).spec)
    inferred = out.read_text(encoding="utf-8").count("inferred: input")
    return (f"same graph ({len(model.layers) - 1} layers, {inferred} cut input names inferred)"
            if imported == truth else
            f"DIFFERENT graph: {sum((imported - truth).values())} layers differ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=DEFAULT)
    args = parser.parse_args()
    os.environ["COLUMNS"] = "80"  # rich's width for captured output, set for reproducibility
    with tempfile.TemporaryDirectory(prefix="specc-summary-zoo-") as name:
        for model in args.models:
            print(f"{model}: {compare(model, Path(name))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
