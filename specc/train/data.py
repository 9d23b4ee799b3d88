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
import lzma
import os
import pickle
import tarfile
import urllib.error
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np

from specc.errors import SpeccError
from specc.files import atomic_path
from specc.train.bounded import MemberCheck, read_capped, read_npz, require_file_or_folder

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
OFFICIAL_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
OFFICIAL_TEST = "test_batch"
OFFICIAL_META = "batches.meta"
CACHE_FORMAT = 3
DOWNLOAD_TIMEOUT_S = 30.0

# Caps on what specc reads from files it did not write, checked before anything is allocated.
MAX_DOWNLOAD_BYTES = 256 << 20  # the official archive is 170,498,071 bytes
MAX_BATCH_BYTES = 128 << 20  # an official batch pickle is about 31 MB
MAX_IMAGE_FILE_BYTES = 16 << 20
MAX_IMAGE_PIXELS = 4096 * 4096  # width x height of one image
MAX_DATASET_BYTES = 8 << 30  # decoded uint8 pixels of the whole data set (CIFAR-10: 184 MB)
MAX_ARCHIVE_BYTES = 16 << 30  # the unpacked tar stream (CIFAR-10: under 200 MB)
MAX_ARCHIVE_MEMBERS = 1_000_000
MAX_TAR_HEADER_BYTES = 1 << 20  # a long name or pax header
OFFICIAL_ROW = 3 * 32 * 32

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
        """`train` / `test` examples of each split, stratified: every class present, in about
        its share of the split (see `stratified`), in the data's (shuffled) order."""
        train_index = stratified(self.y_train, train, len(self.classes), "--limit-train")
        test_index = stratified(self.y_test, test, len(self.classes), "--limit-test")
        return Dataset(self.x_train[train_index], self.y_train[train_index],
                       self.x_test[test_index], self.y_test[test_index], self.classes,
                       self.source)


def stratified(labels: np.ndarray, count: int | None, classes: int, flag: str) -> np.ndarray | slice:
    """Indices of `count` examples: first one of every class present, then each class in
    proportion to its size (its k-th example ranks at (k + 0.5) / its count), ties broken by
    position; returned in the original order. Fewer than the classes present is refused."""
    if count is None or count >= len(labels):
        return slice(None)
    sizes = np.bincount(labels, minlength=classes)
    present = int((sizes > 0).sum())
    if count < present:
        raise SpeccError(f"{flag} {count}: fewer than the {present} classes in the data; give "
                         f"at least {present} so that every class is present")
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - np.repeat(starts, sizes)
    share = (rank + 0.5) / sizes[labels]
    key = np.where(rank == 0, -1.0, share)
    return np.sort(np.argsort(key, kind="stable")[:count])


def cache_dir() -> Path:
    configured = os.environ.get("SPECC_DATA")
    if configured and Path(configured).is_dir():
        return Path(configured)
    return Path.home() / ".cache" / "specc"


def load_dataset(data: str | Path | None = None) -> Dataset:
    """Find the data (see the module docstring), decode it once, return it."""
    source = Path(data) if data is not None else _default_source()
    try:
        require_file_or_folder(source, "data")
    except FileNotFoundError:
        raise SpeccError(f"no data at {source}: no such file or folder; {HOW_TO_GET}") from None
    cached = _cache_path(source)
    if cached.is_file():
        try:
            return _read_cache(cached)
        except SpeccError:
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
    """Download the official archive into `folder` (at most MAX_DOWNLOAD_BYTES), verify its
    md5, return its path."""
    url = url or os.environ.get("SPECC_CIFAR10_URL", CIFAR10_URL)
    target = folder / CIFAR10_ARCHIVE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, suffix=".part") as temp:
            digest = _download(url, temp)
            if digest != CIFAR10_MD5:
                raise SpeccError(f"downloaded {url} but its md5 is {digest}, not {CIFAR10_MD5}; "
                                 "the file was discarded")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise SpeccError(
            f"no CIFAR-10 data found: looked for {CIFAR10_FOLDER}/, {CIFAR10_ARCHIVE} and image "
            f"folders in {folder}, and downloading {url} failed ({reason}); {HOW_TO_GET}"
        ) from None
    return target


def _download(url: str, temp: Path) -> str:
    """Copy `url` into `temp`, refusing more than MAX_DOWNLOAD_BYTES; the md5 of what came."""
    digest = hashlib.md5()
    received = 0
    with open(temp, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
            raise SpeccError(f"{url}: announces {int(declared):,} bytes; the CIFAR-10 archive is "
                             f"at most {MAX_DOWNLOAD_BYTES:,}; nothing was kept")
        while chunk := response.read(1 << 20):
            received += len(chunk)
            if received > MAX_DOWNLOAD_BYTES:
                raise SpeccError(f"{url}: sent more than {MAX_DOWNLOAD_BYTES:,} bytes, more than "
                                 "the CIFAR-10 archive; the download was stopped and discarded")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


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
    """The cached arrays, every shape, dtype and label checked (SpeccError if damaged)."""
    name = str(path)
    info = require_file_or_folder(path, "the decoded-data cache")
    if info.st_size > MAX_DATASET_BYTES + (64 << 20):
        raise SpeccError(f"{name}: larger than any data set specc decodes")
    counts: dict[str, int] = {}
    image: dict[str, tuple[int, ...]] = {}

    def images(split: str) -> MemberCheck:
        def check(dtype: np.dtype, shape: tuple[int, ...]) -> str | None:
            if dtype != np.uint8 or len(shape) != 4 or image.setdefault("shape", shape[1:]) \
                    != shape[1:]:
                return f"is not uint8 images of one shape ({dtype}, {shape})"
            counts[split] = shape[0]
            return None
        return check

    def labels(split: str) -> MemberCheck:
        return lambda dtype, shape: None if dtype == np.int64 and shape == (counts[split],) \
            else f"is not {counts[split]} int64 labels ({dtype}, {shape})"

    def names(dtype: np.dtype, shape: tuple[int, ...]) -> str | None:
        return None if dtype.kind == "U" and len(shape) <= 1 else f"is not text ({dtype})"

    arrays = read_npz(path, {"x_train": images("train"), "y_train": labels("train"),
                             "x_test": images("test"), "y_test": labels("test"),
                             "classes": names, "source": names}, MAX_DATASET_BYTES, name)
    classes = tuple(str(n) for n in np.atleast_1d(arrays["classes"]))
    for split in ("train", "test"):
        values = arrays[f"y_{split}"]
        if len(values) and not (0 <= int(values.min()) and int(values.max()) < len(classes)):
            raise SpeccError(f"{name}: {split} labels outside 0..{len(classes) - 1}")
    return Dataset(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                   classes, str(arrays["source"]))


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


# What damaged pickle bytes can raise.
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
    ImportError, MemoryError, OverflowError, UnicodeDecodeError, RecursionError,
)


def _unpickle(content: bytes, name: str) -> dict:
    try:
        value = _NumpyOnlyUnpickler(io.BytesIO(content), encoding="bytes").load()
    except _UNPICKLING_ERRORS as error:
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch ({type(error).__name__}: {error})") from None
    if not isinstance(value, dict):
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch (not a dictionary)")
    return value


def _official_batch(batch: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) and labels of one official batch, its types checked before any
    conversion (a list of lists that shares its items could stand for billions of values)."""
    data, labels = batch.get(b"data"), batch.get(b"labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != OFFICIAL_ROW:
        found = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) \
            else type(data).__name__
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch (`data` must be a uint8 array of shape "
                         f"(N, {OFFICIAL_ROW}), found {found})")
    values = _int_labels(labels, name)
    if len(values) != len(data):
        raise SpeccError(f"{name}: corrupt CIFAR-10 batch ({len(data)} images, {len(values)} "
                         "labels)")
    images = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), values


def _int_labels(labels: object, name: str) -> np.ndarray:
    if isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu":
        return labels.astype(np.int64)
    if isinstance(labels, list) and all(type(label) is int for label in labels):
        if labels and not -(2**63) <= min(labels) <= max(labels) < 2**63:
            raise SpeccError(f"{name}: corrupt CIFAR-10 batch (a label beyond 64 bits)")
        return np.array(labels, dtype=np.int64)
    raise SpeccError(f"{name}: corrupt CIFAR-10 batch (`labels` must be a list of integers)")


def _label_names(meta: dict, name: str) -> tuple[str, ...]:
    names = meta.get(b"label_names")
    if names is None:
        return tuple(f"class_{i}" for i in range(10))
    if not isinstance(names, list) or not names or \
            not all(isinstance(n, bytes | str) and n for n in names):
        raise SpeccError(f"{name}: corrupt batches.meta (`label_names` must be a list of "
                         "non-empty strings)")
    try:
        decoded = tuple(n.decode() if isinstance(n, bytes) else n for n in names)
    except UnicodeDecodeError:
        raise SpeccError(f"{name}: corrupt batches.meta (a label name is not UTF-8)") from None
    if len(set(decoded)) != len(decoded):
        raise SpeccError(f"{name}: corrupt batches.meta (label names repeat)")
    return decoded


def _official_dataset(batches: dict[str, dict], source: str) -> Dataset:
    missing = [n for n in (*OFFICIAL_TRAIN, OFFICIAL_TEST) if n not in batches]
    if missing:
        raise SpeccError(f"{source}: incomplete CIFAR-10 release, missing {', '.join(missing)}")
    classes = _label_names(batches.get(OFFICIAL_META, {}), f"{source}:{OFFICIAL_META}")
    parts = {n: _official_batch(batches[n], f"{source}:{n}") for n in (*OFFICIAL_TRAIN,
                                                                        OFFICIAL_TEST)}
    for batch_name, (_, labels) in parts.items():
        if len(labels) and not (labels.min() >= 0 and labels.max() < len(classes)):
            bad = int(labels[(labels < 0) | (labels >= len(classes))][0])
            raise SpeccError(f"{source}:{batch_name}: label {bad} is outside 0..{len(classes) - 1}"
                             f" ({len(classes)} classes)")
    x_test, y_test = parts[OFFICIAL_TEST]
    return Dataset(
        np.concatenate([parts[n][0] for n in OFFICIAL_TRAIN]),
        np.concatenate([parts[n][1] for n in OFFICIAL_TRAIN]), x_test, y_test, classes, source,
    )


def _official_from_files(root: Path, source: str) -> Dataset:
    batches = {}
    for name in (*OFFICIAL_TRAIN, OFFICIAL_TEST, OFFICIAL_META):
        path = root / name
        if os.path.lexists(path):
            content = read_capped(path, MAX_BATCH_BYTES, "a CIFAR-10 batch")
            batches[name] = _unpickle(content, str(path))
    return _official_dataset(batches, source)


def _images_from_folder(root: Path, source: str) -> Dataset:
    images = _ImageCollector(source)
    for split in ("train", "test"):
        for path in sorted((root / split).rglob("*")):
            parts = path.relative_to(root / split).parts
            if path.suffix.lower() in IMAGE_SUFFIXES and len(parts) == 2 and not path.is_dir():
                content = read_capped(path, MAX_IMAGE_FILE_BYTES, "an image")
                images.add(split, parts[0], str(path), content)
    return images.dataset()


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses a long-name or pax header larger than MAX_TAR_HEADER_BYTES before tarfile
    reads it into memory."""

    def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        if self.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                         tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE) \
                and self.size > MAX_TAR_HEADER_BYTES:
            raise tarfile.SubsequentHeaderError(f"an extended header of {self.size:,} bytes")
        return super()._proc_member(tar)  # type: ignore[misc]


def _decode_archive(archive: Path) -> Dataset:
    name = str(archive)
    batches: dict[str, dict] = {}
    images = _ImageCollector(name)
    try:
        with tarfile.open(archive, "r:*", tarinfo=_BoundedTarInfo) as tar:
            for count, member in enumerate(tar, start=1):  # one pass, forward only
                where = f"{name}:{member.name}"
                _check_member_bounds(member, count, where)
                path = PurePosixPath(member.name)
                located = _image_location(path)
                if not member.isfile():
                    continue
                if path.name in (*OFFICIAL_TRAIN, OFFICIAL_TEST, OFFICIAL_META):
                    content = _member_bytes(tar, member, MAX_BATCH_BYTES, "a CIFAR-10 batch", where)
                    batches[path.name] = _unpickle(content, where)
                elif located is not None:
                    content = _member_bytes(tar, member, MAX_IMAGE_FILE_BYTES, "an image", where)
                    images.add(*located, where, content)
            _check_archive_end(tar, name)
    except (tarfile.TarError, EOFError, zlib.error, OSError, lzma.LZMAError) as error:
        if str(error).startswith("file could not be opened successfully"):
            raise SpeccError(f"{name}: not a tar archive (plain, or compressed with gzip, bzip2 "
                             f"or xz); {HOW_TO_GET}") from None
        raise SpeccError(f"{name}: corrupt or truncated archive ({error})") from None
    if OFFICIAL_TRAIN[0] in batches:
        return _official_dataset(batches, name)
    if images.count:
        return images.dataset()
    raise SpeccError(
        f"{name}: the archive holds neither the official CIFAR-10 batches nor images under "
        f"train/<class>/ and test/<class>/; {HOW_TO_GET}"
    )


def _check_member_bounds(member: tarfile.TarInfo, count: int, where: str) -> None:
    if count > MAX_ARCHIVE_MEMBERS:
        raise SpeccError(f"{where}: more than {MAX_ARCHIVE_MEMBERS:,} archive members; a data set "
                         "archive holds fewer")
    if member.offset_data + member.size > MAX_ARCHIVE_BYTES:
        raise SpeccError(f"{where}: the archive unpacks to more than {MAX_ARCHIVE_BYTES:,} bytes; "
                         "a data set archive is smaller")


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo, cap: int, what: str,
                  where: str) -> bytes:
    if member.size > cap:
        raise SpeccError(f"{where}: a member of {member.size:,} bytes; {what} is at most "
                         f"{cap:,} bytes")
    stream = tar.extractfile(member)
    if stream is None:
        raise SpeccError(f"{where}: cannot be read from the archive")
    content = stream.read(cap + 1)
    if len(content) != member.size:
        raise tarfile.ReadError(f"{where}: holds {len(content):,} bytes, its header says "
                                f"{member.size:,}")
    return content


def _check_archive_end(tar: tarfile.TarFile, name: str) -> None:
    """Read the compressed stream to its end, past the tar's end-of-archive blocks: this checks
    the gzip (or bz2, xz) checksum and length, and that nothing but zero padding follows the
    last member (tarfile stops silently at a damaged header after the first)."""
    stream = tar.fileobj
    assert stream is not None
    stream.seek(tar.offset)
    padding = 0
    while chunk := stream.read(1 << 20):
        if chunk.count(0) != len(chunk):
            raise tarfile.ReadError(f"damaged data after byte {tar.offset:,} of the unpacked "
                                    "archive (a corrupt member header?)")
        padding += len(chunk)
        if tar.offset + padding > MAX_ARCHIVE_BYTES:
            raise tarfile.ReadError(f"unpacks to more than {MAX_ARCHIVE_BYTES:,} bytes")
    if padding < tarfile.BLOCKSIZE:
        raise tarfile.ReadError("the archive ends without its end-of-archive blocks")


def _image_location(path: PurePosixPath) -> tuple[str, str] | None:
    """(split, class) for `.../train/<class>/<file>` or `.../test/<class>/<file>`."""
    if path.suffix.lower() not in IMAGE_SUFFIXES or len(path.parts) < 3:
        return None
    split, label = path.parts[-3], path.parts[-2]
    return (split, label) if split in ("train", "test") else None


class _ImageCollector:
    """Decodes PNG and JPEG images one at a time into uint8 RGB, within the caps on file size,
    declared pixels and the data set's decoded bytes, and stacks them into a Dataset."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.arrays: dict[str, list[np.ndarray]] = {"train": [], "test": []}
        self.labels: dict[str, list[str]] = {"train": [], "test": []}
        self.shape: tuple[int, ...] | None = None
        self.decoded_bytes = 0

    @property
    def count(self) -> int:
        return len(self.labels["train"]) + len(self.labels["test"])

    def add(self, split: str, label: str, name: str, content: bytes) -> None:
        pixels = decode_image(content, name)
        if self.shape is None:
            self.shape = pixels.shape
        elif pixels.shape != self.shape:
            raise SpeccError(f"{name}: image is {pixels.shape[1]}x{pixels.shape[0]}, the others "
                             f"are {self.shape[1]}x{self.shape[0]}")
        self.decoded_bytes += pixels.nbytes
        if self.decoded_bytes > MAX_DATASET_BYTES:
            raise SpeccError(f"{name}: the images decode to more than {MAX_DATASET_BYTES:,} "
                             "bytes; more than specc holds in memory")
        self.arrays[split].append(pixels)
        self.labels[split].append(label)

    def dataset(self) -> Dataset:
        arrays, labels, source = self.arrays, self.labels, self.source
        if not arrays["train"] or not arrays["test"]:
            empty = "train" if not arrays["train"] else "test"
            raise SpeccError(f"{source}: no images under {empty}/<class>/; {HOW_TO_GET}")
        classes = tuple(sorted(set(labels["train"])))
        unknown = sorted(set(labels["test"]) - set(classes))
        if unknown:
            raise SpeccError(f"{source}: test classes {unknown} do not appear in train/")
        index = {label: i for i, label in enumerate(classes)}

        def stacked(split: str) -> tuple[np.ndarray, np.ndarray]:
            return np.stack(arrays[split]), np.array([index[x] for x in labels[split]],
                                                      dtype=np.int64)

        x_train, y_train = stacked("train")
        x_test, y_test = stacked("test")
        # Folders list images class by class; a fixed shuffle mixes the classes, as they are
        # in the (already shuffled) official batches.
        order_train = np.random.default_rng(0).permutation(len(y_train))
        order_test = np.random.default_rng(1).permutation(len(y_test))
        return Dataset(
            x_train[order_train], y_train[order_train], x_test[order_test], y_test[order_test],
            classes, source,
        )


def decode_image(content: bytes, name: str) -> np.ndarray:
    """A PNG or JPEG as uint8 (H, W, 3); its declared size checked before it is decoded, and
    16-bit greyscale scaled to 8 bits (Pillow's RGB conversion would clip it)."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # Pillow's own decompression-bomb check
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(content), formats=("PNG", "JPEG")) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise SpeccError(f"{name}: the image declares {width:,}x{height:,} pixels; "
                                     f"at most {MAX_IMAGE_PIXELS:,} pixels per image")
                return _rgb(image, name)
    except Image.DecompressionBombError as error:
        raise SpeccError(f"{name}: the image declares more than {MAX_IMAGE_PIXELS:,} pixels "
                         f"({error})") from None
    except UnidentifiedImageError:
        raise SpeccError(f"{name}: not a PNG or JPEG image (only PNG and JPEG are read)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise SpeccError(f"{name}: corrupt or unreadable image ({error}); PNG and JPEG are "
                         "read") from None


def _rgb(image: object, name: str) -> np.ndarray:
    from PIL import Image

    assert isinstance(image, Image.Image)
    if image.mode.startswith("I;16"):
        grey = (np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode in ("I", "F"):
        raise SpeccError(f"{name}: a {image.mode}-mode image (32-bit integer or float pixels); "
                         "save it as 8-bit or 16-bit PNG, or JPEG")
    return np.asarray(image.convert("RGB"), dtype=np.uint8)
