"""The in-browser reader's model on the server: ``/local/model.onnx`` and ``/local/model.json``
say honestly which model a browser runs (the served .onnx, else the shipped one)."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from components import missing

with warnings.catch_warnings():  # Starlette prefers httpx2; httpx works (test_web_api)
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mnist_digits.predict import SHIPPED, SHIPPED_ONNX, Predictor
from mnist_digits.web.app import create_app
from mnist_digits.web.settings import Settings

if not SHIPPED_ONNX.is_file():
    missing(f"no shipped ONNX model at {SHIPPED_ONNX}: run `make shipped-onnx`", module=True)


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_checkpoint(SHIPPED_ONNX)


def _get(predictor: Predictor, model: str | None, route: str) -> Any:
    with TestClient(create_app(Settings(model=model), predictor)) as client:
        return client.get(route)


def test_the_shipped_model_by_default(predictor: Predictor) -> None:
    card = _get(predictor, None, "/local/model.json")
    assert card.status_code == 200
    assert "wasm-unsafe-eval" in card.headers["content-security-policy"]
    data = card.json()
    assert data["name"] == "cnn-small" and data["source"].startswith("the shipped model")
    assert data["sha256"] == hashlib.sha256(SHIPPED_ONNX.read_bytes()).hexdigest()
    assert data["temperature"] == predictor.temperature
    assert data["reject_threshold"] == predictor.reject_threshold
    assert (data["onnx_input"], data["pixel_scale"], data["unsure_top2"]) == ("pixels", 255.0, 0.9)
    onnx = _get(predictor, None, "/local/model.onnx")
    assert onnx.content == SHIPPED_ONNX.read_bytes()


def test_a_served_onnx_is_the_one_the_browser_runs(predictor: Predictor, tmp_path: Path) -> None:
    mine = tmp_path / "mine.onnx"
    shutil.copyfile(SHIPPED_ONNX, mine)
    assert _get(predictor, str(mine), "/local/model.json").json()["source"].startswith("mine.onnx")


def test_a_torch_checkpoint_is_not_claimed(predictor: Predictor) -> None:
    source = _get(predictor, str(SHIPPED), "/local/model.json").json()["source"]
    assert source == "the shipped model (this server's own model has no ONNX export)"


def test_a_missing_onnx_is_a_one_line_404(predictor: Predictor, tmp_path: Path) -> None:
    for route in ("/local/model.json", "/local/model.onnx"):
        answer = _get(predictor, str(tmp_path / "gone.onnx"), route)
        assert answer.status_code == 404
        assert answer.json()["detail"].startswith("no ONNX model at ")
