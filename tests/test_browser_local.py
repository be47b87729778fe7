"""Reading digits in the browser with no server: the JavaScript port of ``to_mnist`` against
the Python one, the static site from ``file://`` with the network off, the served page's
switch, and the cold and warm latency measured in headless Chromium.

The static site is built once by the CLI (``mnist-digits site build``) and needs the
vendored onnxruntime-web (``scripts/vendor-js.sh``, run by ``make setup``).
"""

from __future__ import annotations

import base64
import functools
import http.server
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import framegen
import imagegen
import numpy as np
import pytest
from components import missing
from PIL import Image, ImageDraw
from test_web_browser import (  # the browser and the served app, shared with the page's tests
    _canvas_box,
    _digit_paths,
    _mouse_paths,
    _reset,
    _settle_ms,
    _settled,
    _watch_policy,
    browser,  # noqa: F401  (a fixture)
    site,  # noqa: F401  (a fixture)
)
from webhelp import SIDE, canvas_digit, png_bytes

from mnist_digits.predict import SHIPPED_ONNX, Predictor

PENS = (4, 10, 18, 28)  # logical px on the 280 px canvas: thin (thickened) to very bold
# (height as a share of the side, centre x, centre y, slant in degrees)
PLACES = ((0.62, 0.5, 0.5, 0), (0.35, 0.3, 0.32, 8), (0.88, 0.5, 0.5, -6), (0.5, 0.66, 0.6, 14))
INK = "#141826"  # the page's ink colour (app.js)

DRAW_AND_READ = f"""async (specs) => {{
  const out = [];
  for (const spec of specs) {{
    const c = document.createElement("canvas");
    c.width = c.height = {SIDE};
    const x = c.getContext("2d");
    x.lineCap = "round"; x.lineJoin = "round"; x.lineWidth = spec.pen;
    x.strokeStyle = x.fillStyle = "{INK}";
    for (const s of spec.strokes) {{
      x.beginPath(); x.moveTo(s[0][0], s[0][1]);
      for (const p of s.slice(1)) x.lineTo(p[0], p[1]);
      x.stroke();
    }}
    const a = await window.mnistLocal.read(c);
    const png = c.toDataURL("image/png");
    out.push({{ png, input28: a.input28, digit: a.digit, status: a.status }});
  }}
  return out;
}}"""

DECODE_AND_READ = """async (pngs) => {
  const out = [];
  for (const b64 of pngs) {
    const blob = await (await fetch("data:image/png;base64," + b64)).blob();
    const a = await window.mnistLocal.read(await createImageBitmap(blob));
    out.push({ input28: a.input28, digit: a.digit, status: a.status });
  }
  return out;
}"""


@pytest.fixture(scope="module")
def static_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mnist-digits site build OUT`` with the shipped model, through the CLI."""
    from mnist_digits.web.site import VENDOR

    if not (VENDOR / "VERSION").is_file():
        missing(f"onnxruntime-web is not vendored in {VENDOR}: run `make setup`")
    out = tmp_path_factory.mktemp("site") / "digits"
    cmd = [sys.executable, "-m", "mnist_digits", "site", "build", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (out / "index.html").is_file() and (out / "vendor" / "ort-wasm.js").is_file()
    return out


@pytest.fixture(scope="module")
def reader() -> Predictor:
    """The server's reader of the same model the site carries."""
    return Predictor.from_checkpoint(SHIPPED_ONNX)


@pytest.fixture
def offline(browser: Any, static_site: Path) -> Iterator[tuple[Any, list[str]]]:  # noqa: F811
    """The static site from file:// with the network off; every non-file request is refused
    and recorded."""
    context = browser.new_context(viewport={"width": 1200, "height": 860}, offline=True)
    asked: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            asked.append(url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    errors: list[str] = []  # a file the page names but the site lacks, a script that throws
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto((static_site / "index.html").as_uri())
    tab.wait_for_selector("#bars li")
    yield tab, asked
    context.close()
    assert errors == []


def _strokes(digit: int, height: float, cx: float, cy: float, slant: float) -> list[Any]:
    """The digit's pen strokes in canvas pixels, slanted by ``slant`` degrees."""
    h = height * SIDE
    w = 0.65 * h
    shear = np.tan(np.radians(slant))
    return [
        [[cx * SIDE + (px - 0.5) * w - shear * (py - 0.5) * h, cy * SIDE + (py - 0.5) * h]
         for px, py in stroke]
        for stroke in imagegen.digit_strokes(digit)
    ]  # fmt: skip


def _compare(reader: Predictor, pngs: list[bytes], seen: list[dict[str, Any]]) -> tuple[Any, Any]:
    """Per image: mean |browser - server| grey level of the 28x28 input, and answers agreeing
    (the digit and the status, so both judge by the same threshold, low-resolution ones too)."""
    ours = reader.predict(pngs)
    pairs = list(zip(seen, ours, strict=True))
    gaps = np.array([np.abs(np.array(s["input28"], float) - p.input28).mean() for s, p in pairs])
    same = np.array([(s["digit"], s["status"]) == (p.digit, p.status) for s, p in pairs])
    return gaps, same


def test_browser_preprocessing_matches_the_server(
    offline: tuple[Any, list[str]], reader: Predictor, capsys: pytest.CaptureFixture[str]
) -> None:
    tab, _ = offline
    specs = [
        {"pen": pen, "strokes": _strokes(d, *place)}
        for d in range(10)
        for pen in PENS
        for place in PLACES
    ]
    drawn = tab.evaluate(DRAW_AND_READ, specs)  # 160 drawings made and read in Chromium
    pngs = [base64.b64decode(item["png"].split(",", 1)[1]) for item in drawn]
    gaps, same = _compare(reader, pngs, drawn)
    # Uploads: the tests' own canvas PNGs and dressed images (paper, photos, grey, colour).
    uploads = [canvas_digit(d) for d in range(10)]
    uploads += [png_bytes(img) for img, _, _ in imagegen.make_user_images(20, seed=15)]
    # Already in MNIST's format (as to_mnist leaves a digit), read as they are on both sides,
    # and the same moved 3 px off centre, which takes the whole path.
    formatted = [reader.preprocess(img).image28 for img, _, _ in imagegen.make_user_images(3, 17)]
    uploads += [png_bytes(Image.fromarray(a)) for a in formatted]
    uploads += [png_bytes(Image.fromarray(np.roll(a, 3, axis=1))) for a in formatted]
    # Small ones (a 28 px MNIST-style digit, a 16 px scan), whose ink map is upscaled first.
    smalls = imagegen.make_user_images(10, seed=16)
    uploads += [
        png_bytes(img.resize((side, side), Image.Resampling.BOX))
        for (img, _, _), side in zip(smalls, [28, 16] * 5, strict=True)
    ]
    # Tight crops, whose ink reaches the edges: as cropped, 8x8 blocks like a coarse scan,
    # and enlarged 4x (the exact-paper rule of ink._paper).
    tights = [
        Image.fromarray(imagegen.tight_crop(255 - reader.preprocess(img).image28))
        for img, _, _ in imagegen.make_user_images(4, seed=18)
    ]
    tights += [t.resize((8, 8), Image.Resampling.BOX) for t in tights[:4]]
    tights += [t.resize((4 * t.width, 4 * t.height), Image.Resampling.BICUBIC) for t in tights[:4]]
    # Block scans, one with most of its border ink (the border-mode rule of ink._paper).
    tights += [Image.fromarray(imagegen.block_scan(np.asarray(t), 4)) for t in tights[:4]]
    tights += [Image.fromarray(imagegen.BOLD_SCAN)]
    tights += [Image.fromarray(imagegen.thin_one(3))]  # noise from pairs down the columns
    # A box round the digit, the page's edge beside it (images.frames), a note on a desk.
    tights += [framegen.boxed_digit(d, d) for d in (2, 7)]
    edges = ((3, 3, "left"), (0, 110, "bottom"))  # digit, seed, where the table is
    tights += [framegen.page_edge_digit(d, seed, side=side) for d, seed, side in edges]
    tights += [framegen.page_edge_digit(3, 3).resize((100, 100))]  # under 128 px: no table edge
    tights += [framegen.note_on_desk(d, d, angle=10.0 * (d % 2)) for d in (5, 6)]  # images.page
    tights += [framegen.note_on_desk(1, 1, desk=240.0, angle=6.0, yellow=True)]  # writing merged
    # Notes turned over ~15 degrees (digit, angle, desk): the desk inside the box round the
    # corners is painted over; at 45 degrees the corners are the extremes along the axes.
    turned = ((4, 25.0, 60.0), (8, -33.0, 60.0), (2, 28.0, 170.0), (6, 45.0, 60.0))
    tights += [framegen.note_on_desk(d, d, desk=desk, angle=a) for d, a, desk in turned]
    # The desk in the corners past a page larger than the photo (frames._is_desk).
    tights += [framegen.turned_page_digit(d, d, angle=a) for d, a in ((3, 12.0), (9, -20.0))]
    # Its box over 1,024 px: painted after the reduction to working pixels.
    tights += [framegen.note_on_desk(7, 7, angle=30.0).resize((1400, 1400))]
    # A solid block at the edge with grey writing in it: no page, since a page without holes
    # needs desk all round (page.page_box); read as a page, its 28x28 would differ by ~110.
    block = Image.new("L", (160, 160), 255)
    ImageDraw.Draw(block).rectangle((0, 30, 99, 129), fill=0)
    ImageDraw.Draw(block).line([(40, 50), (60, 110)], fill=90, width=6)
    tights += [block]
    tights += [framegen.ruled_digit(d, d, squared=d == 9) for d in (0, 7, 9)]  # images.lines
    # Small scans enlarged 8x: a large box of little detail (core.verdict.LOW_DETAIL).
    tights += [
        img.resize((8, 8), Image.Resampling.BOX).resize((64, 64), Image.Resampling.BICUBIC)
        for img, _, _ in smalls[:4]
    ]
    uploads += [png_bytes(t) for t in tights]
    sent = [base64.b64encode(png).decode() for png in uploads]
    up_gaps, up_same = _compare(reader, uploads, tab.evaluate(DECODE_AND_READ, sent))
    with capsys.disabled():
        print(
            f"\nparity, {len(gaps)} canvas drawings: mean |browser - server| "
            f"{gaps.mean():.3f} grey levels (worst {gaps.max():.2f}), digits agree "
            f"{same.mean():.1%}; {len(up_gaps)} uploads: {up_gaps.mean():.3f} "
            f"(worst {up_gaps.max():.2f}), digits agree {up_same.mean():.1%}"
        )
    assert gaps.mean() <= 1.0 and same.mean() >= 0.99
    assert up_gaps.mean() <= 1.0 and up_same.mean() >= 0.99
    small = slice(-len(smalls) - len(tights), None)  # the small ones and the tight crops
    assert up_gaps[small].mean() <= 1.0 and up_same[small].all()
    as_is = slice(-len(smalls) - len(tights) - 6, -len(smalls) - len(tights) - 3)
    assert (up_gaps[as_is] == 0).all(), "an MNIST-format upload is read as it is on both sides"


def test_static_site_reads_from_file_with_the_network_off(
    offline: tuple[Any, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    tab, asked = offline
    assert tab.is_checked("#local-read") and tab.is_disabled("#local-read")
    assert not tab.is_visible("label[for=mode-number]")  # number mode is the server's
    box = _canvas_box(tab)
    read, settle = [], []
    for i in range(20):
        digit = i % 10
        _reset(tab)
        _mouse_paths(tab, _digit_paths(digit, box, cx=0.42 + 0.16 * (i // 10), size=0.62))
        read.append(_settled(tab) == str(digit))
        settle.append(_settle_ms(tab))
    stats = tab.evaluate("window.mnistLocal.stats")
    card = tab.text_content("#local-card") or ""
    with capsys.disabled():
        print(
            f"\nstatic site from file://, network off: {sum(read)}/20 drawn digits read; "
            f"runtime + model loaded in {stats['loadMs']:.0f} ms; per read (warm) median "
            f"{statistics.median(stats['reads']):.1f} ms; pen up to answer shown median "
            f"{statistics.median(settle)} ms, worst {max(settle)} ms"
        )
    assert sum(read) == 20
    assert asked == []  # not one request left the page
    assert card.startswith("Reading in this browser: cnn-small")


def test_cold_start_from_file(
    browser: Any,  # noqa: F811
    static_site: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Page load to the first answer, for a drawing that is waiting as the page opens."""
    context = browser.new_context(offline=True)
    tab = context.new_page()
    tab.goto((static_site / "index.html").as_uri())
    spec = [{"pen": 18, "strokes": _strokes(4, 0.62, 0.5, 0.5, 0)}]
    timed = DRAW_AND_READ.replace("return out;", "return [out[0], performance.now()];")
    answer, cold_ms = tab.evaluate(timed, spec)  # performance.now(): ms since navigation
    context.close()
    with capsys.disabled():
        print(f"\ncold start from file://: page load to first answer {cold_ms:.0f} ms")
    assert answer["digit"] == 4


@pytest.fixture
def static_host(static_site: Path) -> Iterator[str]:
    """The built site on a plain static file server (Python's http.server), nothing else."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(static_site))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
        httpd.shutdown()


def test_static_site_on_a_static_host(
    browser: Any,  # noqa: F811
    static_host: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Over http the page fetches model.onnx and the .wasm themselves, not their base64."""
    context = browser.new_context()
    tab = context.new_page()
    asked: list[str] = []
    tab.on("request", lambda r: asked.append(r.url))
    tab.goto(static_host)
    spec = [{"pen": 18, "strokes": _strokes(6, 0.62, 0.5, 0.5, 0)}]
    timed = DRAW_AND_READ.replace("return out;", "return [out[0], performance.now()];")
    answer, cold_ms = tab.evaluate(timed, spec)
    context.close()
    with capsys.disabled():
        print(f"\nstatic site over http: page load to first answer {cold_ms:.0f} ms")
    assert answer["digit"] == 6
    assert all(url.startswith(static_host) for url in asked)
    names = {url.rsplit("/", 1)[-1] for url in asked}
    assert {"model.onnx", "ort-wasm-simd-threaded.wasm"} <= names
    assert not names & {"model.js", "ort-wasm.js"}


def test_served_page_switch(browser: Any, site: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    tab = context.new_page()
    refused = _watch_policy(tab)
    api: list[str] = []
    tab.on("request", lambda r: api.append(r.url) if "/api/predict" in r.url else None)
    tab.goto(site)
    tab.wait_for_selector("#bars li")
    assert not tab.is_checked("#local-read")  # off by default when served
    box = _canvas_box(tab)
    _mouse_paths(tab, _digit_paths(7, box))
    assert _settled(tab) == "7" and api  # the server read it
    tab.click("label[for=local-read]")
    tab.wait_for_function("() => window.mnistLocal.stats.loadMs !== null", timeout=30_000)
    load_ms = tab.evaluate("window.mnistLocal.stats.loadMs")
    served = len(api)
    for digit in (3, 5, 8):
        _reset(tab)
        _mouse_paths(tab, _digit_paths(digit, box))
        assert _settled(tab) == str(digit)
    assert len(api) == served  # the browser read them itself
    card = tab.text_content("#local-card") or ""
    assert tab.is_visible("#local-card") and "cnn-small" in card
    tab.click("label[for=local-read]")  # off again: back to the server
    _reset(tab)
    _mouse_paths(tab, _digit_paths(2, box))
    assert _settled(tab) == "2" and len(api) > served
    context.close()
    with capsys.disabled():
        print(f"\nserved page, switch on: runtime + model fetched and loaded in {load_ms:.0f} ms")
    assert not refused, refused  # the wasm compiles under the page's CSP


def test_site_build_refuses_and_replaces(static_site: Path, tmp_path: Path) -> None:
    from mnist_digits.web.site import SiteError, build_site

    with pytest.raises(SiteError, match="already exists; choose a new folder or pass --force"):
        build_site(static_site)
    out = tmp_path / "site"
    out.mkdir()
    (out / "old.txt").write_text("old")
    build_site(out, force=True)
    assert not (out / "old.txt").exists() and (out / "model.onnx").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temp folder left beside it
    with pytest.raises(Exception, match="does not exist"):
        build_site(tmp_path / "other", tmp_path / "missing.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["site"]
