"""What one export works on: the spec, the weights, and the PyTorch wrapper holding them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.export.torch_source import DeploySource, deploy_source, deployed_module
from specc.export.trained import Trained, load_trained
from specc.spec.load import LoadedSpec


@dataclass(frozen=True)
class ExportJob:
    loaded: LoadedSpec
    trained: Trained
    source: DeploySource
    deployed: Any  # the source's wrapper module holding the weights (inference mode)
    nhwc: bool
    output: Path
    build_dir: Path


def prepare_job(loaded: LoadedSpec, checkpoint: Path | None, data: str | None, nhwc: bool,
                output: Path, build_dir: Path) -> ExportJob:
    """The weights of `checkpoint` (or a fresh model) in the PyTorch deployment wrapper."""
    trained = load_trained(loaded, checkpoint, data, build_dir)
    return job_for(loaded, trained, nhwc, output, build_dir)


def job_for(loaded: LoadedSpec, trained: Trained, nhwc: bool, output: Path,
            build_dir: Path) -> ExportJob:
    source = deploy_source(loaded, nhwc)
    deployed = deployed_module(loaded, source, trained.model, trained.mean, trained.std,
                               build_dir)
    return ExportJob(loaded, trained, source, deployed, nhwc, output, build_dir)
