"""Training step of the PyTorch ResNet50 that `specc import keras` + `specc build` generate,
against a hand-written, torchvision-style PyTorch ResNet50 of the same architecture (Keras's
ResNet50 v1: biased convolutions, the stride on each block's first 1x1 convolution, BN eps
1.001e-5), side by side in one process: one step of each model in turn, median of the
per-pair ratios.

    python benchmarks/resnet50_step.py --batch-size 8 --steps 40
    python benchmarks/resnet50_step.py --skip-import --spec resnet50.yaml --device cuda \
        --batch-size 128 --steps 40   # on a GPU, bf16 autocast; Keras is not needed there

Also times importing and validating ResNet50 and validating an imported EfficientNetB7.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def hand_written_resnet50():  # torch is imported lazily, hence no annotation
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, inputs: int, filters: int, stride: int, project: bool) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inputs, filters, 1, stride)
            self.bn1 = nn.BatchNorm2d(filters, eps=1.001e-5, momentum=0.01)
            self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(filters, eps=1.001e-5, momentum=0.01)
            self.conv3 = nn.Conv2d(filters, 4 * filters, 1)
            self.bn3 = nn.BatchNorm2d(4 * filters, eps=1.001e-5, momentum=0.01)
            self.relu = nn.ReLU(inplace=True)
            self.shortcut = nn.Sequential(
                nn.Conv2d(inputs, 4 * filters, 1, stride),
                nn.BatchNorm2d(4 * filters, eps=1.001e-5, momentum=0.01),
            ) if project else nn.Identity()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + self.shortcut(x))

    def stage(inputs: int, filters: int, blocks: int, stride: int) -> list:
        return [Bottleneck(inputs, filters, stride, True),
                *(Bottleneck(4 * filters, filters, 1, False) for _ in range(blocks - 1))]

    return nn.Sequential(
        nn.ZeroPad2d(3), nn.Conv2d(3, 64, 7, 2), nn.BatchNorm2d(64, eps=1.001e-5, momentum=0.01),
        nn.ReLU(inplace=True), nn.ZeroPad2d(1), nn.MaxPool2d(3, 2),
        *stage(64, 64, 3, 1), *stage(256, 128, 4, 2), *stage(512, 256, 6, 2),
        *stage(1024, 512, 3, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000), nn.Softmax(dim=1),
    )  # the softmax: Keras's ResNet50 ends with one, so the generated model does too


def _wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def import_figures(folder: Path) -> None:
    python = sys.executable
    resnet = folder / "resnet50.yaml"
    effnet = folder / "efficientnetb7.yaml"
    import_s = _wall([python, "-m", "specc", "import", "keras", "keras.applications:ResNet50",
                      "-o", str(resnet)])
    validate_s = _wall([python, "-m", "specc", "validate", str(resnet)])
    keras_s = _wall([python, "-c", "import keras; keras.applications.ResNet50(weights=None)"])
    _wall([python, "-m", "specc", "import", "keras", "keras.applications:EfficientNetB7",
           "-o", str(effnet)])
    from specc.spec.load import load_spec

    validations = []
    for _ in range(5):
        started = time.perf_counter()
        load_spec(effnet)
        validations.append(time.perf_counter() - started)
    print(f"specc import keras keras.applications:ResNet50: {import_s:.1f} s wall, then "
          f"specc validate: {validate_s:.1f} s (importing keras and building ResNet50 alone: "
          f"{keras_s:.1f} s)")
    print(f"loading + validating the imported EfficientNetB7 spec in process: median "
          f"{statistics.median(validations):.2f} s of 5")


def training_step(batch_size: int, steps: int, spec: Path, device: str,
                  folder: Path) -> None:
    import torch
    import torch.nn.functional as F

    from specc.backends.gate import build_checked
    from specc.spec.load import load_spec

    if not spec.exists():
        subprocess.run([sys.executable, "-m", "specc", "import", "keras",
                        "keras.applications:ResNet50", "-o", str(spec)], check=True)
    loaded = load_spec(spec)
    torch.manual_seed(0)
    generated = build_checked(loaded, "torch", folder).model
    hand = hand_written_resnet50()
    counts = [sum(p.numel() for p in model.parameters()) for model in (generated, hand)]
    assert counts[0] == counts[1], counts
    x = torch.randn(batch_size, 3, 224, 224, device=device)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch_size,), device=device)
    for model in (generated, hand):
        model.to(device=device, memory_format=torch.channels_last)
    on_gpu = device == "cuda"
    precision = torch.bfloat16 if on_gpu else torch.float32

    def sync() -> None:
        if on_gpu:
            torch.cuda.synchronize()

    def step_seconds(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> float:
        sync()
        started = time.perf_counter()
        with torch.autocast(device, dtype=precision, enabled=on_gpu):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()
        return time.perf_counter() - started

    contenders = {"generated": generated, "hand-written": hand}
    optimizers = {name: torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, fused=True)
                  for name, model in contenders.items()}
    for model in contenders.values():
        model.train()
    for name, model in contenders.items():  # warm-up: allocator, oneDNN/cuDNN kernel choice
        for _ in range(2):
            step_seconds(model, optimizers[name])
    # One step of each, alternately, with the order swapped every pair: a slow spell of the
    # machine then falls on both models alike instead of on whichever round it hit.
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for pair in range(steps):
        order = list(contenders) if pair % 2 == 0 else list(reversed(contenders))
        for name in order:
            times[name].append(step_seconds(contenders[name], optimizers[name]))
    paired = sorted(g / h for g, h in zip(times["generated"], times["hand-written"]))
    quartiles = statistics.quantiles(paired, n=4) if len(paired) >= 2 else [paired[0]] * 3
    where = (torch.cuda.get_device_name() + ", bf16 autocast" if on_gpu
             else f"CPU, {torch.get_num_threads()} threads, fp32")
    print(f"ResNet50 training step, {where}, batch {batch_size}, channels_last, "
          f"{steps} steps of each model, alternated:")
    for name, values in times.items():
        print(f"  {name}: median {statistics.median(values):.3f} s per step "
              f"({batch_size / statistics.median(values):.2f} images/s)")
    print(f"  generated step time / hand-written step time, per pair: median "
          f"{quartiles[1]:.3f}, quartiles {quartiles[0]:.3f} to {quartiles[2]:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20, help="timed steps of each model")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--spec", type=Path, help="an imported ResNet50 spec (else imported here)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="specc-resnet50-") as name:
        folder = Path(name)
        if not args.skip_import:
            import_figures(folder)
        spec = args.spec or folder / "resnet50.yaml"
        training_step(args.batch_size, args.steps, spec, args.device, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
