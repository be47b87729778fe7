"""Turn a request body into images: a multipart upload, base64/data-URL JSON, or 28×28 pixels.

Every problem a client can cause becomes an ``HTTPException`` (400/415) or a
``RequestValidationError`` (422) with a one-line message, never a server error.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnist_digits.web.schemas import BatchRequest, ImageInput, Input, PixelsInput

# What the API hands the predictor: encoded image bytes, or a 28×28 uint8 pixel grid.
Upload = bytes | np.ndarray

_SINGLE: TypeAdapter[ImageInput | PixelsInput] = TypeAdapter(Input)
_BATCH: TypeAdapter[BatchRequest] = TypeAdapter(BatchRequest)
_WHITESPACE = str.maketrans("", "", " \t\r\n")
# Validation problems listed in a 422 answer; one item of 28x28 bad pixels alone makes 784.
MAX_ERRORS = 20
_URLSAFE = str.maketrans("-_", "+/")


async def read_one(request: Request) -> Upload:
    """The image of a ``/api/predict`` request (multipart ``file``, or JSON)."""
    kind = _kind(request)
    if kind == "multipart":
        files = await _uploads(request, "file", max_files=1)
        if len(files) != 1:
            raise _invalid("file", "send exactly one image in the multipart field 'file'")
        return files[0]
    return to_source(_validate_json(_SINGLE, await request.body()))


async def read_many(request: Request, max_items: int) -> list[Upload | HTTPException]:
    """The images of a batch request (multipart ``files``, or JSON ``items``), in order.

    An item that cannot be decoded is returned as its ``HTTPException``, so one bad image
    does not fail the others.
    """
    kind = _kind(request)
    field = "files" if kind == "multipart" else "items"
    if kind == "multipart":
        raw: list[Any] = await _uploads(request, field, max_files=max_items)
    else:
        body = await request.body()
        # Every item is a JSON object and base64 has no braces, so more than max_items + 1
        # "{" is over the limit: refused before parsing (a 2 MB body of a million {} items
        # took 15 s and 2.2 GB to parse and validate).
        if body.count(b"{") > max_items + 1:
            raise _over_batch(field, max_items)
        raw = _validate_json(_BATCH, body).items
    if not raw:
        raise _invalid(field, f"send at least one image in the {_where(field)}")
    if len(raw) > max_items:
        raise _over_batch(field, max_items, len(raw))
    out: list[Upload | HTTPException] = []
    for item in raw:
        try:
            out.append(item if isinstance(item, bytes) else to_source(item))
        except HTTPException as err:
            out.append(err)
    return out


def to_source(item: ImageInput | PixelsInput) -> Upload:
    """Image bytes for ``image`` (base64 or data URL); a uint8 array for ``pixels``."""
    if isinstance(item, PixelsInput):
        grid = np.asarray(item.pixels, dtype=np.float32)  # (28, 28), validated 0..255
        return np.rint(grid).astype(np.uint8)
    return decode_base64(item.image)


def decode_base64(text: str) -> bytes:
    """Bytes of a base64 string or ``data:<type>;base64,<data>`` URL (400 when it is neither).

    Line breaks (MIME base64 wraps at 76 characters), URL-safe letters and missing ``=``
    padding are all accepted, since each is common in what clients send.
    """
    data = text
    if text[:5].lower() == "data:":
        header, sep, data = text.partition(",")
        if not sep or not header.lower().endswith(";base64"):
            raise HTTPException(400, "the data URL must be base64: data:image/png;base64,...")
    data = data.translate(_WHITESPACE).translate(_URLSAFE)
    data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(
            400, "the image field is not valid base64; send base64 PNG/JPEG bytes or a data URL"
        ) from None


def _kind(request: Request) -> str:
    """``json`` or ``multipart`` from the Content-Type; 415 for anything else."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype.startswith("multipart/form-data"):
        return "multipart"
    if ctype == "application/json" or ctype.endswith("+json"):
        return "json"
    raise HTTPException(
        415,
        f"unsupported content type {ctype or '(none)'!r}; send application/json or "
        "multipart/form-data",
    )


def _where(field: str) -> str:
    return f"multipart field '{field}'" if field in ("file", "files") else f"JSON '{field}' list"


def _over_batch(field: str, max_items: int, count: int | None = None) -> RequestValidationError:
    many = f"{count} images" if count is not None else f"more than {max_items} images"
    return _invalid(
        field,
        f"{many} is over the batch limit of {max_items}; send at most {max_items} per request",
    )


async def _uploads(request: Request, field: str, max_files: int) -> list[bytes]:
    """The bytes of every file sent in the multipart ``field`` (at most ``max_files``)."""
    try:
        form_cm = request.form(max_files=max_files, max_fields=16)
        async with form_cm as form:
            values = form.getlist(field)
            if any(not isinstance(v, UploadFile) for v in values):
                raise _invalid(field, f"the multipart field '{field}' must be a file upload")
            return [await v.read() for v in values if isinstance(v, UploadFile)]
    except StarletteHTTPException as err:  # the parser counts files as they arrive: stops at once
        if not str(err.detail).startswith("Too many files"):
            raise
        if field == "file":
            raise _invalid(field, "send exactly one image in the multipart field 'file'") from None
        raise _over_batch(field, max_files) from None


def _validate_json(adapter: TypeAdapter[Any], body: bytes) -> Any:
    """Parse and validate JSON in one pass (pydantic's parser is strict: no NaN, no junk)."""
    try:
        return adapter.validate_json(body)
    except ValidationError as err:
        raise RequestValidationError(_errors(err)) from None


def _errors(err: ValidationError) -> list[dict[str, Any]]:
    """The first ``MAX_ERRORS`` validation problems as plain JSON, and how many were left out.

    (pydantic's ``ctx`` may hold exception objects, so only loc, msg and type are kept.)
    """
    found = err.errors(include_url=False)
    out: list[dict[str, Any]] = [
        {"loc": ["body", *_untagged(e["loc"])], "msg": e["msg"], "type": e["type"]}
        for e in found[:MAX_ERRORS]
    ]
    if len(found) > MAX_ERRORS:  # the 422 handler counts these in its summary line
        out.append({"loc": [], "msg": "", "type": "unlisted", "count": len(found) - MAX_ERRORS})
    return out


def _untagged(loc: tuple[int | str, ...]) -> list[int | str]:
    """Drop the union's tag from a location: ``pixels.pixels.3`` reads as ``pixels.3``."""
    out: list[int | str] = []
    for i, part in enumerate(loc):
        if part in ("image", "pixels") and i + 1 < len(loc) and loc[i + 1] == part:
            continue
        out.append(part)
    return out


def _invalid(where: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ["body", where], "msg": message, "type": "value_error"}])
