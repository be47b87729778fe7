"""The samples routes under ``/api/samples``: store a correction or a collected drawing, list,
show, delete and export them.

A sample is stored from the image itself: the server reads it again through the
``Predictor``, so the 28×28 input and the model's answer in the database are the server's,
never the client's. Writes take a token from the client's rate-limit bucket (``ratelimit``);
all database work runs in threads, off the event loop. With ``collect`` off (setting or
``MNIST_DIGITS_COLLECT=0``) every route but ``/config`` answers 403.

``GET /api/samples/export`` answers a ``.zip`` of the IDX export built in memory: nothing is
written on the server, and the download is the same folder ``mnist-digits samples export``
writes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from PIL import Image
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mnist_digits.predict import Predictor
from mnist_digits.samples.export import DEFAULT_TEST_SHARE, build_export
from mnist_digits.samples.store import MAX_PAGE, Sample, SampleStore, default_path
from mnist_digits.web import schemas
from mnist_digits.web.api import ERRORS, PredictorDep, WorkDep, get_settings
from mnist_digits.web.inputs import Upload, decode_base64, to_source
from mnist_digits.web.ratelimit import BURST, RATE, RateLimiter
from mnist_digits.web.settings import Settings

router = APIRouter(prefix="/api/samples", tags=["samples"])
SAMPLE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": schemas.Error, "description": "this server does not collect samples"},
    404: {"model": schemas.Error, "description": "no sample with that id"},
    429: {"model": schemas.Error, "description": "too many writes; retry after `Retry-After`"},
}
# SQLite's integers are 64-bit: a larger id or offset is refused as a 422, not an overflow.
MAX_INT = 2**63 - 1
SampleId = Annotated[int, PathParam(ge=1, le=MAX_INT)]
OFF = (
    "this server does not collect samples (MNIST_DIGITS_COLLECT=0); ask its operator to turn "
    "collection on"
)


async def get_store(
    request: Request, settings: Annotated[Settings, Depends(get_settings)]
) -> SampleStore:
    """The samples database, opened (and created) on first use: 403 when collection is off."""
    if not settings.collect:
        raise HTTPException(403, OFF)
    store: SampleStore | None = getattr(request.app.state, "samples", None)
    if store is None:
        path = Path(settings.samples) if settings.samples else default_path()
        store = await run_in_threadpool(SampleStore, path)
        request.app.state.samples = store
    return store


async def limited(request: Request) -> None:
    """One token from the client's bucket (429 with ``Retry-After`` when it is empty)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.take(request.client.host if request.client else "unknown")


StoreDep = Annotated[SampleStore, Depends(get_store)]


def _sample_body() -> dict[str, Any]:
    """OpenAPI request body of ``POST /api/samples``, which reads JSON or multipart itself."""
    form = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "label": {"type": "integer", "minimum": 0, "maximum": 9},
            "kind": {"type": "string", "enum": ["correction", "collect"]},
            "writer": {"type": "string", "maxLength": 64},
        },
        "required": ["file", "label"],
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schemas.SampleRequest.model_json_schema()},
                "multipart/form-data": {"schema": form},
            },
        }
    }


@router.get("/config", response_model=schemas.SamplesConfig, summary="Is collection on?")
async def config(settings: Annotated[Settings, Depends(get_settings)]) -> schemas.SamplesConfig:
    """Whether the page should offer corrections and collect mode."""
    return schemas.SamplesConfig(collect=settings.collect, rate=RATE, burst=BURST)


@router.post(
    "",
    response_model=schemas.Sample,
    status_code=201,
    responses=SAMPLE_ERRORS,
    dependencies=[Depends(limited)],
    openapi_extra=_sample_body(),
    summary="Store a correction or a collected drawing",
)
async def add_sample(
    request: Request, store: StoreDep, predictor: PredictorDep, work: WorkDep
) -> schemas.Sample:
    """JSON `{"image" | "pixels", "label", "kind", "writer"}`, or multipart `file` with the
    same fields. The server reads the image itself and stores its own 28×28 input and answer;
    an empty drawing is refused (400)."""
    fields, upload = await _read_sample(request)
    return await work.read(lambda pixels: _store(store, predictor, fields, upload, pixels))


def _store(
    store: SampleStore,
    predictor: Predictor,
    fields: schemas.SampleFields,
    upload: Upload,
    max_pixels: int,
) -> schemas.Sample:
    """Read the image as ``/api/predict`` would, then store it with the person's label."""
    result = predictor.predict(upload, max_pixels=max_pixels)[0]
    if result.status == "no_digit":
        raise HTTPException(400, "the image holds no ink to learn from; draw the digit first")
    raw = upload.tobytes() if isinstance(upload, np.ndarray) else upload
    sample_id = store.add(
        image=raw, input28=result.input28, label=fields.label, kind=fields.kind,
        probabilities=result.probabilities, predicted=result.digit, status=result.status,
        model=predictor.meta.model, fingerprint=predictor.fingerprint, writer=fields.writer,
    )  # fmt: skip
    return _shown(store.get(sample_id))


def _shown(sample: Sample | None) -> schemas.Sample:
    if sample is None:  # deleted between its insert and this read: rare, but not a 500
        raise HTTPException(404, "the sample was deleted while it was being stored")
    return schemas.Sample.model_validate(sample.to_dict())


async def _read_sample(request: Request) -> tuple[schemas.SampleFields, Upload]:
    """The fields and the image of a sample request, JSON or multipart (415 otherwise)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype.startswith("multipart/form-data"):
        return await _read_form(request)
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise HTTPException(415, "send the sample as application/json or multipart/form-data")
    body = _validated(schemas.SampleRequest, await request.body())
    if (body.image is None) == (body.pixels is None):
        raise _invalid("body", 'send exactly one of "image" (base64 or data URL) or "pixels"')
    if body.image is not None:
        upload: Upload = decode_base64(body.image)
    else:
        upload = to_source(schemas.PixelsInput(pixels=body.pixels or []))
    fields = schemas.SampleFields(label=body.label, kind=body.kind, writer=body.writer)
    return fields, upload


async def _read_form(request: Request) -> tuple[schemas.SampleFields, Upload]:
    async with request.form(max_files=1, max_fields=8) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise _invalid("file", "send the image as a file in the multipart field 'file'")
        upload = await file.read()
        values = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}
    label = values.get("label", "")
    values["label"] = int(label) if label.strip().isdigit() else label  # type: ignore[assignment]
    try:
        return schemas.SampleFields.model_validate(values), upload
    except ValidationError as err:
        raise _from(err) from None


def _validated(model: type[schemas.SampleRequest], body: bytes) -> schemas.SampleRequest:
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        raise _from(err) from None


def _from(err: ValidationError) -> RequestValidationError:
    found = err.errors(include_url=False)[:20]
    return RequestValidationError(
        [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in found]
    )


def _invalid(where: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ["body", where], "msg": message, "type": "value_error"}])


@router.get("", response_model=schemas.SampleList, responses=SAMPLE_ERRORS, summary="List")
async def list_samples(
    store: StoreDep,
    kind: schemas.SampleKind | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> schemas.SampleList:
    """Stored samples in id order, `limit` at a time from `offset`, without their images."""

    def page() -> schemas.SampleList:
        items = [_shown(s) for s in store.list(kind=kind, offset=offset, limit=limit)]
        return schemas.SampleList(total=store.count(kind), offset=offset, items=items)

    return await run_in_threadpool(page)


@router.get(
    "/export",
    responses={**SAMPLE_ERRORS, 200: {"content": {"application/zip": {}}}},
    response_class=Response,
    summary="Download the samples as MNIST IDX files (.zip)",
)
async def export_samples(
    store: StoreDep,
    work: WorkDep,
    kind: schemas.SampleKind | None = None,
    test_share: Annotated[float, Query(ge=0, lt=1)] = DEFAULT_TEST_SHARE,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
) -> Response:
    """A zip of the export folder: the four gzipped IDX files, `SHA256SUMS`, `manifest.json`."""

    def build() -> bytes:
        _, files = build_export(store, test_share=test_share, seed=seed, kind=kind)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # .gz: no gain
            for name, data in files.items():
                archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
        return buffer.getvalue()

    # The slow lane: one export at a time per process (10,000 samples are ~8 MB of pixels),
    # behind which the page's drawings never wait.
    data = await work.heavy(build)
    headers = {"Content-Disposition": 'attachment; filename="mnist-digits-samples.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


@router.get(
    "/{sample_id}/input.png",
    responses={**SAMPLE_ERRORS, 200: {"content": {"image/png": {}}}},
    response_class=Response,
    summary="The 28×28 input the model read",
)
async def sample_input(sample_id: SampleId, store: StoreDep) -> Response:
    """The stored 28×28 input as a PNG, white digit on black."""
    grid = await run_in_threadpool(store.input28, sample_id)
    if grid is None:
        raise HTTPException(404, f"no sample {sample_id}; list them with GET /api/samples")
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, "PNG")
    return Response(buffer.getvalue(), media_type="image/png")


@router.delete(
    "/{sample_id}",
    status_code=204,
    response_class=Response,
    responses=SAMPLE_ERRORS,
    dependencies=[Depends(limited)],
    summary="Delete a sample",
)
async def delete_sample(sample_id: SampleId, store: StoreDep) -> Response:
    """Remove one sample (404 when there is none with that id)."""
    if not await run_in_threadpool(store.delete, sample_id):
        raise HTTPException(404, f"no sample {sample_id}; list them with GET /api/samples")
    return Response(status_code=204)
