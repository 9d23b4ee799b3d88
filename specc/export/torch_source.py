"""The PyTorch source an export ships: the generated model, then a deployment wrapper that
puts the recipe's input normalization in front of it and a one-line loader.

The wrapper is fixed text (only the channel count and the default layout are filled in),
so it adds nothing from the spec to the file beyond what the generated part already holds.
The ONNX export traces this very class, so the two formats cannot drift apart.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.backends.gate import execute_source, generate
from specc.backends.source import write_atomic
from specc.spec.load import LoadedSpec

FOOTER = '''

# Deployment, added by `specc export`: the recipe's input normalization in front of the
# model, so that it takes pixels as image files store them (0 to 255).


class {wrapper}(nn.Module):
    """Pixels in, the model's output out (its final activation included).

    Input: pixels from 0 to 255 (float or uint8), shaped (N, H, W, C) when `nhwc` (as
    Keras and image files hold them), else (N, C, H, W). Each channel is normalised as in
    training: pixels * pixel_scale + pixel_shift, that is (pixels / 255 - mean) / std with
    the training set's per-channel mean and std.
    """

    def __init__(self, nhwc: bool = {nhwc}) -> None:
        super().__init__()
        self.nhwc = nhwc
        self.model = build_model()
        self.register_buffer("pixel_scale", torch.ones({norm_shape}))
        self.register_buffer("pixel_shift", torch.zeros({norm_shape}))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.nhwc and pixels.ndim == 4:
            pixels = pixels.permute(0, 3, 1, 2)
        x = pixels.to(self.pixel_scale.dtype) * self.pixel_scale + self.pixel_shift
        y = self.model(x)
        if self.nhwc and y.ndim == 4:
            y = y.permute(0, 2, 3, 1)
        return y


def load(weights: str | None = None) -> {wrapper}:
    """The exported model in inference mode, with the weights in `weights` (default: the
    .pt file of this file's name, beside it)."""
    model = {wrapper}()
    path = weights if weights is not None else __file__.removesuffix(".py") + ".pt"
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()
'''


def _top_level_names(source: str) -> set[str]:
    return {node.name for node in ast.parse(source).body
            if isinstance(node, ast.ClassDef | ast.FunctionDef)}


@dataclass(frozen=True)
class DeploySource:
    text: str
    wrapper: str  # the name of the wrapper class in `text`


def deploy_source(loaded: LoadedSpec, nhwc: bool) -> DeploySource:
    """The generated (and checked) model source followed by the deployment wrapper."""
    source = generate(loaded, "torch")
    taken = _top_level_names(source)
    wrapper = next(name for name in ("Deployed", "DeployedModel", "SpeccDeployed")
                   if name not in taken)
    shape = tuple(int(d) for d in loaded.spec.input.shape)
    # Images are NCHW inside the model: one value per channel broadcast over H and W.
    norm_shape = (shape[-1], 1, 1) if len(shape) == 3 else (shape[-1],)
    text = source + FOOTER.format(wrapper=wrapper, nhwc=bool(nhwc), norm_shape=norm_shape)
    return DeploySource(text, wrapper)


def deployed_module(loaded: LoadedSpec, source: DeploySource, model: Any, mean: Any, std: Any,
                    build_dir: Path) -> Any:
    """The wrapper class of `source`, written to a file in `build_dir` and executed from the
    same string (never re-read from disk), holding `model`'s weights and the normalization
    (mean and std per channel in [0, 1] pixel units)."""
    import torch

    path = build_dir / f"{loaded.spec.name}_deploy.py"
    write_atomic(path, source.text)
    deployed = getattr(execute_source(source.text, path), source.wrapper)()
    deployed.model.load_state_dict(model.state_dict())
    scale = torch.as_tensor(1.0 / (255.0 * std), dtype=torch.float32)
    shift = torch.as_tensor(-mean / std, dtype=torch.float32)
    deployed.pixel_scale.copy_(scale.view_as(deployed.pixel_scale))
    deployed.pixel_shift.copy_(shift.view_as(deployed.pixel_shift))
    return deployed.eval()
