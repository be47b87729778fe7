"""The REST API under ``/api``: predict one image, a number, a batch; health; model card."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from mnist_digits import __version__
from mnist_digits.core.errors import ImageError
from mnist_digits.core.limits import MAX_PIXELS
from mnist_digits.predict import NumberPrediction as NumberResult
from mnist_digits.predict import Prediction as Result
from mnist_digits.predict import Predictor
from mnist_digits.web import schemas
from mnist_digits.web.inputs import Upload, read_many, read_one
from mnist_digits.web.settings import Settings
from mnist_digits.web.work import Work

# Decoded pixels one batch request may use, shared among its images: 64 images get 1 MP each
# (a 280x280 drawing is 0.08 MP), 4 images the usual 16 MP each.
BATCH_PIXELS = 64_000_000

# Dependencies are ``async def``: FastAPI runs plain ``def`` ones in a thread pool, a hop that
# cost 4 thread round trips per request (0.26 of the 0.55 ms the web layer took, measured).


async def get_predictor(request: Request) -> Predictor:
    """The model loaded at start-up (see ``lifespan`` in ``app.py``)."""
    predictor: Predictor | None = request.app.state.predictor
    if predictor is None:  # only before start-up completes; uvicorn does not serve until then
        raise HTTPException(503, "the model is still loading; try again in a moment")
    return predictor


async def get_work(request: Request) -> Work:
    """The threads that read images (``web.work``)."""
    work: Work = request.app.state.work
    return work


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def one_image(request: Request) -> Upload:
    """The request's single image, however it was sent."""
    return await read_one(request)


async def many_images(
    request: Request, settings: Annotated[Settings, Depends(get_settings)]
) -> list[Upload | HTTPException]:
    """The request's batch of images, each decoded or holding its own error."""
    return await read_many(request, settings.max_batch)


PredictorDep = Annotated[Predictor, Depends(get_predictor)]
WorkDep = Annotated[Work, Depends(get_work)]
OneImage = Annotated[Upload, Depends(one_image)]
ManyImages = Annotated[list[Upload | HTTPException], Depends(many_images)]

_ERROR = {"model": schemas.Error}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "the image could not be decoded or used"},
    408: {**_ERROR, "description": "the request body did not arrive in time"},
    413: {**_ERROR, "description": "the request body is over the upload limit"},
    415: {**_ERROR, "description": "the body is neither JSON nor multipart/form-data"},
    422: {**_ERROR, "description": "malformed JSON, or fields that do not fit the schema"},
    503: {**_ERROR, "description": "busy or shutting down; retry after `Retry-After` seconds"},
}


def _body(json_schema: dict[str, Any], field: str, many: bool) -> dict[str, Any]:
    """OpenAPI request body for routes that read JSON or multipart themselves."""
    binary = {"type": "string", "format": "binary"}
    files = {"type": "array", "items": binary, "minItems": 1} if many else binary
    form = {"type": "object", "properties": {field: files}, "required": [field]}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": json_schema},
                "multipart/form-data": {"schema": form},
            },
        }
    }


def _single_body() -> dict[str, Any]:
    ref = "#/components/schemas/"
    options = [{"$ref": f"{ref}ImageInput"}, {"$ref": f"{ref}PixelsInput"}]
    return _body({"anyOf": options}, "file", many=False)


router = APIRouter(prefix="/api", tags=["api"])


def prediction(result: Result) -> schemas.Prediction:
    """The API's view of one ``Prediction``."""
    return schemas.Prediction.model_validate(result.to_dict())


def number(result: NumberResult) -> schemas.NumberPrediction:
    """The API's view of a ``NumberPrediction`` (status summarises every digit)."""
    statuses = {p.status for p in result.per_digit}
    status: schemas.Status
    if not statuses:
        status = "no_digit"
    elif statuses == {"ok"}:
        status = "ok"
    elif statuses == {"not_a_digit"}:
        status = "not_a_digit"
    else:
        status = "unsure"
    return schemas.NumberPrediction(
        number=result.digits,
        confidence=result.confidence,
        is_digit=status == "ok",
        status=status,
        digits=[prediction(p) for p in result.per_digit],
    )


@router.post(
    "/predict",
    response_model=schemas.Prediction,
    responses=ERRORS,
    openapi_extra=_single_body(),
    summary="Read one digit",
)
async def predict(image: OneImage, predictor: PredictorDep, work: WorkDep) -> schemas.Prediction:
    """Read the digit in an uploaded image, a base64 image or data URL, or 28×28 pixels.

    An empty canvas is not an error: it answers 200 with `digit` null, status `no_digit`.
    """
    # In a thread, never on the event loop: a hop costs ~0.4 ms, but one large image once
    # held a worker (and its health checks) for seconds.
    return await work.read(
        lambda pixels: prediction(predictor.predict(image, max_pixels=pixels)[0])
    )


@router.post(
    "/predict/number",
    response_model=schemas.NumberPrediction,
    responses=ERRORS,
    openapi_extra=_single_body(),
    summary="Read a number of several digits",
)
async def predict_number(
    image: OneImage, predictor: PredictorDep, work: WorkDep
) -> schemas.NumberPrediction:
    """Split the image into digits (at most 32) and read them left to right."""
    return await work.read(
        lambda pixels: number(predictor.predict_number(image, max_pixels=pixels))
    )


@router.post(
    "/predict/batch",
    response_model=schemas.BatchResponse,
    responses=ERRORS,
    openapi_extra=_body({"$ref": "#/components/schemas/BatchRequest"}, "files", many=True),
    summary="Read one digit in each of several images",
)
async def predict_batch(
    images: ManyImages, predictor: PredictorDep, work: WorkDep
) -> schemas.BatchResponse:
    """One answer per image, in order; an image that cannot be read gets its own `error`.

    Each image may use an equal share of 64 megapixels (1 MP each for 64 images).
    """
    share = min(MAX_PIXELS, BATCH_PIXELS // max(1, len(images)))
    return await work.heavy(lambda: _batch(predictor, images, share))


def _batch(predictor: Predictor, images: list[Upload | HTTPException], share: int) -> Any:
    """Preprocess each image on its own (so errors stay per item), then score them together."""
    items: list[schemas.BatchItem] = []
    ready = []
    for image in images:
        try:
            if isinstance(image, HTTPException):
                raise ImageError(str(image.detail))
            ready.append((len(items), predictor.preprocess(image, max_pixels=share)))
            items.append(schemas.BatchItem())
        except ImageError as err:
            items.append(schemas.BatchItem(error=str(err)))
    scored = predictor.predict_preprocessed([p for _, p in ready])
    for (index, _), result in zip(ready, scored, strict=True):
        items[index] = schemas.BatchItem(prediction=prediction(result))
    return schemas.BatchResponse(results=items)


@router.get("/health", response_model=schemas.Health, summary="Liveness and readiness")
async def health(predictor: PredictorDep) -> schemas.Health:
    """200 once the model is loaded and the server takes requests."""
    return schemas.Health(model=predictor.meta.model)


@router.get("/model", response_model=schemas.ModelInfo, summary="The loaded model")
async def model_info(predictor: PredictorDep) -> schemas.ModelInfo:
    """Name, training recipe, metrics and versions of the model being served."""
    meta = predictor.meta
    return schemas.ModelInfo(
        name=meta.model,
        dataset=meta.dataset,
        classes=list(meta.classes),
        recipe=meta.recipe,
        metrics=meta.metrics,
        version=__version__,
        trained_with=meta.package_version,
        git_commit=meta.git_commit,
        created=meta.created,
        temperature=predictor.temperature,
        reject_threshold=predictor.reject_threshold,
        low_res_threshold=predictor.low_res_threshold,
        fingerprint=predictor.fingerprint,
    )
