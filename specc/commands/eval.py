"""`specc eval SPEC --checkpoint PATH`: test loss, accuracy, per-class accuracy, confusion."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "Evaluate a training checkpoint of SPEC on the test set: test loss and accuracy, per-class "
    "accuracy and the confusion matrix, printed and written as PNG (and JSON)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from specc.commands.train import _positive_int

    parser.add_argument("spec", type=Path, help="the spec file the checkpoint was trained from")
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="a checkpoint file (checkpoints/last.ckpt) or a run folder")
    parser.add_argument("--data", default=None, help="test data (as for `specc train --data`)")
    parser.add_argument("--limit-test", type=_positive_int, metavar="N",
                        help="evaluate on the first N test images only")
    parser.add_argument("--batch-size", type=_positive_int, default=500)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for confusion_matrix.png and eval.json (default: the run "
                        "folder of the checkpoint)")


def run(args: argparse.Namespace) -> int:
    from specc.train.eval_session import EvalRequest, evaluate_checkpoint

    return evaluate_checkpoint(EvalRequest(
        spec=args.spec, checkpoint=args.checkpoint, data=args.data, limit_test=args.limit_test,
        batch_size=args.batch_size, device=args.device, out=args.out,
    ))
