"""CIFAR-10-style data: find it, download it, decode it once into a cached uint8 array.

Accepted sources (``--data PATH`` or ``$SPECC_DATA``):
- the official Python release ``cifar-10-python.tar.gz`` or its unpacked folder
  (``data_batch_1`` .. ``data_batch_5``, ``test_batch``, ``batches.meta``);
- the image-folder layout ``train/<class>/*`` and ``test/<class>/*`` (PNG or JPEG), as a
  folder or a ``.tar.gz``; classes are the sorted folder names (for CIFAR-10 that is the
  official label order).
With no path, the cache folder (``$SPECC_DATA`` if it is a folder, else ``~/.cache/specc``)
is searched, and the official archive is downloaded there (md5 checked) when online.

Decoded arrays are cached as ``<cache>/decoded/<key>.npz`` keyed by the source's path, size
and modification time, so the second run starts in seconds.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, ClassVar

import numpy as np

from specc.errors import SpeccError
from specc.files import atomic_path

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
OFFICIAL_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
OFFICIAL_TEST = "test_batch"
OFFICIAL_META = "batches.meta"
CACHE_FORMAT = 2
DOWNLOAD_TIMEOUT_S = 30.0

HOW_TO_GET = (
    "pass --data PATH (cifar-10-python.tar.gz, its unpacked folder, or an image folder "
    "train/<class>/*, test/<class>/* as a folder or .tar.gz), set $SPECC_DATA, or download "
    f"{CIFAR10_URL} into the cache folder"
)


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 (N, H, W, C), labels as int64 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def limited(self, train: int | None, test: int | None) -> Dataset:
        """The first `train` / `test` examples (the archives are already shuffled)."""
        return Dataset(
            self.x_train[:train], self.y_train[:train], self.x_test[:test], self.y_test[:test],
            self.classes, self.source,
        )


def cache_dir() -> Path:
    configured = os.environ.get("SPECC_DATA")
    if configured and Path(configured).is_dir():
        return Path(configured)
    return Path.home() / ".cache" / "specc"


def load_dataset(data: str | Path | None = None) -> Dataset:
    """Find the data (see the module docstring), decode it once, return it."""
    source = Path(data) if data is not None else _default_source()
    if not source.exists():
        raise SpeccError(f"no data at {source}: no such file or folder; {HOW_TO_GET}")
    cached = _cache_path(source)
    if cached.is_file():
        try:
            return _read_cache(cached)
        except (OSError, ValueError, KeyError, zlib.error):
            cached.unlink(missing_ok=True)  # a damaged cache entry is rebuilt from the source
    dataset = _decode(source)
    _write_cache(cached, dataset)
    return dataset


# --- finding the data ------------------------------------------------------------------


def _default_source() -> Path:
    configured = os.environ.get("SPECC_DATA")
    if configured and not Path(configured).is_dir():
        return Path(configured)  # $SPECC_DATA names an archive (or is missing: reported later)
    folder = cache_dir()
    candidates = [folder / CIFAR10_FOLDER, folder / CIFAR10_ARCHIVE]
    if folder.is_dir():
        candidates += sorted(folder.glob("*.tar.gz")) + sorted(
            p for p in folder.iterdir() if p.is_dir() and p.name != "decoded"
        )
    for candidate in candidates:
        if candidate.exists() and _looks_like_data(candidate):
            return candidate
    return download_cifar10(folder)


def _looks_like_data(path: Path) -> bool:
    if path.is_file():
        return path.name.endswith((".tar.gz", ".tgz", ".tar"))
    return _official_root(path) is not None or _image_root(path) is not None


def download_cifar10(folder: Path, url: str | None = None) -> Path:
    """Download the official archive into `folder`, verify its md5, return its path."""
    url = url or os.environ.get("SPECC_CIFAR10_URL", CIFAR10_URL)
    target = folder / CIFAR10_ARCHIVE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{CIFAR10_ARCHIVE}.", suffix=".part")
    except OSError as error:
        raise SpeccError(f"cannot write to the data cache {folder}: {error.strerror}") from None
    temp = Path(temp_name)
    try:
        digest = hashlib.md5()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(
            url, timeout=DOWNLOAD_TIMEOUT_S
        ) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != CIFAR10_MD5:
            raise SpeccError(
                f"downloaded {url} but its md5 is {digest.hexdigest()}, not {CIFAR10_MD5}; "
                "the file was discarded"
            )
        os.replace(temp, target)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise SpeccError(
            f"no CIFAR-10 data found: looked for {CIFAR10_FOLDER}/, {CIFAR10_ARCHIVE} and image "
            f"folders in {folder}, and downloading {url} failed ({reason}); {HOW_TO_GET}"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return target


# --- the decoded-array cache -------------------------------------------------------------


def _cache_path(source: Path) -> Path:
    source = source.resolve()
    if source.is_file():
        stat = source.stat()
        fingerprint = f"{source}|{stat.st_size}|{stat.st_mtime_ns}"
    else:  # a folder: every file's relative path, size and mtime
        entries = sorted(
            f"{p.relative_to(source)}|{p.stat().st_size}|{p.stat().st_mtime_ns}"
            for p in source.rglob("*") if p.is_file()
        )
        fingerprint = f"{source}|" + "\n".join(entries)
    key = hashlib.sha256(f"v{CACHE_FORMAT}|{fingerprint}".encode()).hexdigest()[:24]
    return cache_dir() / "decoded" / f"{key}.npz"


def _read_cache(path: Path) -> Dataset:
    with np.load(path, allow_pickle=False) as arrays:
        return Dataset(
            arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
            tuple(str(name) for name in arrays["classes"]), str(arrays["source"]),
        )


def _write_cache(path: Path, dataset: Dataset) -> None:
    """Best effort: a cache that cannot be written only costs the next run its decode time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".part") as temp, open(temp, "wb") as out:
            np.savez(
                out, x_train=dataset.x_train, y_train=dataset.y_train, x_test=dataset.x_test,
                y_test=dataset.y_test, classes=np.array(dataset.classes), source=dataset.source,
            )
    except OSError:
        return


# --- decoding ----------------------------------------------------------------------------


def _decode(source: Path) -> Dataset:
    if source.is_dir():
        if (root := _official_root(source)) is not None:
            return _official_from_files(root, str(source))
        if (root := _image_root(source)) is not None:
            return _images_from_folder(root, str(source))
        raise SpeccError(
            f"{source}: neither the official CIFAR-10 folder (data_batch_1..5, test_batch) nor "
            f"an image folder (train/<class>/*, test/<class>/*); {HOW_TO_GET}"
        )
    return _decode_archive(source)


def _official_root(folder: Path) -> Path | None:
    for root in (folder, *_single_subfolder(folder)):
        if (root / OFFICIAL_TRAIN[0]).is_file():
            return root
    return None


def _image_root(folder: Path) -> Path | None:
    for root in (folder, *_single_subfolder(folder)):
        if (root / "train").is_dir() and (root / "test").is_dir():
            return root
    return None


def _single_subfolder(folder: Path) -> list[Path]:
    subfolders = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    return subfolders if len(subfolders) == 1 else []


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """The official batches are pickles; unpickling must not run arbitrary code."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # protocol-2 pickles of bytes made by Python 3
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


# What damaged pickle bytes can raise.
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
    ImportError, MemoryError, OverflowError, UnicodeDecodeError,
)


def _unpickle(stream: IO[bytes], name: str) -> dict:
    try:
        value = _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except _UNPICKLING_ERRORS as error:
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch ({type(error).__name__}: {error})") from None
    if not isinstance(value, dict):
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch (not a dictionary)")
    return value


def _official_batch(batch: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
        images = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    except (KeyError, ValueError, TypeError) as error:
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch ({error})") from None
    if len(labels) != len(images):
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch ({len(images)} images, {len(labels)} labels)")
    return np.ascontiguousarray(images), labels


def _official_dataset(batches: dict[str, dict], source: str) -> Dataset:
    missing = [n for n in (*OFFICIAL_TRAIN, OFFICIAL_TEST) if n not in batches]
    if missing:
        raise SpeccError(f"{source}: incomplete CIFAR-10 release, missing {', '.join(missing)}")
    train = [_official_batch(batches[n], f"{source}:{n}") for n in OFFICIAL_TRAIN]
    x_test, y_test = _official_batch(batches[OFFICIAL_TEST], f"{source}:{OFFICIAL_TEST}")
    meta = batches.get(OFFICIAL_META, {})
    names = meta.get(b"label_names") or [f"class_{i}" for i in range(10)]
    classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    return Dataset(
        np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
        x_test, y_test, classes, source,
    )


def _official_from_files(root: Path, source: str) -> Dataset:
    batches = {}
    for name in (*OFFICIAL_TRAIN, OFFICIAL_TEST, OFFICIAL_META):
        path = root / name
        if path.is_file():
            with path.open("rb") as stream:
                batches[name] = _unpickle(stream, str(path))
    return _official_dataset(batches, source)


def _images_from_folder(root: Path, source: str) -> Dataset:
    def files() -> Iterator[tuple[str, str, str, bytes]]:
        for split in ("train", "test"):
            for path in sorted((root / split).rglob("*")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    parts = path.relative_to(root / split).parts
                    if len(parts) == 2:
                        yield split, parts[0], str(path), path.read_bytes()

    return _image_dataset(files(), source)


def _decode_archive(archive: Path) -> Dataset:
    name = str(archive)
    batches: dict[str, dict] = {}
    images: list[tuple[str, str, str, bytes]] = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:  # one sequential pass: no seeking back in a gzip stream
                if not member.isfile():
                    continue
                path = PurePosixPath(member.name)
                located = _image_location(path)
                if path.name in (*OFFICIAL_TRAIN, OFFICIAL_TEST, OFFICIAL_META):
                    stream = tar.extractfile(member)
                    assert stream is not None
                    batches[path.name] = _unpickle(io.BytesIO(stream.read()), f"{name}:{member.name}")
                elif located is not None:
                    stream = tar.extractfile(member)
                    assert stream is not None
                    images.append((*located, f"{name}:{member.name}", stream.read()))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise SpeccError(f"{name}: corrupt or truncated archive ({error})") from None
    if OFFICIAL_TRAIN[0] in batches:
        return _official_dataset(batches, name)
    if images:
        return _image_dataset(iter(images), name)
    raise SpeccError(
        f"{name}: the archive holds neither the official CIFAR-10 batches nor images under "
        f"train/<class>/ and test/<class>/; {HOW_TO_GET}"
    )


def _image_location(path: PurePosixPath) -> tuple[str, str] | None:
    """(split, class) for `.../train/<class>/<file>` or `.../test/<class>/<file>`."""
    if path.suffix.lower() not in IMAGE_SUFFIXES or len(path.parts) < 3:
        return None
    split, label = path.parts[-3], path.parts[-2]
    return (split, label) if split in ("train", "test") else None


def _image_dataset(files: Iterator[tuple[str, str, str, bytes]], source: str) -> Dataset:
    from PIL import Image, UnidentifiedImageError

    arrays: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    labels: dict[str, list[str]] = {"train": [], "test": []}
    shape: tuple[int, ...] | None = None
    for split, label, name, content in files:
        try:
            with Image.open(io.BytesIO(content)) as image:
                pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise SpeccError(f"{name}: corrupt or unreadable image ({error})") from None
        if shape is None:
            shape = pixels.shape
        elif pixels.shape != shape:
            raise SpeccError(f"{name}: image is {pixels.shape[1]}x{pixels.shape[0]}, the others "
                             f"are {shape[1]}x{shape[0]}")
        arrays[split].append(pixels)
        labels[split].append(label)
    if not arrays["train"] or not arrays["test"]:
        empty = "train" if not arrays["train"] else "test"
        raise SpeccError(f"{source}: no images under {empty}/<class>/; {HOW_TO_GET}")
    classes = tuple(sorted(set(labels["train"])))
    unknown = sorted(set(labels["test"]) - set(classes))
    if unknown:
        raise SpeccError(f"{source}: test classes {unknown} do not appear in train/")
    index = {label: i for i, label in enumerate(classes)}

    def stacked(split: str) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(arrays[split]), np.array([index[x] for x in labels[split]], dtype=np.int64)

    x_train, y_train = stacked("train")
    x_test, y_test = stacked("test")
    # Folders list images class by class; a fixed shuffle makes --limit-train/--limit-test
    # subsets hold every class, as they do with the (already shuffled) official batches.
    order_train = np.random.default_rng(0).permutation(len(y_train))
    order_test = np.random.default_rng(1).permutation(len(y_test))
    return Dataset(
        x_train[order_train], y_train[order_train], x_test[order_test], y_test[order_test],
        classes, source,
    )
