"""Fuzzing the readers of data archives and checkpoints (tests/test_fuzz_files.py in CI,
benchmarks/fuzz.py --target archives|checkpoints for long runs).

Each example is a valid file damaged one way: random bytes, bit flips, or a truncation (for
checkpoints, of the whole file or of the payload under a recomputed checksum, so that the
damage reaches torch.load and the validators). The property: specc either reads it or raises
its own one-line SpeccError; anything else escaping is a failure.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spec_mutations import FuzzFailure
from train_support import TINY_SPEC, tar_folder, write_image_folder, write_official_archive

from specc.errors import SpeccError


def random_bytes(content: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(rng.randrange(0, 4096))


def bit_flips(content: bytes, rng: random.Random) -> bytes:
    damaged = bytearray(content)
    for _ in range(rng.randrange(1, 9)):
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def truncation(content: bytes, rng: random.Random) -> bytes:
    return content[: rng.randrange(len(content))]


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "random bytes": random_bytes, "bit flips": bit_flips, "truncation": truncation,
}


def _property(read: Callable[[], object]) -> bool:
    """True if read, False if refused with a one-line SpeccError; FuzzFailure otherwise."""
    try:
        read()
    except SpeccError as error:
        if "\n" in str(error) or "\r" in str(error):
            raise FuzzFailure(f"error is not one line: {str(error)!r}") from error
        return False
    except Exception as error:  # the property under test: nothing else may escape
        raise FuzzFailure(f"{type(error).__name__}: {error}") from error
    return True


# --- archives -----------------------------------------------------------------------------


class ArchiveTarget:
    """A small image-folder .tar.gz and a small official-release .tar.gz, damaged and read
    with `load_dataset` (its decoded cache removed after each example)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = root / "cache"
        images = write_image_folder(root / "images", train=12, test=8)
        self.seeds = {
            "images.tar.gz": tar_folder(images, root / "images.tar.gz", "images").read_bytes(),
            "official.tar.gz": write_official_archive(root / "official.tar.gz", 3).read_bytes(),
        }

    def example(self, rng: random.Random) -> tuple[str, bytes]:
        name = rng.choice(sorted(self.seeds))
        mutation = rng.choice(sorted(MUTATIONS))
        return f"{name}, {mutation}", MUTATIONS[mutation](self.seeds[name], rng)

    def check(self, content: bytes) -> bool:
        from specc.train.data import load_dataset

        path = self.root / "fuzzed.tar.gz"
        path.write_bytes(content)
        try:
            return _property(lambda: load_dataset(path))
        finally:
            shutil.rmtree(self.cache / "decoded", ignore_errors=True)


# --- checkpoints --------------------------------------------------------------------------


@dataclass
class _Variable:
    shape: tuple[int, ...]
    dtype: str


class CheckpointTarget:
    """A PyTorch checkpoint of the tiny spec (one real training epoch) and a Keras-format one
    made from it, damaged and read through the restore path's checks and loads."""

    def __init__(self, root: Path) -> None:
        from specc.cli import main

        self.root = root
        spec = root / "tiny.yaml"
        spec.write_text(TINY_SPEC)
        images = write_image_folder(root / "images", train=64, test=32)
        assert main(["train", str(spec), "--data", str(images), "--out", str(root / "runs"),
                     "--epochs", "1", "--device", "cpu"]) == 0
        (run,) = (root / "runs").iterdir()
        self.torch_file = (run / "checkpoints" / "last.ckpt").read_bytes()
        self._build_models(spec)
        self.keras_payload = self._keras_payload()

    def _build_models(self, spec: Path) -> None:
        import torch

        from specc.spec.load import load_spec
        from specc.train.checkpoint import HEADER_SIZE
        from specc.train.common import RunOptions
        from specc.train.session import build_model

        loaded = load_spec(spec)
        self.loaded = loaded
        self.model = build_model(loaded, RunOptions(device="cpu"), self.root / "build")
        self.model.softmax = torch.nn.Identity()  # as training replaces the final softmax
        state = torch.load(io.BytesIO(self.torch_file[HEADER_SIZE:]), weights_only=True)
        self.torch_state = state
        from specc.train.engine_torch import parameter_groups

        groups = parameter_groups(self.model, 5e-4, decay_norm_and_bias=False)  # as specc trains
        self.optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
        self.optimizer.load_state_dict(state["optimizer"])

    def _keras_payload(self) -> bytes:
        """What a Keras checkpoint of the same model holds (arrays and JSON metadata)."""
        state = self.torch_state
        meta = {key: state[key] for key in ("format", "spec_sha256", "spec_name", "epoch",
                                            "step_in_epoch", "global_step", "scheduler",
                                            "normalization", "classes", "recipe", "precision",
                                            "last_row")}
        meta |= {"backend": "keras", "accumulators": {"loss_sum": 1.5, "correct": 3},
                 "rng": {"numpy_pos": 624, "python": state["rng"]["python"]}}
        arrays = {f"model_{i}": value.numpy() for i, value in enumerate(
            v for v in state["model"].values() if v.is_floating_point())}
        arrays |= {f"optimizer_{i}": np.zeros(value.shape, np.float32)
                   for i, value in enumerate(self.model.parameters())}
        arrays["numpy_key"] = np.arange(624, dtype=np.uint32)
        arrays["meta"] = np.array(json.dumps(meta))
        self.keras_model_variables = [_Variable(a.shape, "float32") for name, a in arrays.items()
                                      if name.startswith("model_")]
        self.keras_optimizer_variables = [_Variable(a.shape, "float32")
                                          for name, a in arrays.items()
                                          if name.startswith("optimizer_")]
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    def example(self, rng: random.Random) -> tuple[str, bytes]:
        from specc.train.checkpoint import HEADER_SIZE

        backend = rng.choice(("torch", "keras"))
        mutation = rng.choice(sorted(MUTATIONS))
        level = rng.choice(("file", "payload"))
        payload = self.torch_file[HEADER_SIZE:] if backend == "torch" else self.keras_payload
        if level == "file":
            whole = self.torch_file if backend == "torch" else self._framed("keras", payload)
            return f"{backend} {level}, {mutation}", MUTATIONS[mutation](whole, rng)
        damaged = MUTATIONS[mutation](payload, rng)
        return f"{backend} {level}, {mutation}", self._framed(backend, damaged)

    def _framed(self, backend: str, payload: bytes) -> bytes:
        from specc.train.checkpoint import write_checkpoint

        path = self.root / "framed.ckpt"
        write_checkpoint(path, backend, payload)  # a valid checksum over the damaged payload
        return path.read_bytes()

    def check(self, content: bytes) -> bool:
        path = self.root / "fuzzed.ckpt"
        path.write_bytes(content)
        return _property(lambda: self._restore(path))

    def _restore(self, path: Path) -> Any:
        from specc.train.checkpoint import (
            check_keras_extras,
            check_torch_state,
            max_checkpoint_bytes,
            read_checkpoint,
        )
        from specc.train.common import CHECKPOINT_FORMAT
        from specc.train.engine_keras import arrays_from_payload
        from specc.train.engine_torch import restore_rng, state_from_payload

        backend, payload = read_checkpoint(path, max_checkpoint_bytes(
            self.loaded.info.total_params))
        if backend == "keras":
            _, meta = arrays_from_payload(payload, path, self.keras_model_variables,
                                          self.keras_optimizer_variables)
            check_keras_extras(meta, path)
            return meta
        if backend != "torch":
            raise SpeccError(f"{path}: a {backend} checkpoint")
        import torch

        state = state_from_payload(payload, path)
        check_torch_state(state, path, CHECKPOINT_FORMAT, self.model, self.optimizer)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        restore_rng(state["rng"], torch.device("cpu"))
        return state


TARGETS = {"archives": ArchiveTarget, "checkpoints": CheckpointTarget}
