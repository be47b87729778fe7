"""Soak benchmark: minutes of mixed traffic against ``mnist-digits serve`` on 127.0.0.1.

Starts the server on a free loopback port, then runs, all at once and for ``--minutes``:

- drawings: 280x280 canvas PNGs sent as the page sends them, to ``/api/predict`` (2 clients);
- numbers: a written "2026" to ``/api/predict/number``;
- batches: 8 drawings in one ``/api/predict/batch`` request, about once a second;
- bad inputs: the hostile-image corpus of ``tests/hostile.py`` (bombs, lying headers, 16-bit
  and float images, plain-text PGM, truncated files, SVG ...), one after another;
- slow clients: a connection that sends half its headers, and one that stalls its upload,
  over and over (each must be cut off with a 408);
- health checks every 50 ms.

It reports errors (any 5xx, a refused or dropped connection, a wrong status for the input),
requests shed with 503 (the server's overload answer, counted apart), p50 and p99 of health
and of predictions, and the server's memory (RSS of all its processes) every ``--every``
seconds, with its growth after the first minute.

Usage (from the repository root; time it only on a quiet machine)::

    python benchmarks/soak.py --minutes 5 [--workers 2] [--checkpoint RUN_DIR] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the generators: imagegen, hostile, webhelp

import hostile  # noqa: E402
import imagegen  # noqa: E402
from load_bench import free_port, start_server  # noqa: E402
from webhelp import canvas_digit, data_url  # noqa: E402

SLOW_HEADER_S, BODY_S = 2.0, 3.0  # the server's deadlines here: slow clients cycle quickly


@dataclass
class Tally:
    """What every client saw, shared by the client threads (one lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, outcome: str) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.counts[f"{kind} {outcome}"] += 1

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.counts[f"{kind} error"] += 1
            if len(self.errors) < 50:
                self.errors.append(f"{kind}: {what}")


def start_soak_server(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    """``mnist-digits serve`` with short client deadlines, so slow clients are cut off soon."""
    deadlines = ("--header-timeout", str(SLOW_HEADER_S), "--body-timeout", str(BODY_S))
    return start_server(args.checkpoint, args.workers, port, deadlines)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def _multipart(field_name: str, files: list[bytes]) -> tuple[bytes, str]:
    boundary = "soakboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
        f'filename="f{i}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for i, data in enumerate(files)
    ]
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Client:
    """One keep-alive connection that reconnects after the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None, ctype: str) -> tuple[int, bytes]:
        for attempt in range(2):  # the server may have closed an idle keep-alive connection
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                headers = {"Content-Type": ctype} if body is not None else {}
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


Answer = tuple[int, bytes] | None


def _timed(
    client: Client, tally: Tally, kind: str, method: str, path: str,
    body: bytes | None = None, ctype: str = "application/json",
) -> Answer:  # fmt: skip
    start = time.perf_counter()
    try:
        status, data = client.request(method, path, body, ctype)
    except OSError as err:
        tally.error(kind, f"{type(err).__name__}: {err}")
        return None
    seconds = time.perf_counter() - start
    if status >= 500 and status != 503:
        tally.error(kind, f"{status} {data[:200]!r}")
    else:
        tally.record(kind, seconds, "shed" if status == 503 else str(status))
    return status, data


def drawings(port: int, tally: Tally, stop: threading.Event, seed: int) -> None:
    client, rng = Client(port), np.random.default_rng(seed)
    bodies = [json.dumps({"image": data_url(canvas_digit(d))}).encode() for d in range(10)]
    while not stop.is_set():
        digit = int(rng.integers(10))
        got = _timed(client, tally, "predict", "POST", "/api/predict", bodies[digit])
        if got and got[0] == 200 and json.loads(got[1])["digit"] != digit:
            tally.counts["predict misread"] += 1  # a reading, not a server error
        elif got and got[0] not in (200, 503):
            tally.error("predict", f"status {got[0]} for a drawing")
        stop.wait(0.02)


def numbers(port: int, tally: Tally, stop: threading.Event) -> None:
    client = Client(port)
    buf = io.BytesIO()
    imagegen.make_number_image("2026", seed=3, broken=False).save(buf, "PNG")
    body, ctype = _multipart("file", [buf.getvalue()])
    while not stop.is_set():
        got = _timed(client, tally, "number", "POST", "/api/predict/number", body, ctype)
        if got and got[0] not in (200, 503):
            tally.error("number", f"status {got[0]}")
        stop.wait(0.1)


def batches(port: int, tally: Tally, stop: threading.Event) -> None:
    client = Client(port)
    items = [{"image": data_url(canvas_digit(d))} for d in range(8)]
    body = json.dumps({"items": items}).encode()
    while not stop.is_set():
        got = _timed(client, tally, "batch", "POST", "/api/predict/batch", body)
        if got and got[0] not in (200, 503):
            tally.error("batch", f"status {got[0]}")
        stop.wait(1.0)


def bad_inputs(port: int, tally: Tally, stop: threading.Event) -> None:
    client, corpus = Client(port), hostile.corpus()
    i = 0
    while not stop.is_set():
        case = corpus[i % len(corpus)]
        i += 1
        route = "/api/predict/number" if case.route == "number" else "/api/predict"
        body, ctype = _multipart("file", [case.data])
        got = _timed(client, tally, "bad", "POST", route, body, ctype)
        if got is None or got[0] == 503:
            continue
        wanted = got[0] == 200 if case.expect == hostile.READ else 400 <= got[0] < 500
        if not wanted:
            tally.error("bad", f"{case.name}: status {got[0]}")
        stop.wait(0.2)


def slow_clients(port: int, tally: Tally, stop: threading.Event) -> None:
    """Alternately: half the headers, then nothing; and an upload that stalls."""
    heads = [
        b"POST /api/predict HTTP/1.1\r\nHost: soak\r\nContent-Ty",
        b"POST /api/predict HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        b"Content-Length: 9000000\r\n\r\n" + b'{"image": "' + b"A" * 4000,
    ]
    i = 0
    while not stop.is_set():
        head = heads[i % 2]
        i += 1
        start = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
                sock.sendall(head)
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
        except OSError as err:
            tally.error("slow", f"{type(err).__name__}: {err}")
            continue
        status = answer[9:12].decode(errors="replace")
        if status == "408":
            tally.record("slow", time.perf_counter() - start, "408")
        else:
            tally.error("slow", f"answered {answer[:80]!r}")


def health(port: int, tally: Tally, stop: threading.Event) -> None:
    client = Client(port)
    while not stop.is_set():
        got = _timed(client, tally, "health", "GET", "/api/health")
        if got and got[0] != 200:
            tally.error("health", f"status {got[0]}")
        stop.wait(0.05)


def soak(args: argparse.Namespace) -> dict[str, object]:
    port = free_port()
    proc = start_soak_server(args, port)
    tally, stop = Tally(), threading.Event()
    workers = [
        threading.Thread(target=drawings, args=(port, tally, stop, 1)),
        threading.Thread(target=drawings, args=(port, tally, stop, 2)),
        threading.Thread(target=numbers, args=(port, tally, stop)),
        threading.Thread(target=batches, args=(port, tally, stop)),
        threading.Thread(target=bad_inputs, args=(port, tally, stop)),
        threading.Thread(target=slow_clients, args=(port, tally, stop)),
        threading.Thread(target=health, args=(port, tally, stop)),
    ]
    rss: list[tuple[float, float]] = []
    start = time.monotonic()
    try:
        for thread in workers:
            thread.daemon = True
            thread.start()
        end = start + 60 * args.minutes
        while time.monotonic() < end:
            rss.append((time.monotonic() - start, rss_mb(proc.pid)))
            time.sleep(min(args.every, max(0.0, end - time.monotonic())))
        rss.append((time.monotonic() - start, rss_mb(proc.pid)))
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=20)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return summary(args, tally, rss)


def summary(
    args: argparse.Namespace, tally: Tally, rss: list[tuple[float, float]]
) -> dict[str, object]:
    pct = {
        kind: {"n": len(v), "p50_ms": 1000 * float(np.median(v)),
               "p99_ms": 1000 * float(np.percentile(v, 99))}
        for kind, v in sorted(tally.latency.items()) if v
    }  # fmt: skip
    settled = [mb for t, mb in rss if t >= min(60.0, 60 * args.minutes / 2)]
    growth = settled[-1] - settled[0] if len(settled) > 1 else 0.0
    return {
        "minutes": args.minutes,
        "workers": args.workers,
        "errors": sum(v for k, v in tally.counts.items() if k.endswith(" error")),
        "shed_503": sum(v for k, v in tally.counts.items() if k.endswith(" shed")),
        "counts": dict(sorted(tally.counts.items())),
        "latency": pct,
        "rss_mb": [(round(t, 1), round(mb, 1)) for t, mb in rss],
        "rss_growth_mb": round(growth, 1),
        "first_errors": tally.errors[:10],
        "loadavg": os.getloadavg()[0],
    }


def report(result: dict[str, object]) -> None:
    print(f"soak: {result['minutes']} min, {result['workers']} worker(s), "
          f"errors {result['errors']}, shed (503) {result['shed_503']}, "
          f"load average {result['loadavg']:.1f}")  # fmt: skip
    print("kind      requests   p50 ms   p99 ms")
    for kind, row in result["latency"].items():  # type: ignore[attr-defined]
        print(f"{kind:<8} {row['n']:>9}  {row['p50_ms']:>7.1f}  {row['p99_ms']:>7.1f}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in result["counts"].items()))  # type: ignore[attr-defined]
    curve = ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in result["rss_mb"])  # type: ignore[attr-defined]
    print(f"server RSS (MB): {curve}; growth after the first minute {result['rss_growth_mb']} MB")
    for line in result["first_errors"]:  # type: ignore[attr-defined]
        print(f"  error: {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--checkpoint", default=None, help="run folder or weights (default: shipped)"
    )
    parser.add_argument("--every", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args()
    if args.minutes <= 0 or args.every <= 0:
        parser.error("--minutes and --every must be positive")
    result = soak(args)
    report(result)
    if args.json:
        print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
