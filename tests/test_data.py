"""Data loading: both layouts, folder and archive, the cache, the download, and every error."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from train_support import (
    CLASSES,
    separable_images,
    tar_folder,
    write_image_folder,
    write_official_archive,
    write_official_folder,
)

from specc.errors import SpeccError
from specc.train import data as data_module
from specc.train.data import load_dataset

pytestmark = pytest.mark.usefixtures("isolated_cache")


def _sorted_pairs(images: np.ndarray, labels: np.ndarray) -> list[tuple[int, bytes]]:
    return sorted(zip(labels.tolist(), (image.tobytes() for image in images), strict=True))


def test_image_folder_and_its_archive_decode_to_the_same_arrays(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "pngs", train=40, test=20)
    from_folder = load_dataset(folder)
    archive = tar_folder(folder, tmp_path / "pngs.tar.gz", "pngs")
    from_archive = load_dataset(archive)
    assert from_folder.classes == CLASSES
    assert from_folder.x_train.shape == (40, 8, 8, 3) and from_folder.x_train.dtype == np.uint8
    assert from_folder.x_test.shape == (20, 8, 8, 3)
    expected_images, expected_labels = separable_images(40)
    assert _sorted_pairs(from_folder.x_train, from_folder.y_train) == _sorted_pairs(
        expected_images, expected_labels)
    for loaded in (from_folder, from_archive):
        assert _sorted_pairs(loaded.x_test, loaded.y_test) == _sorted_pairs(
            from_folder.x_test, from_folder.y_test)
    # subsets from --limit-train hold every class, though folders list images class by class
    assert set(from_folder.limited(8, 8).y_train.tolist()) == {0, 1, 2, 3}


def test_jpeg_images_are_read(tmp_path: Path) -> None:
    dataset = load_dataset(write_image_folder(tmp_path / "jpgs", 20, 8, suffix=".jpg"))
    assert dataset.x_train.shape == (20, 8, 8, 3)


@pytest.mark.parametrize("layout", ["archive", "folder"])
def test_official_release_layout(tmp_path: Path, layout: str) -> None:
    source = (write_official_archive(tmp_path / "cifar-10-python.tar.gz") if layout == "archive"
              else write_official_folder(tmp_path / "cifar-10-batches-py"))
    dataset = load_dataset(source)
    assert dataset.classes == CLASSES
    assert dataset.x_train.shape == (60, 32, 32, 3) and dataset.x_test.shape == (12, 32, 32, 3)
    first_images, first_labels = separable_images(12, 32, 0)  # data_batch_1, pixels as HWC
    np.testing.assert_array_equal(dataset.x_train[:12], first_images)
    np.testing.assert_array_equal(dataset.y_train[:12], first_labels)


def test_second_load_comes_from_the_decoded_cache(tmp_path: Path, isolated_cache: Path) -> None:
    archive = write_official_archive(tmp_path / "cifar-10-python.tar.gz")
    first = load_dataset(archive)
    cached = list((isolated_cache / "decoded").glob("*.npz"))
    assert len(cached) == 1
    # The cache, not the archive, serves the second load: replace the archive's bytes with
    # garbage of the same size and mtime, which decoding would reject.
    stat = archive.stat()
    archive.write_bytes(b"\0" * stat.st_size)
    import os

    os.utime(archive, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = load_dataset(archive)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)


def test_default_source_is_found_in_the_cache_folder(isolated_cache: Path) -> None:
    write_official_folder(isolated_cache / "cifar-10-batches-py")
    assert load_dataset().x_train.shape == (60, 32, 32, 3)


def test_no_data_anywhere_says_where_it_looked_and_how_to_get_it(isolated_cache: Path) -> None:
    with pytest.raises(SpeccError) as caught:
        load_dataset()
    message = str(caught.value)
    assert str(isolated_cache) in message and "--data" in message
    assert "downloading http://127.0.0.1:9/" in message
    assert not list(isolated_cache.glob("*.part"))


def test_missing_data_path(tmp_path: Path) -> None:
    with pytest.raises(SpeccError, match="no data at .*nowhere: no such file"):
        load_dataset(tmp_path / "nowhere")


def test_truncated_archive_is_named(tmp_path: Path) -> None:
    archive = write_official_archive(tmp_path / "cifar-10-python.tar.gz", per_batch=200)
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2])
    with pytest.raises(SpeccError, match=r"cifar-10-python\.tar\.gz: corrupt or truncated archive"):
        load_dataset(archive)


def test_corrupt_image_is_named(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "pngs", train=12, test=4)
    broken = min((folder / "train" / "leaf").iterdir())
    broken.write_bytes(broken.read_bytes()[:20])
    with pytest.raises(SpeccError) as caught:
        load_dataset(folder)
    assert str(broken) in str(caught.value) and "corrupt" in str(caught.value)
    archive = tar_folder(folder, tmp_path / "pngs.tar.gz", "pngs")
    with pytest.raises(SpeccError, match=rf"pngs\.tar\.gz:pngs/train/leaf/{broken.name}: corrupt"):
        load_dataset(archive)


def test_a_folder_that_is_not_a_data_set(tmp_path: Path) -> None:
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "notes.txt").write_text("hello")
    with pytest.raises(SpeccError, match="neither the official CIFAR-10 folder"):
        load_dataset(tmp_path / "random")


def test_pickles_cannot_run_code(tmp_path: Path) -> None:
    folder = write_official_folder(tmp_path / "cifar-10-batches-py")
    (folder / "data_batch_1").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(SpeccError, match="data_batch_1: corrupt CIFAR-10 batch.*refusing"):
        load_dataset(folder)


@pytest.fixture
def served_archive(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A fake official archive served by http.server on 127.0.0.1."""
    archive = write_official_archive(tmp_path / "served" / "cifar-10-python.tar.gz")
    content = archive.read_bytes()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(archive.parent), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz", content
    finally:
        server.shutdown()
        server.server_close()


def test_download_verifies_the_md5(served_archive: tuple[str, bytes], isolated_cache: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, content = served_archive
    monkeypatch.setenv("SPECC_CIFAR10_URL", url)
    monkeypatch.setattr(data_module, "CIFAR10_MD5", hashlib.md5(content).hexdigest())
    dataset = load_dataset()
    assert dataset.x_train.shape == (60, 32, 32, 3)
    assert (isolated_cache / "cifar-10-python.tar.gz").read_bytes() == content


def test_download_with_a_wrong_md5_keeps_nothing(served_archive: tuple[str, bytes],
                                                 isolated_cache: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = served_archive
    monkeypatch.setenv("SPECC_CIFAR10_URL", url)
    with pytest.raises(SpeccError, match=f"md5 is [0-9a-f]{{32}}, not {data_module.CIFAR10_MD5}"):
        load_dataset()
    assert [p.name for p in isolated_cache.iterdir()] == []
