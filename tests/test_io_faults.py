"""OS errors the bad-data corpus cannot make as root: symbolic-link loops, permission denied,
and the download's size cap (served from a loopback HTTP server the test starts itself)."""

from __future__ import annotations

import errno
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from specc.cli import main
from specc.errors import SpeccError
from specc.train import data


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a"


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.mark.parametrize("argv", [
    ["validate", "{loop}"],
    ["build", "specs/lenet5.yaml", "--backend", "torch", "--out", "{loop}/build"],
    ["train", "specs/cifar_small.yaml", "--data", "{loop}", "--out", "{tmp}/runs"],
    ["eval", "specs/cifar_small.yaml", "--checkpoint", "{loop}"],
])
def test_a_symbolic_link_loop_is_one_line_exit_2(
    argv: list[str], loop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code = main([word.format(loop=loop, tmp=tmp_path) for word in argv])
    assert code == 2
    line = one_line_error(capsys)
    assert str(loop) in line and ("symbolic links" in line.lower()), line
    assert not (tmp_path / "runs").exists()


def test_permission_denied_is_one_line_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated: the tests run as root, whom chmod does not stop."""
    spec = tmp_path / "locked.yaml"
    spec.write_text("name: x\n")
    real_open = open

    def denying_open(file, *args, **kwargs):
        if str(file) == str(spec):
            raise PermissionError(errno.EACCES, "Permission denied", str(spec))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denying_open)
    monkeypatch.setattr(Path, "read_bytes", lambda self: denying_open(self).read())
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: denying_open(self).read())
    assert main(["validate", str(spec)]) == 2
    line = one_line_error(capsys)
    assert str(spec) in line and "permission denied" in line.lower(), line


class _Server(http.server.ThreadingHTTPServer):
    body_size = 0
    announce = True


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        self.send_response(200)
        if server.announce:
            self.send_header("Content-Length", str(server.body_size))
        self.end_headers()
        try:
            self.wfile.write(b"x" * server.body_size)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the cap is for

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(("announce", "expected"), [(True, "announces"),
                                                    (False, "sent more than")])
def test_the_download_is_capped_and_nothing_is_kept(
    announce: bool, expected: str, server: _Server, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 3 << 20)
    server.body_size, server.announce = 5 << 20, announce
    url = f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz"
    with pytest.raises(SpeccError) as caught:
        data.download_cifar10(tmp_path / "cache", url)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert list((tmp_path / "cache").iterdir()) == []  # no partial file


def test_a_download_within_the_cap_is_checked_by_its_md5(
    server: _Server, tmp_path: Path,
) -> None:
    server.body_size = 1000
    url = f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz"
    with pytest.raises(SpeccError) as caught:
        data.download_cifar10(tmp_path / "cache", url)
    assert "md5" in str(caught.value)
    assert list((tmp_path / "cache").iterdir()) == []
