"""Load benchmark: ``POST /api/predict`` with a 280x280 canvas-export PNG, driven by wrk.

Starts ``mnist-digits serve`` on a free loopback port (once per worker count asked for), warms
it up, runs Debian's ``wrk`` for a bounded time with a fixed number of connections, and prints
requests/s, p50/p99 latency and errors. Only 127.0.0.1 is ever loaded.

On a shared machine requests/s depend on the neighbours, so it also prints the server's CPU
time per request (all its processes, from /proc), the load average, and the CPU-bound
ceiling that CPU time implies when the server has every core to itself.

Usage (from the repository root)::

    python benchmarks/load_bench.py --checkpoint RUN_DIR --workers 1,2 --duration 10

The request is what the drawing page sends: JSON ``{"image": "data:image/png;base64,..."}``
holding a 280x280 transparent PNG with a dark 18 px stroke (a drawn 3).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
LUA = HERE / "post_image.lua"
SIDE = 280  # the page's logical canvas, px
PEN = 18  # the page's brush width at that size, px
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def canvas_png() -> bytes:
    """A 280x280 RGBA PNG as the page exports it: a dark drawn 3 on a transparent canvas."""
    img = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    ink = (20, 24, 38, 255)
    top = [(95, 80), (130, 58), (175, 68), (185, 100), (165, 128), (135, 138)]
    bottom = [(135, 138), (175, 150), (192, 185), (175, 220), (130, 230), (92, 210)]
    for stroke in (top, bottom):
        draw.line(stroke, fill=ink, width=PEN, joint="curve")
        for x, y in (stroke[0], stroke[-1]):  # round caps, as the canvas draws them
            draw.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=ink)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    checkpoint: str | None, workers: int, port: int, extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """``mnist-digits serve`` on 127.0.0.1:port (plus ``extra`` flags), ready when this returns.

    The soak benchmark starts its server here too.
    """
    cmd = [sys.executable, "-m", "mnist_digits", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--no-access-log", "--log-level", "warning", *extra]
    cmd += ["--checkpoint", checkpoint] if checkpoint else []
    env = dict(os.environ)
    src = str(HERE.parent / "src")  # works from a source checkout without an install
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 120  # torch import + model load, slower on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    sys.exit("the server did not become healthy within 120 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Ask for a graceful shutdown (SIGINT, as Ctrl-C), then insist."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and all its descendants (Linux /proc).

    The machine may be shared: requests/s then depend on the neighbours, but CPU seconds per
    request do not, so 2 cores / (CPU per request) bounds what an idle 2-core machine serves.
    """
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        child = int(stat.parent.name)
        parents[child], ticks[child] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grew = {pid}, True
    while grew:
        found = {c for c, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, body: Path, duration: int, connections: int, threads: int) -> str:
    """wrk's report; bounded by ``duration`` seconds and a 2 s per-request timeout."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "2s"]
    cmd += ["--latency", "-s", str(LUA), url, "--", str(body)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, check=True)
    return out.stdout


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse_wrk(report: str) -> dict[str, float]:
    """Requests, requests/s, p50/p90/p99 (ms) and errors from wrk's text report."""
    found = {
        "requests": float(re.search(r"(\d+) requests in", report).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1)),  # type: ignore[union-attr]
    }
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", report, re.MULTILINE)
        found[f"p{pct}_ms"] = _ms(match.group(1)) if match else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    found["errors"] = float(non2xx.group(1) if non2xx else 0) + (
        sum(float(n) for n in sockets.groups()) if sockets else 0.0
    )
    return found


def bench(args: argparse.Namespace, workers: int, body: Path) -> dict[str, float]:
    port = free_port()
    proc = start_server(args.checkpoint, workers, port)
    try:
        url = f"http://127.0.0.1:{port}"
        run_wrk(url, body, args.warmup, args.connections, args.threads)  # JIT caches, pools
        cpu = tree_cpu_seconds(proc.pid)
        result = parse_wrk(run_wrk(url, body, args.duration, args.connections, args.threads))
        cpu = tree_cpu_seconds(proc.pid) - cpu
    finally:
        stop_server(proc)
    cpu_ms = 1000 * cpu / max(result["requests"], 1)
    load = os.getloadavg()[0]  # > the core count means neighbours were competing for the CPU
    return {"workers": float(workers), **result, "server_cpu_ms": cpu_ms, "loadavg": load}


def report(args: argparse.Namespace, results: list[dict[str, float]]) -> None:
    """A table; the last column is the CPU-bound ceiling if the server had every core alone."""
    cores = os.cpu_count() or 1
    print(f"POST /api/predict, 280x280 canvas PNG, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s on 127.0.0.1, {cores} CPUs")  # fmt: skip
    print("workers  requests  req/s   p50 ms  p90 ms  p99 ms  errors  CPU ms/req  load  ceiling/s")
    for r in results:
        if args.json:
            print(json.dumps(r))
        ceiling = cores * 1000 / r["server_cpu_ms"] if r["server_cpu_ms"] else float("nan")
        print(f"{r['workers']:>7.0f}  {r['requests']:>8.0f}  {r['rps']:>6.1f}  {r['p50_ms']:>6.1f}"
              f"  {r['p90_ms']:>6.1f}  {r['p99_ms']:>6.1f}  {r['errors']:>6.0f}"
              f"  {r['server_cpu_ms']:>10.2f}  {r['loadavg']:>4.1f}  {ceiling:>9.0f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint", default=None, help="run folder or weights (default: shipped)"
    )
    parser.add_argument("--workers", default="1,2", help="server worker counts to try, e.g. 1,2")
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=8, help="open connections")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (1 leaves the cores to the server)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("load_bench: wrk is not installed; run: apt-get install -y wrk")
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "body.json"
        url = "data:image/png;base64," + base64.b64encode(canvas_png()).decode()
        body.write_text(json.dumps({"image": url}))
        results = [bench(args, n, body) for n in counts]
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
