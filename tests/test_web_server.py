"""``mnist-digits serve`` as people run it: a real process on a free loopback port."""

from __future__ import annotations

import json
import signal
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from webhelp import ServerProcess, canvas_digit, checkpoint_or_skip, data_url, start_server

from mnist_digits.cli import main

LIMIT = 100_000  # --max-upload for this server: small, so over-limit bodies are cheap to send


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    running = start_server(checkpoint_or_skip(), log, "--max-upload", str(LIMIT))
    yield running
    running.stop(signal.SIGKILL)


def _post_json(url: str, payload: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _raw(server: ServerProcess, head: bytes, body: bytes = b"") -> bytes:
    """Send bytes on a fresh socket and return whatever the server answers (up to 64 KB)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and b'"detail"' in data:
                break
        return data


def test_page_and_prediction_over_http(server: ServerProcess) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=10) as resp:
        assert resp.status == 200 and b'id="draw-canvas"' in resp.read()
    status, body = _post_json(server.url + "/api/predict", {"image": data_url(canvas_digit(2))})
    assert status == 200 and body["digit"] == 2
    status, body = _post_json(server.url + "/api/predict", {"image": "%%%"})
    assert status == 400 and "base64" in body["detail"]


def test_declared_body_over_limit_is_refused_without_reading_it(server: ServerProcess) -> None:
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\n\r\n"
    )
    answer = _raw(server, head)  # not one byte of the 50 MB body is sent
    assert answer.startswith(b"HTTP/1.1 413") and b"upload limit" in answer


def test_chunked_body_over_limit_is_cut_off(server: ServerProcess) -> None:
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (20_000, b"1" * 20_000)
    answer = _raw(server, head, chunk * 6)  # 120 KB, no Content-Length
    assert answer.startswith(b"HTTP/1.1 413")


def test_graceful_shutdown_finishes_the_request_in_flight(server: ServerProcess) -> None:
    body = json.dumps({"image": data_url(canvas_digit(6))}).encode()
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head + body[:100])  # the request is now in flight ...
        with urllib.request.urlopen(server.url + "/api/health", timeout=10):
            pass  # ... and has been accepted: the server answered a later request
        server.proc.send_signal(signal.SIGTERM)
        sock.sendall(body[100:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["digit"] == 6
    # uvicorn shuts down cleanly, then re-raises the signal so that the exit status says why.
    assert server.proc.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Finished server process" in server.log.read_text()


def test_serve_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--checkpoint", "/nonexistent/run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mnist-digits: error:") and "/nonexistent/run" in err
    assert "\n" not in err
    assert main(["serve", "--workers", "0"]) == 2
    assert main(["serve", "--max-upload", "lots"]) == 2
