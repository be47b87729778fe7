"""The model for the page's "Read in this browser" switch: ``/local/model.onnx`` and
``/local/model.json``.

The browser runs an ONNX model (``static/local.js``). When the server itself serves an
``.onnx`` file, that is the one; otherwise (a ``.safetensors`` or run folder, which a browser
cannot run) it is the shipped ONNX model, and the card says so, so that the page never claims
the server's model is answering when it is not.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.predict import SHIPPED_ONNX
from mnist_digits.web.site import local_card

router = APIRouter(prefix="/local", include_in_schema=False)


def local_model(model: str | None) -> tuple[Path, str]:
    """The ONNX file the browser should run for a server of ``model``, and its source in words."""
    if model is not None and Path(model).suffix.lower() == ".onnx":
        return Path(model), f"{Path(model).name}, the model this server reads with"
    if model is None:
        return SHIPPED_ONNX, "the shipped model, as this server reads with"
    return SHIPPED_ONNX, "the shipped model (this server's own model has no ONNX export)"


@functools.lru_cache(maxsize=4)
def _card(path: Path, source: str) -> dict[str, Any]:
    return local_card(path, source)


def _chosen(request: Request) -> tuple[Path, str]:
    path, source = local_model(request.app.state.settings.model)
    if not path.is_file():
        raise HTTPException(404, f"no ONNX model at {path}; give the server an .onnx model")
    return path, source


@router.get("/model.json")
async def model_card(request: Request) -> dict[str, Any]:
    """The in-browser reader's model card (see ``web.site.local_card``)."""
    path, source = _chosen(request)
    try:
        return _card(path, source)
    except MnistDigitsError as err:
        raise HTTPException(404, str(err)) from None


@router.get("/model.onnx")
async def model_onnx(request: Request) -> FileResponse:
    """The ONNX model's bytes."""
    path, _ = _chosen(request)
    return FileResponse(path, media_type="application/octet-stream")
