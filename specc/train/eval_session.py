"""`specc eval`: a checkpoint of a spec, evaluated on the test set."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from specc.errors import SpeccError, one_line
from specc.files import strict_json, write_text_atomic
from specc.spec.load import load_spec
from specc.train.checkpoint import checkpoint_file, max_checkpoint_bytes, read_checkpoint
from specc.train.common import DivergedError, RunOptions, final_softmax_layer
from specc.train.data import load_dataset
from specc.train.device import resolve_device
from specc.train.results import plot_confusion
from specc.train.session import build_model, check_data_fits


@dataclass(frozen=True)
class EvalRequest:
    spec: Path
    checkpoint: Path
    data: str | None = None
    limit_test: int | None = None
    batch_size: int = 500
    device: str = "auto"
    out: Path | None = None


def _output_folder(request: EvalRequest, checkpoint: Path) -> Path:
    if request.out is not None:
        if request.out.exists() and not request.out.is_dir():
            raise SpeccError(f"--out {request.out}: is a file, not a folder")
        request.out.mkdir(parents=True, exist_ok=True)
        return request.out
    folder = checkpoint.parent
    return folder.parent if folder.name == "checkpoints" else folder


def evaluate_checkpoint(request: EvalRequest) -> int:
    loaded = load_spec(request.spec)
    checkpoint = checkpoint_file(request.checkpoint)
    backend, payload = read_checkpoint(checkpoint, max_checkpoint_bytes(loaded.info.total_params))
    if backend not in ("torch", "keras"):
        raise SpeccError(f"{checkpoint}: unknown backend {backend!r} in the checkpoint")
    device = resolve_device(backend, request.device)  # before decoding any data
    data = load_dataset(request.data).limited(None, request.limit_test)
    check_data_fits(loaded, data)
    if backend == "torch":
        from specc.train.engine_torch import evaluate_payload
    else:
        from specc.train.engine_keras import evaluate_payload  # type: ignore[no-redef]
    # Keras evaluates in float32: its checkpoints hold float32 variables whatever the precision.
    model = build_model(loaded, RunOptions(backend=backend, device=device, precision="fp32"), None)
    result = evaluate_payload(payload, checkpoint, loaded, model, final_softmax_layer(loaded),
                              data, request.batch_size, device)
    if not math.isfinite(result.loss):
        raise DivergedError(f"{checkpoint}: the test loss is {result.loss}: the model's outputs "
                            "are not finite (the run diverged); nothing was written")
    print(result.report())
    folder = _output_folder(request, checkpoint)
    plot_confusion(result, folder / "confusion_matrix.png",
                   f"{loaded.spec.name} on {Path(data.source).name}")
    write_text_atomic(folder / "eval.json", strict_json(
        {**result.as_json(), "checkpoint": str(checkpoint), "data": data.source}, indent=2) + "\n")
    print("\n" + one_line(f"Confusion matrix: {folder / 'confusion_matrix.png'}"))
    return 0
