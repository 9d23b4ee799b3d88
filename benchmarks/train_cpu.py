"""Training on this machine's CPU, on the real CIFAR-10 (JPEG archive), two measurements:

    python benchmarks/train_cpu.py small [--data ARCHIVE] [--epochs 3]
    python benchmarks/train_cpu.py alexnet [--data ARCHIVE] [--batch-size 32] [--steps 3]
    python benchmarks/train_cpu.py keras [--data ARCHIVE] [--rounds 3]
    python benchmarks/train_cpu.py all

`small`: `specc train specs/cifar_small.yaml` on the full archive (50,000 training and
10,000 test images) for a few epochs; prints the test accuracy, the wall time and the
per-epoch figures. `alexnet`: training images/s of the seed AlexNet, the model specc
generates against a hand-written PyTorch model of the same architecture, in one process,
interleaved round by round (the machine is shared, so rounds are repeated and the median
reported): both in the same plain PyTorch training loop (the ratio isolates the model
code), and the generated model in specc's own training step (device-side augmentation,
schedule, accumulation) to show the engine's overhead. `keras`: `specc train --backend
keras`'s training loop (augmentation, schedule, loss on logits, weight decay) against
Keras's own `model.fit` (no augmentation) on the generated cifar_small model, interleaved
epoch by epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def small(data: Path, epochs: int) -> None:
    from specc.cli import main
    from specc.train.data import load_dataset

    with tempfile.TemporaryDirectory(prefix="specc-bench-cache-") as cache, \
            tempfile.TemporaryDirectory(prefix="specc-bench-") as out:
        os.environ["SPECC_DATA"] = cache  # an empty cache: the first load decodes the JPEGs
        started = time.perf_counter()
        load_dataset(data)
        decode_s = time.perf_counter() - started
        started = time.perf_counter()
        load_dataset(data)
        cached_s = time.perf_counter() - started
        started = time.perf_counter()
        code = main(["train", str(ROOT / "specs" / "cifar_small.yaml"), "--data", str(data),
                     "--epochs", str(epochs), "--device", "cpu", "--out", out])
        wall_s = time.perf_counter() - started
        if code != 0:
            sys.exit(code)
        (run,) = list(Path(out).iterdir())
        result = json.loads((run / "result.json").read_text())
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        environment = json.loads((run / "environment.json").read_text())
    print("\n## cifar_small on the CPU, full CIFAR-10 JPEG archive")
    print(f"data: {data}: first load (decode 60,000 JPEGs, write the cache) {decode_s:.1f} s, "
          f"second load (from the cache) {cached_s:.2f} s")
    print(f"device: {environment['device_name']}, {environment['threads']} threads, "
          f"precision {environment['precision']}, batch {environment['batch_size']}")
    print("| epoch | train loss | train acc | test loss | test acc | images/s | epoch s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['epoch']} | {row['train_loss']:.4f} | {row['train_accuracy']:.4f} | "
              f"{row['test_loss']:.4f} | {row['test_accuracy']:.4f} | "
              f"{row['images_per_s']:,.0f} | {row['epoch_time_s']:.0f} |")
    print(f"test accuracy after {epochs} epochs: {result['test_accuracy']:.4f} "
          f"(test loss {result['test_loss']:.4f}); `specc train` wall time {wall_s:.0f} s")


def hand_written_alexnet():  # torch is imported lazily, hence no annotation
    """The seed's AlexNet as a person would write it in PyTorch (Keras's BN settings)."""
    from torch import nn

    def conv_block(inputs: int, outputs: int, kernel: int, pad_before: int = 0) -> list:
        layers = [nn.ZeroPad2d(pad_before)] if pad_before else []
        return [*layers, nn.Conv2d(inputs, outputs, kernel, padding=kernel // 2),
                nn.BatchNorm2d(outputs, eps=1e-3, momentum=0.01), nn.ReLU(inplace=True)]

    def dense_block(inputs: int, outputs: int, dropout: float) -> list:
        return [nn.Linear(inputs, outputs), nn.BatchNorm1d(outputs, eps=1e-3, momentum=0.01),
                nn.ReLU(inplace=True), nn.Dropout(dropout)]

    return nn.Sequential(
        *conv_block(3, 96, 11), nn.MaxPool2d(2),
        *conv_block(96, 256, 5), nn.MaxPool2d(2),
        *conv_block(256, 512, 3, pad_before=1), nn.MaxPool2d(2),
        *conv_block(512, 1024, 3, pad_before=1),
        *conv_block(1024, 1024, 3, pad_before=1), nn.MaxPool2d(2),
        nn.Flatten(),
        *dense_block(16384, 3072, 0.5), *dense_block(3072, 4096, 0.5),
        nn.Linear(4096, 10), nn.BatchNorm1d(10, eps=1e-3, momentum=0.01),
    )


def alexnet(data: Path, batch_size: int, steps: int, rounds: int) -> None:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    from specc.backends.gate import build_checked
    from specc.spec.load import load_spec
    from specc.train.common import EngineContext, RunOptions, normalization_stats
    from specc.train.data import load_dataset
    from specc.train.engine_torch import TorchTrainer
    from specc.train.progress import EpochProgress
    from specc.train.run_folder import RunFolder

    torch.manual_seed(0)
    loaded = load_spec(ROOT / "specs" / "alexnet.yaml")
    dataset = load_dataset(data).limited(batch_size * (steps + 1), 256)
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as folder:
        generated = build_checked(loaded, "torch", Path(folder)).model
    generated.activation_8 = nn.Identity()  # train on logits, as `specc train` does
    hand = hand_written_alexnet()
    counts = {name: sum(p.numel() for p in model.parameters())
              for name, model in (("generated", generated), ("hand", hand))}
    assert counts["generated"] == counts["hand"] == 78_970_462, counts

    recipe = (loaded.spec.train).model_copy(update={"batch_size": batch_size})
    mean, std = normalization_stats(recipe, dataset.x_train)
    x = torch.from_numpy(((dataset.x_train / 255.0 - mean) / std).astype(np.float32))
    # channels_last for both models and the input, as specc's engine trains (and as a careful
    # hand-writer would): the ratio compares model code, not memory layouts.
    x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(dataset.y_train)
    for model in (generated, hand):
        model.to(memory_format=torch.channels_last)

    def plain_loop(model: nn.Module) -> float:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                                    weight_decay=5e-4, fused=True)
        model.train()
        started = 0.0
        for step in range(steps + 1):  # step 0 warms up
            if step == 1:
                started = time.perf_counter()
            batch = slice(step * batch_size, (step + 1) * batch_size)
            loss = F.cross_entropy(model(x[batch]), y[batch], label_smoothing=0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        loss.item()
        return steps * batch_size / (time.perf_counter() - started)

    run = RunFolder(Path(tempfile.mkdtemp(prefix="specc-bench-run-")))
    context = EngineContext(loaded, recipe, dataset, run, RunOptions(device="cpu"),
                            EpochProgress(force_plain=True), mean, std)
    engine = TorchTrainer(context, generated, None)

    def specc_engine() -> float:
        from specc.train.engine_torch import augmented_batch, plan_epoch

        plan = plan_epoch(len(engine.train_data), 32, 32, 4, True, 0, 0, engine.device)
        started = 0.0
        for step in range(steps + 1):
            if step == 1:
                started = time.perf_counter()
            images, labels = augmented_batch(engine.train_data, plan, step * batch_size,
                                             (step + 1) * batch_size, 4)
            engine._step(images, labels)
            engine.global_step += 1
        engine.host_check()
        return steps * batch_size / (time.perf_counter() - started)

    measures = {"generated model, plain PyTorch loop": lambda: plain_loop(generated),
                "hand-written model, plain PyTorch loop": lambda: plain_loop(hand),
                "generated model, specc train step": specc_engine}
    rates: dict[str, list[float]] = {name: [] for name in measures}
    for round_index in range(rounds):
        for name, measure in measures.items():
            rates[name].append(measure())
            print(f"round {round_index + 1}: {name}: {rates[name][-1]:.2f} img/s", flush=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    flops = loaded.info.flops
    print(f"\n## AlexNet (seed spec) training throughput on the CPU "
          f"({torch.get_num_threads()} threads, fp32, batch {batch_size}, {steps} timed steps "
          f"x {rounds} rounds, median)")
    print("| model and loop | images/s | GFLOP/s (3 x forward FLOPs) |")
    print("|---|---|---|")
    for name, rate in medians.items():
        print(f"| {name} | {rate:.2f} | {3 * flops * rate / 1e9:.0f} |")
    ratio = medians["generated model, plain PyTorch loop"] / medians[
        "hand-written model, plain PyTorch loop"]
    print(f"generated / hand-written (same loop): {ratio:.3f}")


def keras_speed(data: Path, rounds: int, images: int = 10_240) -> None:
    from specc.backends.quiet_keras import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from specc.backends.gate import build_checked
    from specc.spec.load import load_spec
    from specc.train.common import (
        EngineContext,
        RunOptions,
        final_softmax_layer,
        normalization_stats,
    )
    from specc.train.data import load_dataset
    from specc.train.engine_keras import KerasTrainer, normalise
    from specc.train.progress import EpochProgress
    from specc.train.run_folder import RunFolder

    keras.utils.set_random_seed(0)
    loaded = load_spec(ROOT / "specs" / "cifar_small.yaml")
    recipe = loaded.spec.train
    dataset = load_dataset(data).limited(images, 256)
    mean, std = normalization_stats(recipe, dataset.x_train)
    logits_layer = final_softmax_layer(loaded)
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as folder:
        engine_model = build_checked(loaded, "keras", Path(folder)).model
        fit_model = build_checked(loaded, "keras", Path(folder)).model
    run_folder = tempfile.TemporaryDirectory(prefix="specc-bench-run-")
    context = EngineContext(loaded, recipe, dataset, RunFolder(Path(run_folder.name)),
                            RunOptions(backend="keras", precision="fp32"),
                            EpochProgress(force_plain=True), mean, std)
    engine = KerasTrainer(context, engine_model, logits_layer)

    fit_logits = keras.Model(fit_model.input, fit_model.get_layer(logits_layer).input)
    fit_logits.compile(
        optimizer=keras.optimizers.SGD(recipe.lr, momentum=recipe.optimizer.momentum,
                                       nesterov=recipe.optimizer.nesterov),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                  label_smoothing=recipe.label_smoothing))
    x = normalise(dataset.x_train, mean, std)
    y = keras.utils.to_categorical(dataset.y_train, len(dataset.classes))
    steps = len(dataset.y_train) // engine.batch_size

    def engine_epoch() -> float:
        plan = engine.epoch_plan()
        started = time.perf_counter()
        for step in range(steps):
            engine.run_step(plan, step * engine.batch_size)
            engine.global_step += 1
        engine.host_check()
        return steps * engine.batch_size / (time.perf_counter() - started)

    def fit_epoch() -> float:
        started = time.perf_counter()
        fit_logits.fit(x[: steps * engine.batch_size], y[: steps * engine.batch_size],
                       batch_size=engine.batch_size, epochs=1, shuffle=True, verbose=0)
        return steps * engine.batch_size / (time.perf_counter() - started)

    engine_epoch(), fit_epoch()  # tracing and the first compilation
    rates: dict[str, list[float]] = {"specc train --backend keras loop": [],
                                     "keras model.fit (no augmentation)": []}
    for round_index in range(rounds):
        for name, measure in zip(rates, (engine_epoch, fit_epoch), strict=True):
            rates[name].append(measure())
            print(f"round {round_index + 1}: {name}: {rates[name][-1]:,.0f} img/s", flush=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\n## cifar_small, Keras, on the CPU (batch {engine.batch_size}, {steps} steps per "
          f"epoch, median of {rounds} epochs)")
    print("| training loop | images/s |")
    print("|---|---|")
    for name, rate in medians.items():
        print(f"| {name} | {rate:,.0f} |")
    names = list(medians)
    print(f"specc / model.fit: {medians[names[0]] / medians[names[1]]:.3f}")
    run_folder.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("small", "alexnet", "keras", "all"))
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SPECC_BENCH_DATA",
                                                                         DEFAULT_DATA)))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.what in ("alexnet", "all"):
        alexnet(args.data, args.batch_size, args.steps, args.rounds)
    if args.what in ("keras", "all"):
        keras_speed(args.data, args.rounds)
    if args.what in ("small", "all"):
        small(args.data, args.epochs)


if __name__ == "__main__":
    main()
