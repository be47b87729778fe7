"""The drawing page in headless Chromium: people's strokes in, live predictions out.

Digits are drawn with the same pen strokes as ``imagegen.digit_strokes``, by mouse and by touch
(Chrome DevTools touch events, which the page sees as ``pointerType == "touch"``). Set
``MNIST_DIGITS_SCREENSHOTS`` to a folder to keep the screenshots (desktop and phone).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imagegen
import pytest
from components import missing
from webhelp import canvas_digit, checkpoint_or_skip, serve_in_thread

# Debian's browser, found on PATH (/usr/bin/chromium) or at $MNIST_DIGITS_CHROMIUM;
# tests/test_ci_missing.py hides it both ways.
_FOUND = os.environ.get("MNIST_DIGITS_CHROMIUM") or shutil.which("chromium")
CHROMIUM = Path(_FOUND or "chromium")
if not CHROMIUM.is_file():
    missing(
        f"Chromium is missing ({_FOUND or 'not on PATH'}): apt-get install -y chromium "
        "(scripts/system-deps.sh does)",
        module=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
uvicorn = pytest.importorskip("uvicorn")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SETTLE_MS = 300  # the page's promise: the answer is shown within 300 ms of the pen going up
Box = tuple[float, float, float, float]  # x, y, width, height in CSS pixels


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The app on uvicorn in a thread of this process (its model loads in lifespan)."""
    from mnist_digits.web.settings import Settings

    with serve_in_thread(Settings(model=checkpoint_or_skip())) as url:
        yield f"{url}/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _watch_policy(tab: Any) -> list[str]:
    """Console messages in which the browser refused something under the page's CSP."""
    refused: list[str] = []
    tab.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return refused


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    tab = context.new_page()
    refused = _watch_policy(tab)
    tab.goto(site)
    tab.wait_for_selector("#bars li")
    yield tab
    context.close()
    assert not refused, refused  # every test ran under the security headers without a refusal


def _canvas_box(page: Any) -> Box:
    box = page.locator("#draw-canvas").bounding_box()
    return box["x"], box["y"], box["width"], box["height"]


def _digit_paths(digit: int, box: Box, cx: float = 0.5, size: float = 0.62) -> list[list[Any]]:
    """The digit's strokes in page pixels: ``size`` of the canvas height, centred at ``cx``."""
    x0, y0, w, h = box
    height = size * h
    width = 0.65 * height  # imagegen's unit box is drawn at MNIST-like 0.65 aspect
    left, top = x0 + cx * w - width / 2, y0 + h / 2 - height / 2
    return [
        [(left + px * width, top + py * height) for px, py in stroke]
        for stroke in imagegen.digit_strokes(digit)
    ]


def _mouse_paths(page: Any, paths: list[list[Any]]) -> None:
    for points in paths:
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=2)
        page.mouse.up()


def _touch_paths(page: Any, paths: list[list[Any]]) -> None:
    cdp = page.context.new_cdp_session(page)
    for points in paths:
        for i, (x, y) in enumerate(points):
            kind = "touchStart" if i == 0 else "touchMove"
            touch = {"type": kind, "touchPoints": [{"x": x, "y": y, "id": 1}]}
            cdp.send("Input.dispatchTouchEvent", touch)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _settled(page: Any) -> str:
    """The prediction once the latest answer is shown."""
    page.wait_for_selector("#answer[data-state=idle]", timeout=5000)
    return str(page.text_content("#prediction"))


def _settle_ms(page: Any) -> int:
    page.wait_for_selector("#answer[data-latency]", timeout=5000)
    return int(page.get_attribute("#answer", "data-latency"))


def _reset(page: Any) -> None:
    page.keyboard.press("Escape")
    page.evaluate("delete document.getElementById('answer').dataset.latency")


def _screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MNIST_DIGITS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.wait_for_timeout(300)  # let the bars' 0.18 s width transition finish
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_mouse_strokes_are_read_live(page: Any, tmp_path: Path) -> None:
    box = _canvas_box(page)
    for digit in (0, 2, 4, 7):
        _reset(page)
        _mouse_paths(page, _digit_paths(digit, box))
        assert _settled(page) == str(digit)
        assert _settle_ms(page) <= SETTLE_MS
        assert page.text_content("#status") == ""
        assert page.text_content("#confidence").endswith("% sure")
    seen = page.evaluate(
        "() => { const c = document.getElementById('model-input');"
        " const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;"
        " let ink = 0; for (let i = 0; i < d.length; i += 4) ink += d[i] > 128; return ink; }"
    )
    assert c_is_28(page) and seen > 30  # the 28x28 input shows the digit's white ink
    _screenshot(page, "web-desktop.png", tmp_path)


def c_is_28(page: Any) -> bool:
    return bool(page.evaluate("document.getElementById('model-input').width === 28"))


def test_touch_strokes_on_a_phone(browser: Any, site: str, tmp_path: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 760},
        device_scale_factor=2,
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(site)
    page.wait_for_selector("#bars li")
    scroll = page.evaluate("window.scrollY")
    kinds = page.evaluate(
        "window.kinds = []; document.getElementById('draw-canvas').addEventListener("
        "'pointerdown', (e) => window.kinds.push(e.pointerType)); window.kinds"
    )
    assert kinds == []
    _touch_paths(page, _digit_paths(3, _canvas_box(page)))
    assert _settled(page) == "3"
    assert page.evaluate("window.kinds") == ["touch"]  # a 3 is one stroke
    assert page.evaluate("window.scrollY") == scroll  # drawing never scrolled the page
    _screenshot(page, "web-phone.png", tmp_path)
    context.close()


def test_undo_and_clear(page: Any) -> None:
    box = _canvas_box(page)
    _mouse_paths(page, _digit_paths(7, box))
    assert _settled(page) == "7"
    _mouse_paths(page, _digit_paths(0, box))  # a ring around the 7 makes it something else
    assert _settled(page) != "7"
    page.click("#undo")
    assert _settled(page) == "7"
    page.click("#clear")
    assert _settled(page) == ""
    assert page.text_content("#confidence") == "" and page.text_content("#status") == ""
    assert page.is_disabled("#undo") and page.is_disabled("#clear")


def test_not_a_digit_is_said_in_status(page: Any) -> None:
    x0, y0, w, h = _canvas_box(page)
    grid = [[(x0 + w * f, y0 + 0.15 * h), (x0 + w * f, y0 + 0.85 * h)] for f in (0.3, 0.5, 0.7)]
    grid += [[(x0 + 0.15 * w, y0 + h * f), (x0 + 0.85 * w, y0 + h * f)] for f in (0.3, 0.5, 0.7)]
    _mouse_paths(page, grid)
    assert _settled(page) == ""
    assert page.text_content("#status") in ("not a digit", "not sure")


def test_upload_an_image(page: Any, tmp_path: Path) -> None:
    upload = {"name": "eight.png", "mimeType": "image/png", "buffer": canvas_digit(8)}
    page.set_input_files("#upload", files=[upload])
    page.wait_for_function("() => document.getElementById('prediction').textContent === '8'")
    assert _settled(page) == "8"
    assert page.get_attribute("#camera", "capture") == "environment"


def test_number_mode_reads_several_digits(page: Any) -> None:
    page.click("label[for=mode-number]")
    box = _canvas_box(page)
    assert box[2] > 1.8 * box[3]  # a wide canvas for a number
    for i, digit in enumerate((4, 2)):
        _mouse_paths(page, _digit_paths(digit, box, cx=0.35 + 0.3 * i, size=0.55))
    assert _settled(page) == "42"
    assert page.locator("#digits li").count() == 2


def test_keyboard_only(page: Any) -> None:
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand link
    focused = ""
    for _ in range(6):  # mode radio, then the drawing area
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused == "draw-canvas":
            break
    assert focused == "draw-canvas"
    # Pen down, a 240 px vertical stroke, pen up: a 1. (A 160 px stroke with this brush is a
    # bar 4 px wide at MNIST's scale, which the shipped model does not take for a 1.)
    for key in ["ArrowUp"] * 12 + ["Space"] + ["ArrowDown"] * 24 + ["Space"]:
        page.keyboard.press(key)
    assert _settled(page) == "1"
    page.keyboard.press("Control+z")
    assert _settled(page) == ""


def test_the_page_works_under_its_content_security_policy(browser: Any, site: str) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    tab = context.new_page()
    refused = _watch_policy(tab)
    response = tab.goto(site)
    policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'"
    assert response.headers["content-security-policy"] == policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    tab.wait_for_selector("#bars li")
    _mouse_paths(tab, _digit_paths(7, _canvas_box(tab)))
    assert _settled(tab) == "7"
    tab.goto(site + "docs")
    tab.wait_for_selector("#operations section")  # docs.js ran and fetched /openapi.json
    assert refused == []
    # The policy is really enforced: an inline script is refused.
    tab.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
    )
    assert tab.evaluate("window.inlineRan === undefined") and refused
    context.close()


def _grid_png(width: int, height: int, left: float = 0, lines: int = 5, base: Any = None) -> bytes:
    """A hash grid (``lines`` strokes each way) drawn in a ``height`` square at ``left``."""
    import io

    from PIL import Image, ImageDraw

    img = base.convert("L") if base is not None else Image.new("L", (width, height), 255)
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(img, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for i in range(lines):
        at = 0.2 * height + i * 0.6 * height / (lines - 1)
        ends = (left + 0.2 * height, left + 0.8 * height)
        draw.line([(left + at, 0.2 * height), (left + at, 0.8 * height)], fill=0, width=9)
        draw.line([(ends[0], at), (ends[1], at)], fill=0, width=9)
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    return buf.getvalue()


def _api(site: str, route: str, png: bytes) -> Any:
    import base64
    import json
    import urllib.request

    image = "data:image/png;base64," + base64.b64encode(png).decode()
    body = json.dumps({"image": image})
    request = urllib.request.Request(
        site + route, body.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _top(item: dict[str, Any]) -> tuple[int, float]:
    probs = item["probabilities"]
    best = max(range(10), key=lambda d: probs[d])
    return best, probs[best]


def _percent(p: float) -> str:  # as the page writes it
    return ">99.9%" if p >= 0.9995 else f"{100 * p:.{0 if p < 0.1 else 1}f}%"


def test_not_a_digit_says_what_it_would_otherwise_have_said(page: Any, site: str) -> None:
    png = _grid_png(280, 280)
    answer = _api(site, "api/predict", png)
    assert answer["status"] == "not_a_digit", answer["probabilities"]
    page.set_input_files(
        "#upload", files=[{"name": "g.png", "mimeType": "image/png", "buffer": png}]
    )
    page.wait_for_function("() => document.getElementById('status').textContent === 'not a digit'")
    assert _settled(page) == ""
    best, p = _top(answer)
    assert page.text_content("#confidence") == f"otherwise it would say {best} ({_percent(p)})"


def test_number_mode_says_which_pieces_are_not_digits(page: Any, site: str) -> None:
    number = imagegen.make_number_image("42", seed=3, broken=False)
    width, height = number.size
    png = _grid_png(width + height, height, left=width, base=number)
    answer = _api(site, "api/predict/number", png)
    rejected = [d for d in answer["digits"] if d["status"] == "not_a_digit"]
    assert answer["number"].startswith("42") and rejected, answer["number"]
    page.click("label[for=mode-number]")
    page.set_input_files(
        "#upload", files=[{"name": "n.png", "mimeType": "image/png", "buffer": png}]
    )
    page.wait_for_function("() => document.querySelectorAll('#digits li').length >= 3")
    assert _settled(page) == answer["number"]
    shown = page.locator("#digits li .c").all_text_contents()
    for item, text in zip(answer["digits"], shown, strict=True):
        if item["status"] == "not_a_digit":
            best, p = _top(item)
            assert text == f"not a digit, else {best} ({_percent(p)})"
    total = len(answer["digits"])
    assert page.text_content("#confidence") == f"{len(rejected)} of {total} pieces are not digits"
