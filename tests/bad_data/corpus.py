"""The second bad-input corpus: hostile or careless data, archives, pickles, checkpoints, run
folders and paths. Nothing here is committed as data: each case builds its inputs into a
fresh folder from a few small valid assets (a tiny spec, a small image archive, a checkpoint
trained for one epoch), then names the `specc` command line to run there.

Each case states the exit code and a regular expression the single line on stderr must match
in full. Planted code writes the file `PLANTED` into the case's folder if it ever runs.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import py_compile
import shutil
import struct
import sys
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train_support import TINY_SPEC, official_batches, tar_folder, write_image_folder

MARKER = "PLANTED"


@dataclass(frozen=True)
class Assets:
    """Valid inputs the cases start from (built once, never modified by a case)."""

    spec: Path
    images: Path  # image folder train/<class>/*, test/<class>/*
    archive: Path  # the same as .tar.gz
    run: Path  # a finished one-epoch PyTorch run of `spec` on `images`


def make_assets(root: Path) -> Assets:
    from specc.cli import main

    root.mkdir(parents=True, exist_ok=True)
    spec = root / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    images = write_image_folder(root / "images", train=64, test=32)
    archive = tar_folder(images, root / "images.tar.gz", "images")
    runs = root / "runs"
    code = main(["train", str(spec), "--data", str(images), "--out", str(runs), "--epochs", "1",
                 "--device", "cpu"])
    assert code == 0, "the valid assets must train"
    (run,) = runs.iterdir()
    return Assets(spec, images, archive, run)


Builder = Callable[[Path, Assets], list[str]]


@dataclass(frozen=True)
class Case:
    name: str
    attack: str  # the class of attack
    build: Builder  # writes the inputs into the case's folder; returns the argv
    code: int
    line: str  # the one stderr line (a regular expression matched in full); "" for none
    leaves_run: bool = False  # a run folder is expected (diverged runs keep theirs)
    needs_torch: bool = False  # the command gets as far as importing torch


def planted_statement(work: Path) -> str:
    return f"open({str(work / MARKER)!r}, 'w').close()\n"


class _Planted:
    """Pickles as a call to `exec` that writes the marker file."""

    def __init__(self, work: Path) -> None:
        self.work = work

    def __reduce__(self) -> tuple:
        import builtins

        return builtins.exec, (planted_statement(self.work),)


# --- planted code -------------------------------------------------------------------------


def planted_pycache(work: Path, assets: Assets) -> list[str]:
    """A `.pyc` that Python's import system would run without checking the source (PEP 552
    unchecked hash), planted where importing `build/tiny_torch.py` by path would find it."""
    cache = work / "build" / "__pycache__"
    cache.mkdir(parents=True)
    evil = work / "evil.py"
    evil.write_text(planted_statement(work) + "def build_model():\n    raise SystemExit(0)\n")
    py_compile.compile(str(evil), cfile=str(cache / f"tiny_torch.{sys.implementation.cache_tag}.pyc"),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    evil.unlink()
    return ["build", str(assets.spec), "--backend", "torch", "--out", "build"]


def _official_folder(work: Path, replace: dict[str, bytes]) -> Path:
    folder = work / "official"
    folder.mkdir()
    for name, content in {**official_batches(), **replace}.items():
        (folder / name).write_bytes(content)
    return folder


def _train(assets: Assets, data: str, *extra: str) -> list[str]:
    return ["train", str(assets.spec), "--data", data, "--out", "runs", "--device", "cpu", *extra]


def pickle_runs_code(work: Path, assets: Assets) -> list[str]:
    _official_folder(work, {"data_batch_1": pickle.dumps({b"data": _Planted(work)}, protocol=2)})
    return _train(assets, "official")


def _checkpoint_state(assets: Assets) -> dict:
    import torch

    from specc.train.checkpoint import read_checkpoint

    _, payload = read_checkpoint(assets.run / "checkpoints" / "last.ckpt")
    return torch.load(io.BytesIO(payload), weights_only=True)


def _write_torch_checkpoint(path: Path, state: object) -> None:
    import torch

    from specc.train.checkpoint import write_checkpoint

    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_checkpoint(path, "torch", buffer.getvalue())  # a valid checksum over bad contents


def _eval(assets: Assets, checkpoint: str) -> list[str]:
    return ["eval", str(assets.spec), "--checkpoint", checkpoint, "--data", str(assets.images),
            "--out", "eval", "--device", "cpu"]


def checkpoint_runs_code(work: Path, assets: Assets) -> list[str]:
    state = _checkpoint_state(assets)
    state["model"] = _Planted(work)
    _write_torch_checkpoint(work / "evil.ckpt", state)
    return _eval(assets, "evil.ckpt")


# --- files that are not regular files -----------------------------------------------------


def fifo_as_data(work: Path, assets: Assets) -> list[str]:
    os.mkfifo(work / "data.fifo")
    return _train(assets, "data.fifo")


def device_as_data(work: Path, assets: Assets) -> list[str]:
    return _train(assets, "/dev/zero")


def fifo_as_checkpoint(work: Path, assets: Assets) -> list[str]:
    os.mkfifo(work / "last.ckpt")
    return _eval(assets, "last.ckpt")


def fifo_as_image(work: Path, assets: Assets) -> list[str]:
    shutil.copytree(assets.images, work / "images")
    os.mkfifo(work / "images" / "train" / "apple" / "fifo.png")
    return _train(assets, "images")


# --- damaged archives ---------------------------------------------------------------------


def flipped_bit(work: Path, assets: Assets) -> list[str]:
    content = bytearray(assets.archive.read_bytes())
    content[len(content) // 2] ^= 0x04
    (work / "flipped.tar.gz").write_bytes(bytes(content))
    return _train(assets, "flipped.tar.gz")


def cut_gzip_trailer(work: Path, assets: Assets) -> list[str]:
    (work / "cut.tar.gz").write_bytes(assets.archive.read_bytes()[:-8])
    return _train(assets, "cut.tar.gz")


def damaged_tar_header(work: Path, assets: Assets) -> list[str]:
    """A plain tar whose tenth member's header is damaged: tarfile takes that for the end of
    the archive and would silently return the members before it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(assets.images, arcname="images")
    content = bytearray(buffer.getvalue())
    headers = [offset for offset in range(0, len(content), 512)
               if content[offset + 257 : offset + 262] == b"ustar"]
    content[headers[10] + 148] ^= 0x01  # its checksum field
    (work / "damaged.tar").write_bytes(bytes(content))
    return _train(assets, "damaged.tar")


def truncated_plain_tar(work: Path, assets: Assets) -> list[str]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(assets.images, arcname="images")
    content = buffer.getvalue()
    (work / "cut.tar").write_bytes(content[: len(content) // 2 // 512 * 512])
    return _train(assets, "cut.tar")


def not_an_archive(work: Path, assets: Assets) -> list[str]:
    (work / "random.tar.gz").write_bytes(np.random.default_rng(0).bytes(4096))
    return _train(assets, "random.tar.gz")


# --- size bombs ---------------------------------------------------------------------------


def huge_member(work: Path, assets: Assets) -> list[str]:
    """A 16 GiB member declared in a header of a few hundred compressed bytes."""
    info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
    info.size = 16 << 30
    with gzip.open(work / "huge.tar.gz", "wb") as out:
        out.write(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(4096))
    return _train(assets, "huge.tar.gz")


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def pixel_bomb(work: Path, assets: Assets) -> list[str]:
    shutil.copytree(assets.images, work / "images")
    (work / "images" / "train" / "apple" / "0000.png").write_bytes(png_header(100_000, 100_000))
    return _train(assets, "images")


def big_but_allowed_declared_pixels(work: Path, assets: Assets) -> list[str]:
    shutil.copytree(assets.images, work / "images")
    (work / "images" / "train" / "apple" / "0000.png").write_bytes(png_header(4097, 4096))
    return _train(assets, "images")


def nested_list_pickle(work: Path, assets: Assets) -> list[str]:
    """About 270 bytes of pickle standing for 2^30 values: lists that share their items."""
    value: list = [0]
    for _ in range(30):
        value = [value, value]
    bomb = pickle.dumps({b"data": value, b"labels": [0]}, protocol=2)
    assert len(bomb) < 400
    _official_folder(work, {"data_batch_1": bomb})
    return _train(assets, "official")


def oversized_batch_file(work: Path, assets: Assets) -> list[str]:
    folder = _official_folder(work, {})
    with open(folder / "data_batch_2", "r+b") as handle:
        handle.truncate(1 << 30)  # sparse: costs no disk
    return _train(assets, "official")


def gif_named_png(work: Path, assets: Assets) -> list[str]:
    shutil.copytree(assets.images, work / "images")
    Image.new("RGB", (8, 8)).save(work / "images" / "train" / "apple" / "0000.png", format="GIF")
    return _train(assets, "images")


# --- official batches with wrong contents -------------------------------------------------


def label_out_of_range(work: Path, assets: Assets) -> list[str]:
    batch = pickle.loads(official_batches()["test_batch"])
    batch[b"labels"][3] = 12
    _official_folder(work, {"test_batch": pickle.dumps(batch, protocol=2)})
    return _train(assets, "official")


def float_data(work: Path, assets: Assets) -> list[str]:
    batch = pickle.loads(official_batches()["data_batch_3"])
    batch[b"data"] = batch[b"data"].astype(np.float32)
    _official_folder(work, {"data_batch_3": pickle.dumps(batch, protocol=2)})
    return _train(assets, "official")


def label_names_not_strings(work: Path, assets: Assets) -> list[str]:
    meta = pickle.dumps({b"label_names": [1, 2, 3, 4]}, protocol=2)
    _official_folder(work, {"batches.meta": meta})
    return _train(assets, "official")


# --- checkpoints from elsewhere -----------------------------------------------------------


def checkpoint_without_model(work: Path, assets: Assets) -> list[str]:
    state = _checkpoint_state(assets)
    del state["model"]
    _write_torch_checkpoint(work / "no_model.ckpt", state)
    return _eval(assets, "no_model.ckpt")


def checkpoint_wrong_type(work: Path, assets: Assets) -> list[str]:
    state = _checkpoint_state(assets)
    state["epoch"] = "three"
    _write_torch_checkpoint(work / "typed.ckpt", state)
    return _eval(assets, "typed.ckpt")


def checkpoint_wrong_shape(work: Path, assets: Assets) -> list[str]:
    import torch

    state = _checkpoint_state(assets)
    state["model"]["conv1.weight"] = torch.zeros(8, 3, 5, 5)
    _write_torch_checkpoint(work / "shape.ckpt", state)
    return _eval(assets, "shape.ckpt")


def checkpoint_too_big(work: Path, assets: Assets) -> list[str]:
    from specc.train.checkpoint import MAGIC

    with open(work / "big.ckpt", "wb") as handle:
        handle.write(MAGIC)
        handle.truncate(1 << 30)  # sparse
    return _eval(assets, "big.ckpt")


# --- run folders from elsewhere -----------------------------------------------------------


def _copied_run(work: Path, assets: Assets) -> Path:
    run = work / "run"
    shutil.copytree(assets.run, run)
    return run


def _resume(assets: Assets) -> list[str]:
    return ["train", str(assets.spec), "--resume", "run", "--device", "cpu"]


def resume_without_recipe(work: Path, assets: Assets) -> list[str]:
    (_copied_run(work, assets) / "recipe.json").unlink()
    return _resume(assets)


def resume_with_bad_options(work: Path, assets: Assets) -> list[str]:
    import json

    recipe = _copied_run(work, assets) / "recipe.json"
    recorded = json.loads(recipe.read_text())
    recorded["options"]["limit_train"] = -5
    recipe.write_text(json.dumps(recorded))
    return _resume(assets)


def resume_with_bad_recipe(work: Path, assets: Assets) -> list[str]:
    import json

    recipe = _copied_run(work, assets) / "recipe.json"
    recorded = json.loads(recipe.read_text())
    recorded["recipe"]["batch_size"] = 0
    recipe.write_text(json.dumps(recorded))
    return _resume(assets)


def resume_with_damaged_metrics(work: Path, assets: Assets) -> list[str]:
    (_copied_run(work, assets) / "metrics.jsonl").write_text("{\"epoch\": 1, \"train_loss\": \n")
    return _resume(assets)


# --- valid specs that cannot train --------------------------------------------------------


def padding_not_smaller_than_image(work: Path, assets: Assets) -> list[str]:
    (work / "pad.yaml").write_text(TINY_SPEC.replace(
        "  batch_size: 32\n", "  batch_size: 32\n  augmentation: {random_crop_padding: 8}\n"))
    return ["train", "pad.yaml", "--data", str(assets.images), "--out", "runs"]


def batchnorm_on_flat_features_with_batch_1(work: Path, assets: Assets) -> list[str]:
    spec = TINY_SPEC.replace(
        "  - {name: drop, type: Dropout, rate: 0.2}\n",
        "  - {name: hidden, type: Dense, units: 8}\n  - {name: bn, type: BatchNormalization}\n",
    ).replace("  batch_size: 32\n", "  batch_size: 1\n")
    (work / "bn.yaml").write_text(spec)
    return ["train", "bn.yaml", "--data", str(assets.images), "--out", "runs"]


def output_not_a_vector(work: Path, assets: Assets) -> list[str]:
    """Class scores per position (4 channels of an 8x8 map): check_data_fits sees 4 classes,
    but the loss needs one vector per example."""
    spec = TINY_SPEC.replace(
        "  - {name: pool, type: GlobalAveragePooling2D}\n  - {name: drop, type: Dropout, rate: 0.2}\n"
        "  - {name: logits, type: Dense, units: 4}\n",
        "  - {name: logits, type: Conv2D, filters: 4, kernel_size: 1}\n")
    assert spec != TINY_SPEC
    (work / "map.yaml").write_text(spec)
    return ["train", "map.yaml", "--data", str(assets.images), "--out", "runs"]


def divergence(work: Path, assets: Assets) -> list[str]:
    return _train(assets, str(assets.images), "--lr", "1e308", "--epochs", "1")


# --- paths and OS errors ------------------------------------------------------------------


def name_too_long(work: Path, assets: Assets) -> list[str]:
    return ["train", str(assets.spec), "--data", str(assets.images), "--out", "x" * 300]


def out_under_a_file(work: Path, assets: Assets) -> list[str]:
    (work / "afile").write_text("not a folder\n")
    return ["train", str(assets.spec), "--data", str(assets.images), "--out", "afile/runs"]


def newline_in_data_path(work: Path, assets: Assets) -> list[str]:
    return _train(assets, "no\nsuch\x1b[31m.tar.gz")


def escape_sequence_in_member_name(work: Path, assets: Assets) -> list[str]:
    folder = work / "tree"
    shutil.copytree(assets.images, folder)
    (folder / "train" / "apple" / "evil\x1b[2J\n.png").write_bytes(b"not an image")
    tar_folder(folder, work / "names.tar.gz", "images")
    return _train(assets, "names.tar.gz")


CASES: tuple[Case, ...] = (
    Case("planted_pycache", "planted code", planted_pycache, 0, "", needs_torch=True),
    Case("pickle_runs_code", "planted code", pickle_runs_code, 2,
         r"official/data_batch_1: corrupt CIFAR-10 batch \(UnpicklingError: refusing to load "
         r"(__builtin__|builtins)\.exec\)"),
    Case("checkpoint_runs_code", "planted code", checkpoint_runs_code, 2,
         r"evil\.ckpt: unreadable checkpoint \(UnpicklingError\)", needs_torch=True),
    Case("fifo_as_data", "not a regular file", fifo_as_data, 2,
         r"data\.fifo: a FIFO \(named pipe\), not a regular file or folder; data is read only "
         r"from files and folders"),
    Case("device_as_data", "not a regular file", device_as_data, 2,
         r"/dev/zero: a character device, not a regular file or folder; .*"),
    Case("fifo_as_checkpoint", "not a regular file", fifo_as_checkpoint, 2,
         r"last\.ckpt: not a regular file; a checkpoint is read only from a file"),
    Case("fifo_as_image", "not a regular file", fifo_as_image, 2,
         r"images/train/apple/fifo\.png: a FIFO \(named pipe\), not a regular file or folder; .*"),
    Case("flipped_bit", "damaged archive", flipped_bit, 2,
         r"flipped\.tar\.gz(:\S+)?: corrupt or (truncated archive|unreadable image) \(.+\).*"),
    Case("cut_gzip_trailer", "damaged archive", cut_gzip_trailer, 2,
         r"cut\.tar\.gz: corrupt or truncated archive \(Compressed file ended before the "
         r"end-of-stream marker was reached\)"),
    Case("damaged_tar_header", "damaged archive", damaged_tar_header, 2,
         r"damaged\.tar: corrupt or truncated archive \(damaged data after byte [\d,]+ of the "
         r"unpacked archive \(a corrupt member header\?\)\)"),
    Case("truncated_plain_tar", "damaged archive", truncated_plain_tar, 2,
         r"cut\.tar: corrupt or truncated archive \(.+\)"),
    Case("not_an_archive", "damaged archive", not_an_archive, 2,
         r"random\.tar\.gz: not a tar archive \(plain, or compressed with gzip, bzip2 or xz\); .+"),
    Case("huge_member", "size bomb", huge_member, 2,
         r"huge\.tar\.gz:cifar-10-batches-py/data_batch_1: the archive unpacks to more than "
         r"17,179,869,184 bytes; a data set archive is smaller"),
    Case("pixel_bomb", "size bomb", pixel_bomb, 2,
         r"images/train/apple/0000\.png: the image declares more than 16,777,216 pixels \(.+\)"),
    Case("declared_pixels_over_the_cap", "size bomb", big_but_allowed_declared_pixels, 2,
         r"images/train/apple/0000\.png: the image declares 4,097x4,096 pixels; at most "
         r"16,777,216 pixels per image"),
    Case("nested_list_pickle", "size bomb", nested_list_pickle, 2,
         r"official:data_batch_1: corrupt CIFAR-10 batch \(`data` must be a uint8 array of shape "
         r"\(N, 3072\), found list\)"),
    Case("oversized_batch_file", "size bomb", oversized_batch_file, 2,
         r"official/data_batch_2: 1,073,741,824 bytes; a CIFAR-10 batch is at most "
         r"134,217,728 bytes"),
    Case("gif_named_png", "wrong format", gif_named_png, 2,
         r"images/train/apple/0000\.png: not a PNG or JPEG image \(only PNG and JPEG are read\)"),
    Case("label_out_of_range", "wrong contents", label_out_of_range, 2,
         r"official:test_batch: label 12 is outside 0\.\.3 \(4 classes\)"),
    Case("float_data", "wrong contents", float_data, 2,
         r"official:data_batch_3: corrupt CIFAR-10 batch \(`data` must be a uint8 array of "
         r"shape \(N, 3072\), found float32 array of shape \(12, 3072\)\)"),
    Case("label_names_not_strings", "wrong contents", label_names_not_strings, 2,
         r"official:batches\.meta: corrupt batches\.meta \(`label_names` must be a list of "
         r"non-empty strings\)"),
    Case("checkpoint_without_model", "checkpoint from elsewhere", checkpoint_without_model, 2,
         r"no_model\.ckpt: damaged checkpoint: `model` is not a dictionary of tensors",
         needs_torch=True),
    Case("checkpoint_wrong_type", "checkpoint from elsewhere", checkpoint_wrong_type, 2,
         r"typed\.ckpt: damaged checkpoint: `epoch` is not an epoch count", needs_torch=True),
    Case("checkpoint_wrong_shape", "checkpoint from elsewhere", checkpoint_wrong_shape, 2,
         r"shape\.ckpt: the checkpoint's model `conv1\.weight` is torch\.float32 \(8, 3, 5, 5\), "
         r"the model's is torch\.float32 \(8, 3, 3, 3\)", needs_torch=True),
    Case("checkpoint_too_big", "checkpoint from elsewhere", checkpoint_too_big, 2,
         r"big\.ckpt: 1,073,741,824 bytes, more than a checkpoint of this model can be \(at "
         r"most [\d,]+\); not a checkpoint of this spec"),
    Case("resume_without_recipe", "run folder from elsewhere", resume_without_recipe, 2,
         r"specc: --resume run: the run folder has no recipe\.json; it was not made by `specc "
         r"train`, or it is damaged"),
    Case("resume_with_bad_options", "run folder from elsewhere", resume_with_bad_options, 2,
         r"run/recipe\.json: options\.limit_train is -5; expected null or a positive integer"),
    Case("resume_with_bad_recipe", "run folder from elsewhere", resume_with_bad_recipe, 2,
         r"run/recipe\.json: recipe\.batch_size: Input should be greater than or equal to 1"),
    Case("resume_with_damaged_metrics", "run folder from elsewhere",
         resume_with_damaged_metrics, 2,
         r"run/metrics\.jsonl: damaged metrics: line 1 is not an epoch's metrics",
         needs_torch=True),
    Case("padding_not_smaller_than_image", "cannot train", padding_not_smaller_than_image, 2,
         r"pad\.yaml:\d+:\d+: train\.augmentation\.random_crop_padding is 8, not smaller than "
         r"the 8x8 images; .+"),
    Case("batchnorm_on_flat_features_with_batch_1", "cannot train",
         batchnorm_on_flat_features_with_batch_1, 2,
         r"bn\.yaml:\d+:\d+: layer 'bn' \(BatchNormalization\) normalises each channel over 1 "
         r"value per training batch .+"),
    Case("output_not_a_vector", "cannot train", output_not_a_vector, 2,
         r"map\.yaml:\d+:\d+: the model's output is \(8, 8, 4\) per example; training needs one "
         r"vector of class scores .+"),
    Case("divergence", "divergence", divergence, 1,
         r"(the training loss became (nan|inf|-inf) at step \d+ .+|training diverged in epoch "
         r"1: .+)", leaves_run=True, needs_torch=True),
    Case("name_too_long", "OS error", name_too_long, 2,
         r"x{300}: a file or folder name in the path is too long \(.+\)"),
    Case("out_under_a_file", "OS error", out_under_a_file, 2,
         r"specc: --out afile/runs: cannot create a run folder \(Not a directory\)"),
    Case("newline_in_data_path", "one line", newline_in_data_path, 2,
         r"specc: no data at no\\nsuch\\x1b\[31m\.tar\.gz: no such file or folder; .+"),
    Case("escape_sequence_in_member_name", "one line", escape_sequence_in_member_name, 2,
         r"names\.tar\.gz:images/train/apple/evil\\x1b\[2J\\n\.png: not a PNG or JPEG image "
         r"\(only PNG and JPEG are read\)"),
)
