"""Checkpoint files that survive crashes: atomic, checksummed, framework-neutral bytes.

Layout: ``MAGIC`` (8 bytes) | backend name (8 bytes, space padded) | payload length (8 bytes, big-endian) | sha256 of the payload
(32 bytes) | payload. The engines serialise their state to the payload bytes; this module
only guarantees that a file at the final path is either a complete checkpoint or absent.

A write goes to a temporary file in the same folder, is flushed and fsync'ed, then renamed
over the target with ``os.replace`` (atomic on POSIX), and the folder is fsync'ed. A crash,
SIGKILL or full disk at any moment leaves the previous checkpoint untouched; the temporary
file is removed on error (and stale ones from killed writers are removed on the next write).
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from specc.errors import SpeccError, os_error
from specc.limits import BYTES_PER_ELEMENT, MAX_SPEC_BYTES
from specc.spec.load import LoadedSpec

MAGIC = b"SPECCKP1"
BACKEND_SIZE = 8
HEADER_SIZE = len(MAGIC) + BACKEND_SIZE + 8 + 32
CHUNK = 8 << 20


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _write_chunk(handle: int, chunk: memoryview) -> None:
    """Write one chunk fully (os.write may write less than asked)."""
    while chunk:
        written = os.write(handle, chunk)
        chunk = chunk[written:]


def write_checkpoint(path: Path, backend: str, payload: bytes) -> None:
    """Atomically write `payload` (made by `backend`) to `path` with its length and checksum."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(_temp_prefix(path) + "*"):
        stale.unlink(missing_ok=True)
    temp = path.parent / f"{_temp_prefix(path)}{os.getpid()}"
    tag = backend.encode("ascii").ljust(BACKEND_SIZE)[:BACKEND_SIZE]
    header = MAGIC + tag + len(payload).to_bytes(8, "big") + hashlib.sha256(payload).digest()
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            _write_chunk(handle, memoryview(header))
            view = memoryview(payload)
            for start in range(0, len(view), CHUNK):
                _write_chunk(handle, view[start : start + CHUNK])
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise SpeccError(
                f"{path}: no space left on the device while writing the checkpoint; nothing "
                "was written and the previous checkpoint (if any) is intact"
            ) from None
        if isinstance(error, OSError):
            raise SpeccError(f"{path}: cannot write the checkpoint ({error.strerror})") from None
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems do not support fsync on folders
    finally:
        os.close(handle)


def max_checkpoint_bytes(params: int) -> int:
    """The largest checkpoint a model of `params` parameters can have: its weights and up to
    three optimizer slots per weight (momentum; Adam's two moments), float32, plus room for
    the metadata and RNG states. Nothing larger is read."""
    return 4 * BYTES_PER_ELEMENT * params + (64 << 20)


def read_checkpoint(path: Path, max_bytes: int | None = None) -> tuple[str, bytes]:
    """(backend, payload) of a checkpoint file, after checking its length and checksum.

    Only a regular file is opened, and one over `max_bytes` is refused before it is read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SpeccError(f"{path}: no such checkpoint") from None
    except OSError as error:
        raise os_error(error, "read the checkpoint", path) from None
    if stat.S_ISDIR(info.st_mode):
        raise SpeccError(f"{path}: is a folder, not a checkpoint file")
    if not stat.S_ISREG(info.st_mode):
        raise SpeccError(f"{path}: not a regular file; a checkpoint is read only from a file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise SpeccError(f"{path}: {info.st_size:,} bytes, more than a checkpoint of this model "
                         f"can be (at most {max_bytes:,}); not a checkpoint of this spec")
    try:
        with open(path, "rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as error:
        raise os_error(error, "read the checkpoint", path) from None
    if max_bytes is not None and len(data) > max_bytes:
        raise SpeccError(f"{path}: more than {max_bytes:,} bytes; not a checkpoint of this spec")
    if len(data) < HEADER_SIZE or not data.startswith(MAGIC):
        if len(data) < HEADER_SIZE and MAGIC.startswith(data[: len(MAGIC)]) and data:
            raise SpeccError(f"{path}: truncated checkpoint ({len(data)} bytes, header incomplete)")
        raise SpeccError(f"{path}: not a specc checkpoint (bad magic bytes)")
    backend = data[len(MAGIC) : len(MAGIC) + BACKEND_SIZE].decode("ascii", "replace").strip()
    at = len(MAGIC) + BACKEND_SIZE
    length = int.from_bytes(data[at : at + 8], "big")
    digest = data[at + 8 : HEADER_SIZE]
    payload = data[HEADER_SIZE:]
    if len(payload) != length:
        state = "truncated" if len(payload) < length else "corrupted"
        raise SpeccError(
            f"{path}: {state} checkpoint (payload is {len(payload):,} bytes, the header says "
            f"{length:,})"
        )
    if hashlib.sha256(payload).digest() != digest:
        raise SpeccError(f"{path}: corrupted checkpoint (sha256 checksum mismatch)")
    return backend, payload


# --- contents ------------------------------------------------------------------------------
# A checkpoint with a valid checksum can still come from elsewhere (another version, a hand
# edit): every value the restore path uses is checked here first, so that a wrong one is one
# line naming the key instead of an exception deep inside a framework.


def _is_int(value: object, low: int = 0, high: float = math.inf) -> bool:
    return type(value) is int and low <= value <= high


def _is_float(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


def _floats(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_float(v) for v in value)


def _strings(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _row(value: object) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or type(v) in (int, float)) for k, v in value.items()))


META_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "backend": ("a backend name", lambda v: v in ("torch", "keras")),
    "spec_sha256": ("a sha256 in hex", lambda v: isinstance(v, str) and len(v) == 64),
    "spec_name": ("a name", lambda v: isinstance(v, str)),
    "epoch": ("an epoch count", _is_int),
    "step_in_epoch": ("a step count", _is_int),
    "global_step": ("a step count", _is_int),
    "normalization": ("per-channel mean and std", lambda v: isinstance(v, dict)
                      and _floats(v.get("mean")) and _floats(v.get("std"))
                      and len(v["mean"]) == len(v["std"]) and min(v["std"]) > 0),
    "classes": ("a list of class names", _strings),
    "recipe": ("a training recipe", lambda v: isinstance(v, dict)),
    "precision": ("fp32, bf16 or fp16", lambda v: v in ("fp32", "bf16", "fp16")),
    "last_row": ("an epoch's metrics or null", _row),
}


def check_meta(meta: object, path: Path, format_version: int) -> dict[str, Any]:
    """The checkpoint's common metadata, every field's type and range checked."""
    if not isinstance(meta, dict) or meta.get("format") != format_version:
        raise SpeccError(f"{path}: not a specc checkpoint of format {format_version}")
    for key, (expected, check) in META_CHECKS.items():
        if key not in meta:
            raise SpeccError(f"{path}: damaged checkpoint: `{key}` is missing")
        if not check(meta[key]):
            raise SpeccError(f"{path}: damaged checkpoint: `{key}` is not {expected}")
    from pydantic import ValidationError

    from specc.spec.recipe import TrainRecipe

    try:
        TrainRecipe.model_validate(meta["recipe"])
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SpeccError(f"{path}: damaged checkpoint: recipe.{where}: {first['msg']}") from None
    if meta["step_in_epoch"] > meta["global_step"]:
        raise SpeccError(f"{path}: damaged checkpoint: `step_in_epoch` exceeds `global_step`")
    return meta


def check_torch_state(state: object, path: Path, format_version: int, model: Any,
                      optimizer: Any | None) -> dict[str, Any]:
    """A PyTorch checkpoint's state dict, checked against `model` (and `optimizer` when
    resuming) before anything is loaded into them."""
    import torch

    meta = check_meta(state, path, format_version)
    _check_tensors(meta.get("model"), model.state_dict(), path, "model")
    if optimizer is not None:
        _check_optimizer(meta.get("optimizer"), optimizer, path)
        _check_torch_extras(meta, path, torch)
    return meta


def _check_tensors(found: object, expected: dict[str, Any], path: Path, what: str) -> None:
    import torch

    if not isinstance(found, dict):
        raise SpeccError(f"{path}: damaged checkpoint: `{what}` is not a dictionary of tensors")
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected), key=str)
    if missing or unexpected:
        names = missing[:3] if missing else [str(n) for n in unexpected[:3]]
        how = "lacks" if missing else "has unexpected"
        raise SpeccError(f"{path}: the checkpoint's {what} {how} {', '.join(names)}; not a "
                         "checkpoint of this spec")
    for name, reference in expected.items():
        value = found[name]
        if not isinstance(value, torch.Tensor) or value.shape != reference.shape \
                or value.dtype != reference.dtype:
            described = (f"{value.dtype} {tuple(value.shape)}" if isinstance(value, torch.Tensor)
                         else type(value).__name__)
            raise SpeccError(f"{path}: the checkpoint's {what} `{name}` is {described}, the "
                             f"model's is {reference.dtype} {tuple(reference.shape)}")


def _check_optimizer(found: object, optimizer: Any, path: Path) -> None:
    import torch

    groups = optimizer.param_groups
    if not (isinstance(found, dict) and isinstance(found.get("state"), dict)
            and isinstance(found.get("param_groups"), list)
            and len(found["param_groups"]) == len(groups)
            and all(isinstance(g, dict) and isinstance(g.get("params"), list)
                    and len(g["params"]) == len(mine["params"])
                    for g, mine in zip(found["param_groups"], groups, strict=False))):
        raise SpeccError(f"{path}: damaged checkpoint: the optimizer state does not match this "
                         "model's parameter groups")
    params = {index: param for g, mine in zip(found["param_groups"], groups, strict=True)
              for index, param in zip(g["params"], mine["params"], strict=True)}
    for index, slots in found["state"].items():
        param = params.get(index)
        if param is None or not isinstance(slots, dict):
            raise SpeccError(f"{path}: damaged checkpoint: optimizer state for an unknown "
                             f"parameter {index!r}")
        for slot, value in slots.items():
            expected_shape = () if slot == "step" else tuple(param.shape)
            if not isinstance(value, torch.Tensor) or (
                    tuple(value.shape) != expected_shape and value.numel() != 1):
                raise SpeccError(f"{path}: damaged checkpoint: optimizer slot {slot!r} of "
                                 f"parameter {index} does not match the parameter's shape "
                                 f"{tuple(param.shape)}")
            if slot != "step" and tuple(value.shape) != expected_shape:
                raise SpeccError(f"{path}: damaged checkpoint: optimizer slot {slot!r} of "
                                 f"parameter {index} has shape {tuple(value.shape)}, the "
                                 f"parameter {tuple(param.shape)}")


def _check_torch_extras(meta: dict[str, Any], path: Path, torch: Any) -> None:
    """The RNG states and running sums that a resume restores."""
    rng, sums = meta.get("rng"), meta.get("accumulators")
    cpu_generator_size = torch.get_rng_state().numel()

    def byte_state(value: object) -> bool:
        return isinstance(value, torch.Tensor) and value.dtype == torch.uint8 \
            and value.ndim == 1

    numpy_state = rng.get("numpy") if isinstance(rng, dict) else None
    python_state = rng.get("python") if isinstance(rng, dict) else None
    checks = {
        "rng.torch": isinstance(rng, dict) and byte_state(rng.get("torch"))
        and rng["torch"].numel() == cpu_generator_size,
        "rng.device": isinstance(rng, dict) and (rng.get("device") is None
                                                 or byte_state(rng["device"])),
        "rng.numpy": isinstance(numpy_state, dict)
        and isinstance(numpy_state.get("key"), torch.Tensor)
        and tuple(numpy_state["key"].shape) == (624,)
        and bool(((numpy_state["key"] >= 0) & (numpy_state["key"] < 2**32)).all())
        and _is_int(numpy_state.get("pos"), 0, 624),
        "rng.python": check_python_rng(python_state),
        "accumulators": isinstance(sums, dict)
        and all(isinstance(sums.get(k), torch.Tensor) and sums[k].numel() == 1
                for k in ("loss_sum", "correct")),
    }
    for key, ok in checks.items():
        if not ok:
            raise SpeccError(f"{path}: damaged checkpoint: `{key}` is missing or malformed")


def check_python_rng(state: object) -> bool:
    """Python's `random` state as the checkpoints record it: [version, 625 ints, gauss]."""
    return (isinstance(state, list) and len(state) == 3 and type(state[0]) is int
            and isinstance(state[1], list) and len(state[1]) == 625
            and all(_is_int(v, 0, 2**32 - 1) for v in state[1])
            and (state[2] is None or type(state[2]) is float))


def check_keras_extras(meta: dict[str, Any], path: Path) -> None:
    """The RNG states and running sums that a Keras resume restores."""
    rng, sums = meta.get("rng"), meta.get("accumulators")
    checks = {
        "rng": isinstance(rng, dict) and _is_int(rng.get("numpy_pos"), 0, 624)
        and check_python_rng(rng.get("python")),
        "accumulators": isinstance(sums, dict) and _is_float(sums.get("loss_sum"))
        and _is_int(sums.get("correct")),
    }
    for key, ok in checks.items():
        if not ok:
            raise SpeccError(f"{path}: damaged checkpoint: `{key}` is missing or malformed")


def checkpoint_file(path: Path) -> Path:
    """The checkpoint a user names: a file, or a run folder's `checkpoints/last.ckpt`."""
    return path / "checkpoints" / "last.ckpt" if path.is_dir() else path


def check_trained_from(state_sha: str, state_name: str, loaded: LoadedSpec,
                       checkpoint: Path) -> None:
    """Refuse a checkpoint that was trained from another spec (or another text of it)."""
    if state_sha != loaded.sha256:
        copy = _spec_trained_from(checkpoint, state_sha)
        hint = f"; {copy} holds the text it was trained from" if copy is not None else ""
        raise SpeccError(
            f"{checkpoint}: the checkpoint was trained from spec {state_name!r} with a different "
            f"text (sha256 {state_sha[:12]}...), not from {loaded.path} (sha256 "
            f"{loaded.sha256[:12]}...){hint}")


def _spec_trained_from(checkpoint: Path, state_sha: str) -> Path | None:
    """The run folder's copy of the spec (a spec edited since, even in a comment, is another
    text), when it is there and is the text of `state_sha`."""
    folder = checkpoint.parent
    copy = (folder.parent if folder.name == "checkpoints" else folder) / "spec.yaml"
    try:
        if not copy.is_file():  # never open a FIFO or device found there
            return None
        with open(copy, "rb") as file:
            content = file.read(MAX_SPEC_BYTES + 1)
    except OSError:
        return None
    return copy if hashlib.sha256(content).hexdigest() == state_sha else None


def check_checkpoint_matches(state_sha: str, state_name: str, loaded: LoadedSpec,
                             checkpoint: Path, classes: list[str],
                             data_classes: tuple[str, ...]) -> None:
    """The checkpoint is the spec's and was trained on as many classes as the data has."""
    check_trained_from(state_sha, state_name, loaded, checkpoint)
    if len(classes) != len(data_classes):
        raise SpeccError(f"{checkpoint}: trained on {len(classes)} classes, the data has "
                         f"{len(data_classes)}")
    differing = next((i for i, (a, b) in enumerate(zip(classes, data_classes, strict=True))
                      if a != b), None)
    if differing is not None:  # labels are class indices: another name means another class
        raise SpeccError(f"{checkpoint}: class {differing} is {classes[differing]!r} in the "
                         f"checkpoint, {data_classes[differing]!r} in the data; evaluate on data "
                         "whose classes have the checkpoint's names")


def normalization_of(state: dict, loaded: LoadedSpec,
                     checkpoint: Path) -> tuple[np.ndarray, np.ndarray]:
    """The training set's per-channel mean and std (in [0, 1] pixel units) a checkpoint keeps,
    one of each per channel of the spec's input (fewer would broadcast silently)."""
    mean, std = np.asarray(state["normalization"]["mean"]), np.asarray(state["normalization"]["std"])
    channels = loaded.spec.input.shape[-1]
    if len(mean) != channels:
        raise SpeccError(f"{checkpoint}: damaged checkpoint: `normalization` holds {len(mean)} "
                         f"channel(s), the spec's input has {channels}")
    return mean, std
