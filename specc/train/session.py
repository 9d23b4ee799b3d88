"""`specc train` end to end: spec, recipe, data, build gate, run folder, engine, result.

Framework imports happen in the engines, which this module loads only when training starts.
"""

from __future__ import annotations

import platform
import random
import shutil
import sys
import tempfile
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from specc.errors import ExitCode, SpeccError, one_line, shell_word
from specc.spec.load import LoadedSpec, load_spec
from specc.spec.recipe import TrainRecipe
from specc.train.common import (
    EngineContext,
    Outcome,
    RunOptions,
    final_softmax_layer,
    normalization_stats,
)
from specc.train.data import Dataset, load_dataset
from specc.train.device import resolve_device
from specc.train.distributed import (
    World,
    broadcast_object,
    device_type,
    main_first,
    process_group,
    rank_reporting,
    world_from_environment,
)
from specc.train.progress import EpochProgress
from specc.train.run_folder import RunFolder

NORMALIZATION_NOTE = (
    "inputs are pixels / 255, then (x - mean) / std per channel with the training set's mean "
    "and std (recipe normalization: per_channel)"
)


@dataclass(frozen=True)
class TrainRequest:
    spec: Path
    options: RunOptions
    overrides: dict[str, Any]  # recipe fields set by flags (epochs, batch_size, lr, seed)
    data: str | None = None
    out: Path = Path("runs")
    resume: Path | None = None


def resolve_recipe(loaded: LoadedSpec, overrides: dict[str, Any]) -> TrainRecipe:
    base = (loaded.spec.train or TrainRecipe()).model_dump()
    try:
        return TrainRecipe.model_validate({**base, **overrides})
    except ValidationError as error:
        first = error.errors()[0]
        flag = "--" + str(first["loc"][0]).replace("_", "-")
        raise SpeccError(f"{flag}: {first['msg']}") from None


def check_data_fits(loaded: LoadedSpec, data: Dataset) -> None:
    outputs = loaded.info.output_shape[-1] if loaded.info.output_shape else 0
    if len(data.classes) != outputs:
        raise SpeccError(
            f"the data has {len(data.classes)} classes ({data.source}) but the spec's output has "
            f"{outputs} units", file=str(loaded.path))
    expected = tuple(loaded.spec.input.shape)
    if tuple(data.image_shape) != expected:
        raise SpeccError(
            f"the data's images are {list(data.image_shape)} (H, W, C) but the spec's input is "
            f"{list(expected)}", file=str(loaded.path))
    if len(data.y_train) == 0 or len(data.y_test) == 0:
        raise SpeccError(f"{data.source}: the training or test set is empty")


def check_recipe_runs(loaded: LoadedSpec, recipe: TrainRecipe, data: Dataset) -> None:
    """Refuse, before training, a recipe that the schema accepts but the engines cannot run
    with this model and data (one line naming the field, exit 2)."""
    output = tuple(loaded.info.output_shape)
    if len(output) != 1:
        raise SpeccError(
            f"the model's output is {output} per example; training needs one vector of class "
            "scores (end with Flatten or GlobalAveragePooling2D, then Dense)", file=loaded.file,
            position=loaded.source.value(("layers", len(loaded.spec.layers) - 1)))
    height, width = data.image_shape[:2]
    padding = recipe.augmentation.random_crop_padding
    if padding >= min(height, width):
        raise SpeccError(
            f"train.augmentation.random_crop_padding is {padding}, not smaller than the "
            f"{height}x{width} images; random crops need padding below {min(height, width)} "
            "(CIFAR-10 recipes use 4)", file=loaded.file,
            position=loaded.source.value(("train", "augmentation", "random_crop_padding")))
    batch = min(recipe.batch_size, len(data.y_train))  # what the engines train with
    for layer_info in loaded.info.layers:
        problem = layer_info.layer.training_problem(layer_info.input_shapes, batch)
        if problem is not None:
            raise SpeccError(f"layer {layer_info.layer.name!r} ({layer_info.layer.type}) "
                             f"{problem}", file=loaded.file,
                             position=loaded.source.value(("layers", layer_info.index)))


def seed_everything(seed: int, backend: str) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if backend == "torch":
        import torch

        torch.manual_seed(seed)
    else:
        from specc.backends.quiet_keras import quiet_tensorflow

        quiet_tensorflow()
        import keras

        keras.utils.set_random_seed(seed)


def build_model(loaded: LoadedSpec, options: RunOptions, out_dir: Path | None) -> Any:
    """The generated model, after the build gate passed (ExpectationError, exit 1, if not).
    The generated file is kept in `out_dir` (a temporary folder when None). A Keras model is
    built under the dtype policy of its training precision."""
    from specc.backends.gate import GateError, build_checked
    from specc.expectations import require_expectations

    require_expectations(loaded)  # as `specc build` does: a spec that fails validate is refused
    with tempfile.TemporaryDirectory(prefix="specc-build-") as folder, \
            _build_precision(options):
        try:
            model = build_checked(loaded, options.backend, out_dir or Path(folder)).model
        except GateError as error:
            print(error.report, file=sys.stderr)
            raise
    if options.weights:  # fine-tuning: start from these weights (frozen layers stay frozen)
        from specc.backends import weights

        arrays = weights.read_weights(options.weights)
        load = weights.load_into_torch if options.backend == "torch" else weights.load_into_keras
        load(model, loaded, arrays, options.weights)
    return model


def _build_precision(options: RunOptions) -> AbstractContextManager[None]:
    if options.backend != "keras":
        return nullcontext()
    from specc.train.engine_keras import precision_policy, resolve_precision

    return precision_policy(resolve_precision(options.precision, options.device))


def environment(engine_env: dict[str, Any]) -> dict[str, Any]:
    import specc

    versions = {"python": sys.version.split()[0], "specc": specc.__version__,
                "numpy": np.__version__, "platform": platform.platform()}
    return {**versions, **engine_env}


def refuse_keras_ranks(backend: str, world: World) -> None:
    if world.distributed and backend == "keras":
        raise SpeccError(
            f"--nproc / torchrun ({world.size} processes): data-parallel training runs on the "
            "PyTorch backend (DistributedDataParallel); use --backend torch, or train the Keras "
            "model in one process")


def refuse_cpu_sync_bn(sync_bn: bool, device: str | None, world: World) -> None:
    if sync_bn and world.distributed and device_type(device) != "cuda":
        raise SpeccError("--sync-bn: PyTorch's SyncBatchNorm runs on GPUs only; on the CPU the "
                         "ranks normalise per rank (leave --sync-bn out), or train in one process "
                         "for whole-batch statistics")


def resume_recipe(run_dir: Path, loaded: LoadedSpec) -> tuple[TrainRecipe, str]:
    """The recipe and backend a run folder recorded (after checking it is this spec's)."""
    _, recorded = _recorded_run(run_dir, loaded)
    return TrainRecipe.model_validate(recorded["recipe"]), recorded["options"]["backend"]


def _resumed_options(given: RunOptions, recorded: dict[str, Any]) -> RunOptions:
    """The recorded options of the run being resumed; --device, --precision, --compile and
    --sync-bn may be given again. Without --device the run stays on the device it trained on."""
    recorded_device = recorded.get("device") or "auto"
    device = resolve_device(recorded["backend"], given.device or recorded_device,
                            recorded=given.device is None and recorded_device == "cuda")
    return RunOptions(**{**recorded, "device": device,
                         "precision": given.precision or recorded["precision"],
                         "compile": given.compile or recorded["compile"],
                         "sync_bn": given.sync_bn or recorded.get("sync_bn", False)})


def _resume_state(request: TrainRequest, loaded: LoadedSpec) -> tuple[RunFolder, dict]:
    assert request.resume is not None
    return _recorded_run(request.resume, loaded)


def _recorded_run(run_dir: Path, loaded: LoadedSpec) -> tuple[RunFolder, dict]:
    run = RunFolder.existing(run_dir)
    recorded = run.recorded_run({option.name for option in fields(RunOptions)})
    if recorded["spec"]["sha256"] != loaded.sha256:
        raise SpeccError(
            f"--resume {run.path}: that run was made from spec {recorded['spec']['name']!r} "
            f"(sha256 {recorded['spec']['sha256'][:12]}...), not from {loaded.path} (sha256 "
            f"{loaded.sha256[:12]}...); resume with the same spec or start a new run")
    return run, recorded


def train(request: TrainRequest) -> int:
    """One run; under torchrun, this process's rank of it (rank 0 prints and writes)."""
    world = world_from_environment()
    with rank_reporting(world):
        return _train(request, world)


def _train(request: TrainRequest, world: World) -> int:
    if request.resume is None and request.out.exists() and not request.out.is_dir():
        raise SpeccError(f"--out {request.out}: is a file, not a folder")
    loaded = load_spec(request.spec)
    final_softmax_layer(loaded)  # a softmax inside the last layer is refused before any run exists
    options = request.options
    recorded: dict | None = None
    if request.resume is not None:
        run, recorded = _resume_state(request, loaded)
        recipe = TrainRecipe.model_validate(recorded["recipe"])
        options = _resumed_options(options, recorded["options"])
        data_source = request.data or recorded["data"]["source"]
    else:
        recipe = resolve_recipe(loaded, request.overrides)
        options = replace(options, device=resolve_device(options.backend, options.device or "auto"))
        data_source = request.data
    refuse_keras_ranks(options.backend, world)
    refuse_cpu_sync_bn(options.sync_bn, options.device, world)
    with process_group(world, device_type(options.device) if world.distributed else "cpu"):
        with main_first(world):  # rank 0 decodes and caches the data once
            data = load_dataset(data_source).limited(options.limit_train, options.limit_test)
        check_data_fits(loaded, data)
        check_recipe_runs(loaded, recipe, data)
        mean, std = normalization_stats(recipe, data.x_train)
        seed_everything(recipe.seed, options.backend)
        if request.resume is None:
            run, model = _new_run(request.out, loaded, recipe, options, data, mean, std, world)
        else:
            model = build_model(loaded, options, run.path / "build" if world.is_main else None)
            run = run if world.is_main else RunFolder.read_only(run.path)
        print(one_line(f"Run folder: {run.path}"), flush=True)
        ctx = EngineContext(loaded, recipe, data, run, options, EpochProgress(), mean, std,
                            world=world)
        outcome = _run_engine(ctx, model, resume=request.resume is not None)
        if outcome.interrupted:
            print(one_line(f"specc: interrupted; checkpoint saved to {run.checkpoint}; resume "
                           "with:") + "\n  " + " ".join(shell_word(word) for word in
                              ("specc", "train", str(loaded.path), "--resume", str(run.path))),
                  file=sys.stderr)
            return int(ExitCode.INTERRUPTED)
        if world.is_main:
            _report(loaded, recipe, run, outcome)
    return int(ExitCode.OK)


def _new_run(out: Path, loaded: LoadedSpec, recipe: TrainRecipe, options: RunOptions,
             data: Dataset, mean: np.ndarray, std: np.ndarray, world: World) -> tuple[RunFolder, Any]:
    """Rank 0 creates the run folder and tells the other ranks where it is."""
    if not world.is_main:
        path = broadcast_object(None, world)
        if path is None:  # rank 0 failed and says why
            raise SpeccError("rank 0 could not start the run")
        return RunFolder.read_only(Path(path)), build_model(loaded, options, None)
    run = RunFolder.create(out, loaded.spec.name)
    try:
        model = build_model(loaded, options, run.path / "build")
        _write_run_description(run, loaded, recipe, options, data, mean, std, world)
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)  # nothing was trained: leave no run
        broadcast_object(None, world)
        raise
    broadcast_object(str(run.path), world)
    return run, model


def _write_run_description(run: RunFolder, loaded: LoadedSpec, recipe: TrainRecipe,
                           options: RunOptions, data: Dataset, mean: np.ndarray,
                           std: np.ndarray, world: World) -> None:
    run.write_text("spec.yaml", loaded.text)
    run.write_json("recipe.json", {
        "recipe": recipe.model_dump(mode="json"),
        "options": asdict(options),
        "world_size": world.size,  # of the run's first part; a resume may use another
        "spec": {"name": loaded.spec.name, "path": str(loaded.path), "sha256": loaded.sha256,
                 "total_params": loaded.info.total_params, "flops_per_example": loaded.info.flops},
        "data": {"source": str(Path(data.source).resolve()) if Path(data.source).exists()
                 else data.source, "classes": list(data.classes),
                 "train_images": len(data.y_train), "test_images": len(data.y_test),
                 "image_shape": list(data.image_shape)},
        "normalization": {"mean": mean.tolist(), "std": std.tolist(), "note": NORMALIZATION_NOTE},
        "loss": "cross-entropy on the logits (the final softmax layer is replaced by the identity "
                "for training) with label smoothing; test loss is plain cross-entropy",
    })


def _run_engine(ctx: EngineContext, model: Any, resume: bool) -> Outcome:
    from specc.train.common import StopRequest, final_softmax_layer

    logits_layer = final_softmax_layer(ctx.loaded)
    if ctx.options.backend == "torch":
        from specc.train import engine_torch as engine
    else:
        from specc.train import engine_keras as engine  # type: ignore[no-redef]
    trainer = engine.make_trainer(ctx, model, logits_layer)
    if resume:
        trainer.restore_from(ctx.run.checkpoint)
        row = trainer.last_row  # killed between the checkpoint and the metrics: record it now
        if row is not None and all(r["epoch"] != row["epoch"] for r in ctx.run.metrics()):
            ctx.run.record_epoch(row)
    ctx.run.write_json("environment.json", environment(trainer.environment()))
    with StopRequest().installed() as stop:
        return trainer.train(stop)


def _report(loaded: LoadedSpec, recipe: TrainRecipe, run: RunFolder, outcome: Outcome) -> None:
    from specc.train.results import describe_summary, training_summary

    reference = loaded.spec.reference
    result: dict[str, Any] = {"test_loss": outcome.test_loss,
                              "test_accuracy": outcome.test_accuracy,
                              "epochs": outcome.epochs_done, "spec": loaded.spec.name}
    print(f"Test loss: {outcome.test_loss}")
    print(f"Test accuracy: {outcome.test_accuracy}")
    if reference is not None:
        result["reference"] = reference.model_dump(mode="json")
        print(f"Reference ({reference.source}): test loss {reference.test_loss}, "
              f"test accuracy {reference.test_accuracy}")
        differences = []
        if reference.test_loss is not None:
            result["test_loss_difference"] = outcome.test_loss - reference.test_loss
            differences.append(f"test loss {result['test_loss_difference']:+.4f}")
        if reference.test_accuracy is not None:
            result["test_accuracy_difference"] = outcome.test_accuracy - reference.test_accuracy
            differences.append(f"test accuracy {result['test_accuracy_difference']:+.4f}")
        if differences:
            print("Difference (this run - reference): " + ", ".join(differences))
    milestones = {"reference": reference.test_accuracy} if reference is not None and \
        reference.test_accuracy is not None else {}
    if recipe.target_accuracy is not None:
        milestones["target"] = recipe.target_accuracy
    result["training"] = training_summary(run.metrics(), milestones)
    print("\n".join(describe_summary(result["training"])))
    run.write_json("result.json", result)
    print(one_line(f"Run folder: {run.path}"))
