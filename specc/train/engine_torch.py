"""Training a generated PyTorch model, fast on a GPU and identical in behaviour on the CPU.

The whole data set lives on the device as uint8; each epoch draws its permutation, crop
offsets and flips on the device from a generator seeded by (seed, epoch), and one gather
per batch does crop and flip together. Loss, accuracy and a NaN/inf watch are accumulated
on the device; the host reads them every `nan_check_every` steps and at the epoch's end,
never per step. Learning rates are Python floats from the step-indexed schedule.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from specc.errors import SpeccError
from specc.train.checkpoint import (
    check_checkpoint_matches,
    check_torch_state,
    max_checkpoint_bytes,
    normalization_of,
    read_checkpoint,
    write_checkpoint,
)
from specc.train.common import (
    CHECKPOINT_FORMAT,
    DivergedError,
    EngineContext,
    EpochLoop,
    Precision,
    StopRequest,
    device_peak_flops,
    python_rng_state,
    restore_python_rng,
)
from specc.train.cpu_peak import processor_name
from specc.train.device import choose_precision, cpu_capability, resolve_device
from specc.train.distributed import (
    SINGLE,
    World,
    all_gather,
    all_sum,
    any_rank,
    barrier,
    local_batch,
    shard_range,
)
from specc.train.epoch_plan import HostEpochPlan, draw_epoch_plan
from specc.train.results import EvalResult
from specc.train.schedule import Schedule


def pick_device(requested: str | None) -> torch.device:
    """The torch device for a --device value (`auto` or None resolved, `cuda` refused without
    a GPU)."""
    return torch.device(resolve_device("torch", requested or "auto"))


def rank_device(device: torch.device, world: World) -> torch.device:
    """One GPU per rank (its local rank); the CPU is shared."""
    if device.type != "cuda" or not world.distributed:
        return device
    count = torch.cuda.device_count()
    if world.local_rank >= count:
        raise SpeccError(f"rank {world.rank} is local rank {world.local_rank}, but this machine "
                         f"has {count} GPU(s); start at most {count} processes per machine")
    torch.cuda.set_device(world.local_rank)
    return torch.device("cuda", world.local_rank)


def data_parallel(model: nn.Module, device: torch.device, world: World) -> nn.Module:
    """The module the training steps call: DistributedDataParallel over the ranks (it
    averages the gradients, and broadcasts rank 0's BatchNorm statistics each step)."""
    if not world.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                   else None)


def autocast_dtype(precision: Precision) -> torch.dtype | None:
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


class DeviceData:
    """Images (uint8, NHWC) and labels resident on the device, plus their normalisation."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: np.ndarray,
                 std: np.ndarray, device: torch.device) -> None:
        self.images = torch.from_numpy(images).to(device)
        self.labels = torch.from_numpy(labels).to(device)
        self.device = device
        channels = images.shape[-1]
        # x / 255 then (x - mean) / std, folded into one multiply-add per channel.
        scale = 1.0 / (255.0 * std)
        self.scale = torch.tensor(scale, dtype=torch.float32, device=device).view(1, channels, 1, 1)
        self.shift = torch.tensor(-mean / std, dtype=torch.float32, device=device).view(
            1, channels, 1, 1)

    def __len__(self) -> int:
        return len(self.labels)

    def to_input(self, images_nhwc: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC -> normalised float32 NCHW, channels_last in memory."""
        x = images_nhwc.permute(0, 3, 1, 2).float() * self.scale + self.shift
        return x.contiguous(memory_format=torch.channels_last)


@dataclass
class EpochPlan:
    """One epoch's randomness, drawn up front so a run can resume in the middle of it."""

    order: torch.Tensor
    rows: torch.Tensor  # (N, H) source rows in the padded image
    cols: torch.Tensor  # (N, W) source columns, flips folded in


def plan_epoch(count: int, height: int, width: int, padding: int, flip: bool, seed: int,
               epoch: int, device: torch.device) -> EpochPlan:
    """The shared plan (drawn on the CPU from (seed, epoch), the same on every device and for
    both engines), moved to the device in one copy per array."""
    plan = draw_epoch_plan(count, height, width, padding, flip, seed, epoch)
    return EpochPlan(*(torch.from_numpy(array).to(device, non_blocking=True)
                       for array in (plan.order, plan.rows, plan.cols)))


def augmented_batch(data: DeviceData, plan: EpochPlan, start: int, stop: int,
                    padding: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crop (zero padding) and horizontal flip as a single gather."""
    positions = slice(start, stop)
    index = plan.order[positions]
    images = data.images[index]
    if padding:
        images = F.pad(images, (0, 0, padding, padding, padding, padding))
    rows = plan.rows[positions][:, :, None]
    cols = plan.cols[positions][:, None, :]
    batch = torch.arange(stop - start, device=data.device)[:, None, None]
    return images[batch, rows, cols], data.labels[index]


def parameter_groups(model: nn.Module, weight_decay: float, decay_norm_and_bias: bool) -> list:
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if decay_norm_and_bias or parameter.ndim > 1 else no_decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, ctx: EngineContext, device: torch.device) -> torch.optim.Optimizer:
    recipe = ctx.recipe.optimizer
    groups = parameter_groups(model, recipe.weight_decay, recipe.decay_norm_and_bias)
    # One fused kernel per step on the GPU and on the CPU alike.
    if recipe.name == "sgd":
        return torch.optim.SGD(groups, lr=ctx.recipe.lr, momentum=recipe.momentum,
                               nesterov=recipe.nesterov and recipe.momentum > 0, fused=True)
    optimizer_type = torch.optim.Adam if recipe.name == "adam" else torch.optim.AdamW
    return optimizer_type(groups, lr=ctx.recipe.lr, fused=True)


def rng_state(device: torch.device) -> dict[str, Any]:
    """The random state a resume needs: the CPU generator, the training device's own generator
    (dropout masks on a GPU), numpy's and Python's. Only the training device's generator is
    kept, so a run saved on a 4-GPU machine resumes on a 1-GPU one."""
    numpy_state = np.random.get_state(legacy=False)
    return {
        "torch": torch.get_rng_state(),
        "device": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy": {"key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
                  "pos": int(numpy_state["state"]["pos"]),
                  "has_gauss": int(numpy_state["has_gauss"]),
                  "gauss": float(numpy_state["gauss"])},
        "python": python_rng_state(),
    }


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    """The inverse of `rng_state`. The generators take CPU byte tensors only, whatever device
    the checkpoint was loaded for; a device generator saved on another kind of device (a CPU
    run resumed on a GPU) is left as seeded."""
    torch.set_rng_state(state["torch"].cpu())
    device_state = state.get("device")
    if device.type == "cuda" and device_state is not None:
        torch.cuda.set_rng_state(device_state.cpu(), device)
    numpy_state = state["numpy"]
    np.random.set_state({
        "bit_generator": "MT19937",
        "state": {"key": numpy_state["key"].cpu().numpy().astype(np.uint32),
                  "pos": numpy_state["pos"]},
        "has_gauss": numpy_state["has_gauss"], "gauss": numpy_state["gauss"],
    })
    restore_python_rng(state["python"])


def load_torch_checkpoint(path, max_bytes: int | None = None) -> dict[str, Any]:
    """The checkpoint's state dict (on the CPU), after its checksum is verified."""
    backend, payload = read_checkpoint(path, max_bytes)
    if backend != "torch":
        raise SpeccError(f"{path}: a {backend} checkpoint, not a PyTorch one")
    return state_from_payload(payload, path)


def state_from_payload(payload: bytes, path) -> dict[str, Any]:
    """Always loaded on the CPU: `load_state_dict` places each tensor on its parameter's device,
    and the RNG setters accept CPU tensors only."""
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001  (any unpickling failure means a bad file)
        raise SpeccError(f"{path}: unreadable checkpoint ({type(error).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise SpeccError(f"{path}: not a specc PyTorch checkpoint of format {CHECKPOINT_FORMAT}")
    return state


def evaluate(model: nn.Module, data: DeviceData, batch_size: int, precision: Precision,
             classes: tuple[str, ...], world: World = SINGLE) -> EvalResult:
    """Plain cross-entropy (no label smoothing) and accuracy on the whole set, one host sync.
    In a multi-process run each rank evaluates its shard and the sums are added up."""
    model.eval()
    count = len(classes)
    loss_sum = torch.zeros((), dtype=torch.float64, device=data.device)
    confusion = torch.zeros(count * count, dtype=torch.int64, device=data.device)
    ones = torch.ones(batch_size, dtype=torch.int64, device=data.device)
    dtype = autocast_dtype(precision)
    with torch.inference_mode():
        for start in range(0, len(data), batch_size):
            images = data.images[start : start + batch_size]
            labels = data.labels[start : start + batch_size]
            with torch.autocast(data.device.type, dtype=dtype, enabled=dtype is not None):
                logits = model(data.to_input(images))
            logits = logits.float()
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").double()
            # index_add_ into a fixed-size matrix: bincount would sync with the host on CUDA
            cells = labels * count + logits.argmax(1)
            confusion.index_add_(0, cells, ones[: len(cells)])
    sums = all_sum(torch.cat([loss_sum.view(1), confusion.double()]), world)
    loss_sum, confusion = sums[0], sums[1:].round().long()
    matrix = confusion.view(count, count).cpu().numpy()
    total = max(int(matrix.sum()), 1)
    return EvalResult(loss_sum.item() / total, float(np.trace(matrix)) / total, matrix, classes)


@dataclass
class EpochBatches:
    """An epoch's plan and the images it indexes: the whole training set in one process;
    in a multi-process run, this rank's shard, gathered on the host for the epoch."""

    data: DeviceData
    plan: EpochPlan


class TorchTrainer(EpochLoop[EpochBatches]):
    def __init__(self, ctx: EngineContext, model: nn.Module, logits_layer: str | None) -> None:
        self.ctx = ctx
        self.world = ctx.world
        recipe = ctx.recipe
        self.device = rank_device(pick_device(ctx.options.device), self.world)
        precision = choose_precision(self.device.type, ctx.options.precision)
        self.precision, self.precision_reason = precision.precision, precision.reason
        if logits_layer is not None:
            if not isinstance(getattr(model, logits_layer, None), nn.Module):
                raise SpeccError(f"the generated PyTorch model has no submodule {logits_layer!r} "
                                 "to remove for training on logits")
            setattr(model, logits_layer, nn.Identity())
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        # NHWC on every device: cuDNN's tensor-core kernels want it, and oneDNN's CPU kernels
        # train cifar_small 1.3x faster with it on the 2-core CPU the README's figures use.
        if self.world.distributed and ctx.options.sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.model = model.to(self.device, memory_format=torch.channels_last)
        # Training steps run the compiled module (DistributedDataParallel's wrapper in a
        # multi-process run); evaluation runs the plain one, which shares its weights (the
        # compiled graph is for the training step's fixed batch shape).
        self.forward = data_parallel(self.model, self.device, self.world)
        if ctx.options.compile:
            self.forward = torch.compile(self.forward)
        train_count = len(ctx.data.y_train)
        # One process keeps the whole training set on the device; a rank, its epoch's shard.
        self.train_data = None if self.world.distributed else DeviceData(
            ctx.data.x_train, ctx.data.y_train, ctx.mean, ctx.std, self.device)
        start, stop = shard_range(len(ctx.data.y_test), self.world)
        self.test_data = DeviceData(ctx.data.x_test[start:stop], ctx.data.y_test[start:stop],
                                    ctx.mean, ctx.std, self.device)
        self.batch_size = min(recipe.batch_size, train_count)  # the global batch
        self.rank_batch = local_batch(self.batch_size, self.world)
        self.steps_per_epoch = train_count // self.batch_size  # drop_last: fixed shape
        self.schedule = Schedule(recipe.schedule, recipe.lr, recipe.epochs * self.steps_per_epoch,
                                 self.steps_per_epoch)
        self.optimizer = make_optimizer(self.model, ctx, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type) if self.precision == "fp16" else None
        self.dtype = autocast_dtype(self.precision)
        self.device_name = (torch.cuda.get_device_name(self.device) if self.device.type == "cuda"
                            else processor_name())
        self.peak, self.peak_source = device_peak_flops(
            self.device.type, self.device_name, self.precision, ctx.options.peak_tflops)
        self.epoch = 0
        self.last_row = None
        self.step_in_epoch = 0
        self.global_step = 0
        self.reset_accumulators()
        self._seed_rank_dropout()

    def _seed_rank_dropout(self) -> None:
        """The ranks other than 0 draw their own dropout masks from (seed, step, rank); rank 0
        keeps the run's generator, as one process has it. (The weights start equal anyway:
        DistributedDataParallel broadcasts rank 0's.)"""
        if self.world.distributed and not self.world.is_main:
            seed = self.ctx.recipe.seed * 1_000_003 + self.global_step
            torch.manual_seed(seed * 4096 + self.world.rank)

    def reset_accumulators(self) -> None:
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self.correct = torch.zeros((), dtype=torch.int64, device=self.device)
        self.first_bad_step = torch.full((), -1, dtype=torch.int64, device=self.device)
        self.bad_value = torch.zeros((), dtype=torch.float32, device=self.device)

    # --- checkpoints ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        # The epoch's running sums over every rank, so that any number of ranks can resume.
        loss_sum = all_sum(self.loss_sum.clone(), self.world)
        correct = all_sum(self.correct.clone(), self.world)
        return {
            **self.checkpoint_meta("torch"),
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "rng": rng_state(self.device),
            "accumulators": {"loss_sum": loss_sum, "correct": correct},
        }

    def weights_finite(self) -> bool:
        return weights_finite(self.model)

    def save(self) -> None:
        """Rank 0 writes; every rank waits until the checkpoint is on disk."""
        state = self.state()
        if self.world.is_main:
            buffer = io.BytesIO()
            torch.save(state, buffer)
            write_checkpoint(self.ctx.run.checkpoint, "torch", buffer.getvalue())
        barrier(self.world)

    def restore(self, payload_state: dict[str, Any]) -> None:
        self.model.load_state_dict(payload_state["model"])
        self.optimizer.load_state_dict(payload_state["optimizer"])
        for group in self.optimizer.param_groups:  # the saved groups carry their own flag
            group["fused"] = True
        if self.scaler is not None and payload_state["scaler"]:
            self.scaler.load_state_dict(payload_state["scaler"])
        self.restore_position(payload_state)
        if self.world.is_main:  # the checkpoint holds the sums over all ranks
            self.loss_sum.copy_(payload_state["accumulators"]["loss_sum"])
            self.correct.copy_(payload_state["accumulators"]["correct"])
        restore_rng(payload_state["rng"], self.device)
        self._seed_rank_dropout()

    def restore_from(self, path) -> None:
        state = load_torch_checkpoint(path, max_checkpoint_bytes(self.ctx.loaded.info.total_params))
        check_torch_state(state, path, CHECKPOINT_FORMAT, self.model, self.optimizer)
        self.check_same_spec(state, path)
        self.restore(state)

    # --- the steps ------------------------------------------------------------------------

    def epoch_plan(self) -> EpochBatches:
        data = self.ctx.data
        height, width = data.image_shape[:2]
        augmentation = self.ctx.recipe.augmentation
        self.model.train()
        if self.train_data is not None:
            return EpochBatches(self.train_data, plan_epoch(
                len(data.y_train), height, width, augmentation.random_crop_padding,
                augmentation.horizontal_flip, self.ctx.recipe.seed, self.epoch, self.device))
        plan = draw_epoch_plan(len(data.y_train), height, width,
                               augmentation.random_crop_padding, augmentation.horizontal_flip,
                               self.ctx.recipe.seed, self.epoch)
        return self._rank_shard(plan)

    def _rank_shard(self, plan: HostEpochPlan) -> EpochBatches:
        """Every rank draws the same plan from the seed; this rank keeps the images (and crops
        and flips) of its part of each global batch, in step order, on its device: its step s
        reads [s * b, (s + 1) * b) of the shard, b = the global batch / the world size."""
        steps, batch, rank_batch = self.steps_per_epoch, self.batch_size, self.rank_batch
        offsets = np.arange(rank_batch) + self.world.rank * rank_batch
        positions = (np.arange(steps)[:, None] * batch + offsets).reshape(-1)
        order = plan.order[positions]
        data = self.ctx.data
        images = DeviceData(data.x_train[order], data.y_train[order], self.ctx.mean,
                            self.ctx.std, self.device)
        shard = EpochPlan(torch.arange(len(order), device=self.device),
                          *(torch.from_numpy(array[positions]).to(self.device)
                            for array in (plan.rows, plan.cols)))
        return EpochBatches(images, shard)

    def run_step(self, plan: EpochBatches, start: int) -> None:
        first = start // self.batch_size * self.rank_batch  # this rank's part of the batch
        images, labels = augmented_batch(plan.data, plan.plan, first, first + self.rank_batch,
                                         self.ctx.recipe.augmentation.random_crop_padding)
        self._step(images, labels)

    def stop_requested(self, stop: StopRequest) -> bool:
        return any_rank(stop.requested, self.world)

    def _step(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        lr = self.schedule.lr(self.global_step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            logits = self.forward(self.test_data.to_input(images))  # the run's one normalisation
        logits = logits.float()
        loss = F.cross_entropy(logits, labels, label_smoothing=self.ctx.recipe.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        detached = loss.detach()
        newly_bad = ~torch.isfinite(detached) & (self.first_bad_step < 0)
        self.first_bad_step = torch.where(newly_bad, self.global_step, self.first_bad_step)
        self.bad_value = torch.where(newly_bad, detached, self.bad_value)
        self.loss_sum += detached.double() * len(labels)
        self.correct += (logits.detach().argmax(1) == labels).sum()

    def host_check(self) -> tuple[float, float]:
        """The one host sync: running loss and accuracy, and the NaN/inf watch."""
        ranks = all_gather(torch.stack([
            self.loss_sum, self.correct.double(), self.first_bad_step.double(),
            self.bad_value.double()]), self.world)
        loss_sum, correct, bad_step, bad_value = _combine_ranks(
            [values.tolist() for values in ranks])
        if bad_step >= 0:
            step = int(bad_step)
            epoch, batch = divmod(step, self.steps_per_epoch)
            raise DivergedError(
                f"the training loss became {bad_value} at step {step} (epoch {epoch + 1}, batch "
                f"{batch + 1}); stopped. The last good checkpoint is {self.ctx.run.checkpoint} "
                "(if an epoch completed); try a lower --lr or --precision fp32"
            )
        seen = max(self.step_in_epoch * self.batch_size, 1)
        return loss_sum / seen, correct / seen

    def evaluate(self) -> EvalResult:
        # The plain module: DistributedDataParallel's wrapper would broadcast buffers once per
        # batch, and the ranks' test shards may differ in their number of batches.
        return evaluate(self.model, self.test_data, max(self.batch_size, 256), self.precision,
                        self.ctx.data.classes, self.world)

    def environment(self) -> dict[str, Any]:
        return {
            "backend": "torch", "torch": torch.__version__, "device": str(self.device),
            "device_name": self.device_name, "precision": self.precision,
            "precision_reason": self.precision_reason,
            "cpu_capability": cpu_capability().describe(),
            "compile": self.ctx.options.compile, "threads": torch.get_num_threads(),
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()
            if torch.backends.cudnn.is_available() else None,
            "peak_flops": self.peak, "peak_source": self.peak_source,
            "batch_size": self.batch_size,
            "steps_per_epoch": self.steps_per_epoch,
            "memory_format": memory_format_of(self.model),
            "world_size": self.world.size, "rank_batch_size": self.rank_batch,
            "process_group": (torch.distributed.get_backend() if self.world.distributed
                              else None),
            "sync_bn": self.ctx.options.sync_bn and self.world.distributed,
            "fused_optimizer": all(group.get("fused") for group in self.optimizer.param_groups),
        }


def weights_finite(model: nn.Module) -> bool:
    """Every floating-point parameter and buffer finite (one host sync)."""
    checks = [torch.isfinite(t).all() for t in model.state_dict().values()
              if t.is_floating_point()]
    return bool(torch.stack(checks).all()) if checks else True


def _combine_ranks(ranks: list[list[float]]) -> tuple[float, float, float, float]:
    """(loss sum, correct, first bad step, its loss) over the ranks: sums, and the earliest
    step at which any rank's loss became NaN or infinite (-1: none)."""
    bad = [(step, value) for _, _, step, value in ranks if step >= 0]
    bad_step, bad_value = min(bad) if bad else (-1.0, 0.0)
    return (sum(r[0] for r in ranks), sum(r[1] for r in ranks), bad_step, bad_value)


def memory_format_of(model: nn.Module) -> str:
    """How the model's 4-D weights lie in memory (what the kernels really see). A 1x1 kernel
    is both contiguous and channels_last, so it tells nothing and is left out."""
    kernels = [p for p in model.parameters() if p.ndim == 4 and p.shape[2:] != (1, 1)]
    if not kernels:
        return "not applicable (no spatial kernels)"
    if all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels):
        return "channels_last"
    return "contiguous" if all(p.is_contiguous() for p in kernels) else "mixed"


def make_trainer(ctx: EngineContext, model: nn.Module, logits_layer: str | None) -> TorchTrainer:
    return TorchTrainer(ctx, model, logits_layer)


def evaluate_payload(payload: bytes, checkpoint, loaded, model: nn.Module,
                     logits_layer: str | None, data, batch_size: int,
                     device_name: str) -> EvalResult:
    """`specc eval` for a PyTorch checkpoint."""
    device = pick_device(device_name)
    state = state_from_payload(payload, checkpoint)
    check_checkpoint_matches(state["spec_sha256"], state["spec_name"], loaded, checkpoint,
                             state["classes"], data.classes)
    if logits_layer is not None:
        setattr(model, logits_layer, nn.Identity())
    check_torch_state(state, checkpoint, CHECKPOINT_FORMAT, model, None)
    model.load_state_dict(state["model"])
    if not weights_finite(model):
        raise DivergedError(f"{checkpoint}: the model's weights hold NaN or infinite values (the "
                            "run diverged); nothing to evaluate")
    model.to(device, memory_format=torch.channels_last)
    mean, std = normalization_of(state, loaded, checkpoint)
    test = DeviceData(data.x_test, data.y_test, mean, std, device)
    # The training precision on a GPU; on a CPU, bf16 only where it computes bf16 natively.
    precision = (state.get("precision", "fp32") if device.type == "cuda"
                 else choose_precision("cpu", None).precision)
    return evaluate(model, test, batch_size, precision, data.classes)
