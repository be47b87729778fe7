"""``mnist-digits serve`` as people run it: a real process on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from webhelp import SRC, ServerProcess, canvas_digit, checkpoint_or_skip, data_url, start_server

from mnist_digits.cli import main

GRACEFUL_SECONDS = 5  # web.server.GRACEFUL_SECONDS: what `serve` gives requests in flight

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


# --------------------------------------------------------------------------------------------
# Slow and greedy clients, disconnects, shutdown, a busy port, several workers (issue 13)

HEADER_S, BODY_S, CAP = 1.0, 2.0, 12  # small limits, so each check takes a second or two


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("guarded") / "serve.log"
    flags = ["--header-timeout", str(HEADER_S), "--body-timeout", str(BODY_S)]
    flags += ["--keep-alive", "1", "--max-connections", str(CAP), "--log-level", "debug"]
    running = start_server(checkpoint_or_skip(), log, *flags)
    yield running
    running.stop(signal.SIGKILL)


def _port(server: ServerProcess) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _answer(sock: socket.socket, limit: float = 10) -> tuple[bytes, float]:
    """Everything the server sends until it closes (at most ``limit`` s) and how long it took."""
    sock.settimeout(limit)
    start, data = time.monotonic(), b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    return data, time.monotonic() - start


def _json_error(answer: bytes, status: int) -> str:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), answer[:300]
    assert b"content-type: application/json" in head.lower()
    detail = json.loads(body)["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


def _health(server: ServerProcess) -> int:
    with urllib.request.urlopen(server.url + "/api/health", timeout=5) as resp:
        return int(resp.status)


def test_slow_headers_get_408_and_the_server_stays_healthy(guarded: ServerProcess) -> None:
    slow = []
    for _ in range(CAP - 2):  # a bounded slowloris: partial headers, then nothing
        sock = socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10)
        sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Ty")
        slow.append(sock)
    assert _health(guarded) == 200  # answered while they hang
    for sock in slow:
        answer, took = _answer(sock)
        sock.close()
        assert "headers did not arrive" in _json_error(answer, 408)
        assert took < HEADER_S + 2
    idle = socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10)
    answer, took = _answer(idle)  # connected, never sent a byte: closed quietly
    assert answer == b"" and took < HEADER_S + 2
    idle.close()


def test_a_stalled_upload_gets_408(guarded: ServerProcess) -> None:
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 9000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as sock:
        sock.sendall(head + b'{"image": "' + b"A" * 5000)  # 9 MB promised, 5 KB sent
        answer, took = _answer(sock)
    assert "body did not arrive within 2 s" in _json_error(answer, 408)
    assert BODY_S - 0.5 < took < BODY_S + 2


def test_connections_over_the_cap_get_503_at_once(guarded: ServerProcess) -> None:
    held = [socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) for _ in range(CAP)]
    try:
        time.sleep(0.2)  # all of them accepted
        with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as extra:
            extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer, took = _answer(extra)
        assert "too many open connections" in _json_error(answer, 503)
        assert b"retry-after: 1" in answer.lower() and took < 1.5
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert _health(guarded) == 200


def test_protocol_errors_are_json_with_security_headers(guarded: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer, _ = _answer(sock)
    assert "HTTP/1.1" in _json_error(answer, 400)
    assert b"x-content-type-options: nosniff" in answer.lower()
    with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 100_000 + b"\r\n")
        answer, _ = _answer(sock)
    assert "headers are over" in _json_error(answer, 431)


def test_a_client_disconnect_is_one_debug_line(guarded: ServerProcess) -> None:
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
        b"boundary=b\r\nContent-Length: 500000\r\n\r\n"
    )
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as sock:
            sock.sendall(head + part + b"\x89PNG" + b"0" * 20_000)
            time.sleep(0.2)  # the upload is being read: then the client goes away
    time.sleep(0.5)
    assert _health(guarded) == 200
    log = guarded.log.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
    assert log.count("went away before sending all of POST /api/predict") == 3


def test_sigterm_during_a_slow_upload_is_503_not_500(tmp_path: Path) -> None:
    server = start_server(checkpoint_or_skip(), tmp_path / "serve.log")
    head = (
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    try:
        with socket.create_connection(("127.0.0.1", _port(server)), timeout=20) as sock:
            sock.sendall(head + b'{"image": "')  # ... and the rest never comes
            assert _health(server) == 200  # the upload is in flight
            server.proc.send_signal(signal.SIGTERM)
            answer, took = _answer(sock, limit=20)
        assert "shutting down" in _json_error(answer, 503)
        assert took < GRACEFUL_SECONDS + 3  # answered when the grace period ran out
        assert server.proc.wait(timeout=15) in (0, -signal.SIGTERM)
        assert "Traceback" not in server.log.read_text()
    finally:
        server.stop(signal.SIGKILL)


def test_a_busy_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=str(SRC))
        done = subprocess.run(
            [sys.executable, "-m", "mnist_digits", "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines == [f"mnist-digits: error: port {port} is in use on 127.0.0.1; "
                     "stop what is using it or choose another --port"]  # fmt: skip
    assert "serving" not in done.stderr


def test_with_two_workers_the_parent_loads_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import mnist_digits.web.server as web_server
    from mnist_digits.predict import Predictor
    from mnist_digits.web.settings import Settings

    for name in Settings().to_env():  # serve exports the settings for its workers
        monkeypatch.setenv(name, "")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parent process loaded a model")

    ran: dict[str, object] = {}

    class Supervisor:  # stands in for uvicorn's: records what it would have started
        def __init__(self, config: object, sockets: list[socket.socket]) -> None:
            ran.update(config=config, sockets=sockets)

        def run(self) -> None:
            ran["ran"] = True

    monkeypatch.setattr(Predictor, "from_checkpoint", classmethod(refuse))
    monkeypatch.setattr(web_server, "Multiprocess", Supervisor)
    # The model is checked in a child process (a fresh interpreter, without this patch).
    assert main(["serve", "--workers", "2", "--port", "0"]) == 0
    config = ran["config"]
    assert ran["ran"] and config.workers == 2  # type: ignore[attr-defined]
    assert config.app == "mnist_digits.web.app:app_from_env"  # type: ignore[attr-defined]
    for sock in ran["sockets"]:  # type: ignore[attr-defined]
        sock.close()


def test_two_workers_serve(tmp_path: Path) -> None:
    server = start_server(checkpoint_or_skip(), tmp_path / "serve.log", "--workers", "2")
    try:
        children = [
            p for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent(p) == server.proc.pid
        ]  # fmt: skip
        serving = [p for p in children if "libtorch" in _maps(p)]
        assert len(serving) == 2, [p.name for p in children]  # each worker holds the model
        assert all(_health(server) == 200 for _ in range(4))
    finally:
        server.stop(signal.SIGTERM)


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _maps(proc: Path) -> str:
    try:
        return (proc / "maps").read_text()
    except OSError:
        return ""
