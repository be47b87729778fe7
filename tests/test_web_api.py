"""The REST API and the page's assets through FastAPI's test client (no network)."""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():
    # Starlette's test client warns that it prefers httpx2; httpx works and is what we install.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import imagegen
from webhelp import canvas_digit, checkpoint_or_skip, data_url, empty_canvas, png_bytes

from mnist_digits.predict import Predictor
from mnist_digits.web.app import create_app
from mnist_digits.web.settings import Settings, parse_origins, parse_size

STATIC = Path(__file__).resolve().parent.parent / "src" / "mnist_digits" / "web" / "static"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_checkpoint(checkpoint_or_skip())


@pytest.fixture(scope="module")
def client(predictor: Predictor) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_upload=300_000), predictor)) as c:
        yield c


def _assert_error(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    return detail


# --------------------------------------------------------------------------------------------
# Predict: three ways in, one answer out


def test_predict_same_answer_for_upload_data_url_base64_and_pixels(client: TestClient) -> None:
    png = canvas_digit(3)
    answers = [
        client.post("/api/predict", files={"file": ("three.png", png, "image/png")}),
        client.post("/api/predict", json={"image": data_url(png)}),
        client.post("/api/predict", json={"image": base64.b64encode(png).decode()}),
    ]
    first = answers[0].json()
    pixels = client.post("/api/predict", json={"pixels": first["input28"]})
    for response in [*answers, pixels]:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["digit"] == 3 and body["is_digit"] and body["status"] == "ok"
        assert body["confidence"] == pytest.approx(max(body["probabilities"]))
    assert answers[1].json() == first and answers[2].json() == first
    grid = np.array(first["input28"])
    assert grid.shape == (28, 28) and grid.min() >= 0 and grid.max() <= 255 and grid.max() > 200
    assert sum(first["probabilities"]) == pytest.approx(1, abs=1e-4)


@pytest.mark.parametrize("digit", [0, 1, 4, 7, 8])
def test_predict_reads_drawn_digits(client: TestClient, digit: int) -> None:
    body = client.post("/api/predict", json={"image": data_url(canvas_digit(digit))}).json()
    assert body["digit"] == digit, body["probabilities"]


def test_predict_reads_photos_and_mime_wrapped_base64(client: TestClient) -> None:
    rng = np.random.default_rng(6)
    img = imagegen.make_user_image(2, "photo", rng)
    wrapped = base64.encodebytes(png_bytes(img)).decode()  # 76-column lines, as MIME tools do
    body = client.post("/api/predict", json={"image": wrapped}).json()
    assert body["digit"] == 2


def test_empty_canvas_is_200_with_null_digit(client: TestClient) -> None:
    for payload in ({"image": data_url(empty_canvas())}, {"pixels": [[0] * 28] * 28}):
        response = client.post("/api/predict", json=payload)
        assert response.status_code == 200
        body = response.json()
        assert body["digit"] is None and body["status"] == "no_digit" and not body["is_digit"]
        assert body["confidence"] == 0 and not np.any(body["input28"])


def test_a_grid_is_not_a_digit(client: TestClient) -> None:
    pixels = np.zeros((28, 28), dtype=int)
    pixels[4:24:5, 4:24] = pixels[4:24, 4:24:5] = 255  # a hash grid: ink, but no digit
    body = client.post("/api/predict", json={"pixels": pixels.tolist()}).json()
    assert body["status"] == "not_a_digit" and body["digit"] is None and not body["is_digit"]


def test_number_reads_digits_left_to_right(client: TestClient) -> None:
    png = png_bytes(imagegen.make_number_image("2026", seed=3, broken=False))
    response = client.post("/api/predict/number", files={"file": ("n.png", png, "image/png")})
    body = response.json()
    assert response.status_code == 200 and body["number"] == "2026", body
    assert len(body["digits"]) == 4 and [d["digit"] for d in body["digits"]] == [2, 0, 2, 6]
    empty = client.post("/api/predict/number", json={"image": data_url(empty_canvas())}).json()
    assert empty["number"] == "" and empty["status"] == "no_digit" and empty["digits"] == []


def test_batch_answers_each_item_in_order(client: TestClient) -> None:
    items = [
        {"image": data_url(canvas_digit(5))},
        {"image": base64.b64encode(b"<html>not an image</html>").decode()},
        {"image": "***"},
        {"pixels": [[0] * 28] * 28},
    ]
    results = client.post("/api/predict/batch", json={"items": items}).json()["results"]
    assert [r["prediction"] is None for r in results] == [False, True, True, False]
    assert results[0]["prediction"]["digit"] == 5
    assert "HTML" in results[1]["error"] and "base64" in results[2]["error"]
    assert results[3]["prediction"]["status"] == "no_digit"
    files = [("files", (f"{d}.png", canvas_digit(d), "image/png")) for d in (1, 7)]
    multi = client.post("/api/predict/batch", files=files).json()["results"]
    assert [r["prediction"]["digit"] for r in multi] == [1, 7]


def test_batch_limits(client: TestClient) -> None:
    too_many = {"items": [{"pixels": [[0] * 28] * 28}] * 65}
    assert "batch limit" in _assert_error(client.post("/api/predict/batch", json=too_many), 422)
    _assert_error(client.post("/api/predict/batch", json={"items": []}), 422)


# --------------------------------------------------------------------------------------------
# Bad requests: 4xx with one line of JSON, never a 5xx


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"image": "@@not base64@@"}, 400, "base64"),
        ({"image": "data:image/png,rawbytes"}, 400, "data URL"),
        ({"image": base64.b64encode(b"hello there, plain text").decode()}, 400, "not an image"),
        ({"image": base64.b64encode(canvas_digit(1)[:300]).decode()}, 400, "truncated"),
        ({"image": ""}, 400, "empty"),
        ({"pixels": [[0] * 28] * 27}, 422, "pixels"),
        ({"pixels": [[300] * 28] * 28}, 422, "less than or equal to 255"),
        ({"pixels": [["a"] * 28] * 28}, 422, "pixels"),
        ({"image": "x", "pixels": [[0] * 28] * 28}, 422, "Extra inputs"),
        ({"picture": "x"}, 422, '"image"'),
        ([1, 2, 3], 422, '"image"'),
    ],
)
def test_bad_json_inputs(client: TestClient, payload: object, status: int, words: str) -> None:
    detail = _assert_error(client.post("/api/predict", json=payload), status)
    assert words in detail


@pytest.mark.parametrize(
    ("body", "ctype", "status"),
    [
        (b"{not json", "application/json", 422),
        (b"", "application/json", 422),
        (b'{"pixels": [[NaN]]}', "application/json", 422),
        (b"\xff\xfe\x00junk", "application/json", 422),
        (b"image bytes", "image/png", 415),
        (b"", "", 415),
        (b"--x\r\nbroken", "multipart/form-data", 400),
    ],
)
def test_malformed_bodies(client: TestClient, body: bytes, ctype: str, status: int) -> None:
    headers = {"content-type": ctype} if ctype else {}
    _assert_error(client.post("/api/predict", content=body, headers=headers), status)


def test_multipart_needs_a_file_field(client: TestClient) -> None:
    _assert_error(client.post("/api/predict", files={"other": ("a.png", b"x")}), 422)
    response = client.post("/api/predict", files={"file": ("junk.bin", b"\x00" * 100)})
    assert "supported image format" in _assert_error(response, 400)


def test_body_over_the_limit_is_413_before_reading(client: TestClient) -> None:
    big = b"0" * 300_001
    response = client.post("/api/predict", content=big, headers={"content-type": "text/plain"})
    assert "upload limit" in _assert_error(response, 413)  # refused before the type check

    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # no Content-Length: counted as it streams in
            yield b"0" * 10_000

    json_type = {"content-type": "application/json"}
    streamed = client.post("/api/predict", content=chunks(), headers=json_type)
    _assert_error(streamed, 413)


def test_upload_limit_is_configurable(predictor: Predictor) -> None:
    with TestClient(create_app(Settings(max_upload=1000), predictor)) as small:
        png = canvas_digit(4)
        assert len(png) > 1000
        _assert_error(small.post("/api/predict", json={"image": data_url(png)}), 413)
        assert small.post("/api/predict", json={"pixels": [[0] * 28] * 28}).status_code == 413
        assert small.get("/api/health").status_code == 200


def test_unknown_routes_and_methods(client: TestClient) -> None:
    assert client.get("/api/nope").status_code == 404
    assert client.get("/api/predict").status_code == 405


# --------------------------------------------------------------------------------------------
# Health, model card, OpenAPI, page and assets


def test_health_and_model(client: TestClient, predictor: Predictor) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "model": predictor.meta.model}
    info = client.get("/api/model").json()
    assert info["name"] == predictor.meta.model and info["classes"] == list("0123456789")
    assert info["recipe"] == predictor.meta.recipe and info["metrics"] == predictor.meta.metrics
    assert info["version"] and 0 < info["reject_threshold"] < 1


def test_openapi_documents_every_route_and_both_body_types(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/api/predict",
        "/api/predict/number",
        "/api/predict/batch",
        "/api/health",
        "/api/model",
        "/api/samples",
        "/api/samples/config",
        "/api/samples/export",
        "/api/samples/{sample_id}",
        "/api/samples/{sample_id}/input.png",
    }
    content = spec["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert {"400", "413", "422"} <= set(spec["paths"]["/api/predict"]["post"]["responses"])


def test_page_has_the_stable_ids_and_every_asset_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in ("draw-canvas", "prediction", "status", "confidence", "clear", "undo"):
        assert f'id="{name}"' in page.text
    assert re.search(r'<input id="upload"[^>]*type="file"', page.text)
    assert re.search(r'<input id="camera"[^>]*capture=', page.text)
    assert 'id="model-input"' in page.text
    for html in ("/", "/docs"):
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', client.get(html).text):
            assert client.get(asset).status_code == 200, asset
    assert client.get("/favicon.ico").status_code == 200


def test_works_offline_no_external_urls() -> None:
    for path in STATIC.iterdir():
        if path.is_dir():  # vendor/: onnxruntime-web, pinned by sha256 and tested offline
            continue
        text = path.read_text()
        external = re.findall(
            r"""(?:src|href|url|import|fetch)\s*[=(]\s*["']?(?:https?:)?//""", text
        )
        assert not external, f"{path.name} loads {external} from another site"


def test_canvas_blocks_scrolling_while_drawing() -> None:
    css = (STATIC / "app.css").read_text()
    rule = re.search(r"#draw-canvas \{[^}]*\}", css)
    assert rule and "touch-action: none" in rule.group(0)


# --------------------------------------------------------------------------------------------
# Settings


def test_settings_from_env_and_overrides() -> None:
    env = {
        "MNIST_DIGITS_MODEL": "runs/x",
        "MNIST_DIGITS_MAX_UPLOAD": "2M",
        "MNIST_DIGITS_CORS_ORIGINS": "https://a.example, http://b.example:3000 ,",
    }
    settings = Settings.from_env(env)
    assert settings.model == "runs/x" and settings.max_upload == 2 * 1024**2
    assert settings.cors_origins == ("https://a.example", "http://b.example:3000")
    assert Settings.from_env(env, model="other", max_upload=None).model == "other"
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("512k", 512 * 1024), ("10MB", 10 * 1024**2), ("1MiB", 1024**2)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "ten", "-5", "0", "inf", "nan", "5X"])
def test_parse_size_rejects_in_one_line(text: str) -> None:
    from mnist_digits.core.errors import MnistDigitsError

    with pytest.raises(MnistDigitsError, match="not a positive size"):
        parse_size(text)


def test_cors_only_when_configured(predictor: Predictor) -> None:
    origin = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(Settings(), predictor)) as closed:
        assert (
            "access-control-allow-origin" not in closed.get("/api/health", headers=origin).headers
        )
    settings = Settings(cors_origins=parse_origins("https://app.example"))
    with TestClient(create_app(settings, predictor)) as open_:
        response = open_.options("/api/predict", headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://app.example"


def test_errors_are_json_lines_not_tracebacks(client: TestClient) -> None:
    response = client.post(
        "/api/predict", content=b"[", headers={"content-type": "application/json"}
    )
    body = response.json()
    assert set(body) == {"detail", "errors"} and "Traceback" not in json.dumps(body)


# --------------------------------------------------------------------------------------------
# Hardening (issue 13): strict pixels, the batch cap while parsing, short error lists,
# security headers, JSON errors, image work off the event loop, 503 when busy


@pytest.mark.parametrize("bad", ["7", True, None, [7]])
def test_pixel_values_must_be_json_numbers(client: TestClient, bad: object) -> None:
    grid: list[list[object]] = [[0] * 28 for _ in range(28)]
    grid[3][4] = bad
    detail = _assert_error(client.post("/api/predict", json={"pixels": grid}), 422)
    assert detail.startswith("body.pixels.3.4:") and "valid number" in detail
    grid[3][4] = 7.5  # a JSON number, integer or not, is a pixel
    assert client.post("/api/predict", json={"pixels": grid}).status_code == 200


@pytest.mark.parametrize("item", [b"{}", b"1"])
def test_the_batch_cap_holds_while_parsing(client: TestClient, item: bytes) -> None:
    body = b'{"items": [' + b",".join([item] * 90_000) + b"]}"  # 270 KB, 90,000 items
    response = client.post(
        "/api/predict/batch", content=body, headers={"content-type": "application/json"}
    )
    detail = _assert_error(response, 422)
    assert "items" in detail and ("64" in detail), detail
    assert len(response.content) < 5_000  # one short answer, not 90,000 errors (was 10 MB)


def test_long_error_lists_are_cut_short(client: TestClient) -> None:
    response = client.post("/api/predict", json={"pixels": [["a"] * 28] * 28})
    detail = _assert_error(response, 422)
    assert detail.endswith("(and 783 more)")
    assert len(response.json()["errors"]) == 20


def test_the_multipart_batch_cap_names_files(client: TestClient) -> None:
    tiny = empty_canvas(28)
    files = [("files", (f"{i}.png", tiny, "image/png")) for i in range(65)]
    detail = _assert_error(client.post("/api/predict/batch", files=files), 422)
    assert detail.startswith("body.files:") and "batch limit of 64" in detail
    two = client.post("/api/predict", files=[("file", ("a.png", tiny)), ("file", ("b.png", tiny))])
    assert "exactly one image" in _assert_error(two, 422)


SECURITY = {
    "x-content-type-options": "nosniff",
    "content-security-policy": (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("GET", "/", {}),
        ("GET", "/docs", {}),
        ("GET", "/static/app.js", {}),
        ("GET", "/favicon.ico", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/api/health", {}),
        ("GET", "/api/nope", {}),
        ("POST", "/api/predict", {"json": {"pixels": 1}}),
        ("POST", "/api/predict", {"json": {"image": "@@"}}),
        ("POST", "/api/predict", {"content": b"0" * 300_001}),
    ],
)
def test_security_headers_on_every_response(
    client: TestClient, method: str, path: str, options: dict[str, object]
) -> None:
    response = client.request(method, path, **options)  # type: ignore[arg-type]
    assert {k: response.headers.get(k) for k in SECURITY} == SECURITY, response.status_code


def test_the_page_has_no_inline_script_or_style() -> None:
    for name in ("index.html", "docs.html"):
        html = (STATIC / name).read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), name  # every script is a file
        assert "<style" not in html and " style=" not in html and "javascript:" not in html
        assert not re.search(r"\son[a-z]+=", html), name  # no onclick= handlers either


def test_every_error_is_json(predictor: Predictor) -> None:
    settings = Settings(cors_origins=("https://app.example",))
    with TestClient(create_app(settings, predictor)) as c:
        refused = c.options(
            "/api/predict",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "CORS" in _assert_error(refused, 400)
        for response in (
            c.get("/static/nope.js"),
            c.get("/api/nope"),
            c.put("/api/predict"),
            c.post("/api/predict", content=b"{}", headers={"content-type": "text/csv"}),
        ):
            _assert_error(response, response.status_code)


def _heavy() -> bytes:
    import hostile

    return hostile.png16_huge(3900)  # 15 MP of 16-bit grey: 0.11-0.3 s to read


async def _concurrently(app: object, *requests: tuple[str, str, dict[str, object]]) -> list:  # type: ignore[type-arg]
    """Send requests to the app at once, in this event loop; their responses and timings."""
    import asyncio
    import time

    import httpx

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def one(method: str, path: str, options: dict[str, object], delay: float) -> tuple:  # type: ignore[type-arg]
            due = time.perf_counter() + delay  # timed from when it is due, not when it runs:
            await asyncio.sleep(delay)  # a blocked event loop delays the start itself
            response = await http.request(method, path, **options)  # type: ignore[arg-type]
            return response, time.perf_counter() - due

        return await asyncio.gather(*(one(*r, 0.01 * i) for i, r in enumerate(requests)))


def test_reading_an_image_does_not_hold_the_event_loop(predictor: Predictor) -> None:
    import asyncio

    app = create_app(Settings(), predictor)
    heavy = ("POST", "/api/predict", {"files": {"file": ("big.png", _heavy())}})
    health = ("GET", "/api/health", {})
    (read, read_s), (ok, health_s) = asyncio.run(_concurrently(app, heavy, health))
    assert read.status_code == 200 and ok.status_code == 200
    # The image takes long enough to wait for (0.11-0.3 s on the machines so far), and health,
    # sent 10 ms after it, answered in under half that: had the loop been held, it would
    # have waited for the whole read.
    assert read_s > 0.05, read_s
    assert health_s < min(0.1, read_s / 2), (health_s, read_s)


def test_a_full_lane_answers_503_with_retry_after(predictor: Predictor) -> None:
    import asyncio

    from mnist_digits.web.work import Work

    app = create_app(Settings(), predictor)
    app.state.work = Work(slow_queue=0)  # one large image at a time, none waiting
    heavy = ("POST", "/api/predict", {"files": {"file": ("big.png", _heavy())}})
    drawing = ("POST", "/api/predict", {"json": {"image": data_url(canvas_digit(3))}})
    answers = asyncio.run(_concurrently(app, heavy, heavy, drawing))
    codes = [response.status_code for response, _ in answers]
    assert codes == [200, 503, 200], codes  # a drawing goes by the fast lane, never refused
    busy = answers[1][0]
    assert busy.headers["retry-after"] == "1" and "busy" in busy.json()["detail"]


def test_a_batch_shares_64_megapixels_among_its_images(client: TestClient) -> None:
    import hostile

    big = hostile.one_bit_huge(4000)  # 16 MP declared, 2 KB of PNG
    four = client.post("/api/predict/batch", files=[("files", ("b.png", big))] * 4)
    assert all(r["prediction"] for r in four.json()["results"])  # 16 MP each: read
    five = client.post("/api/predict/batch", files=[("files", ("b.png", big))] * 5)
    errors = [r["error"] for r in five.json()["results"]]
    assert all(e and "12,800,000-pixel limit" in e for e in errors), errors
