"""Request and response bodies of the REST API (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

Status = Literal["ok", "no_digit", "not_a_digit", "unsure"]
# Strict: a pixel is a JSON number; "7" and true are refused, not read as 7 and 1.
Byte = Annotated[float, Field(ge=0, le=255, allow_inf_nan=False, strict=True)]
# Most images in one batch request: 64 280x280 drawings take ~0.25 s on one core here.
MAX_BATCH = 64
Row = Annotated[list[Byte], Field(min_length=28, max_length=28)]
Row28 = Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(min_length=28, max_length=28)]

STATUS_TEXT = (
    "`ok`: a digit was read; `no_digit`: nothing drawn (empty canvas); "
    "`not_a_digit`: ink that is not a digit; `unsure`: torn between two digits."
)


class ImageInput(BaseModel):
    """An encoded image: base64 PNG/JPEG/GIF/BMP/TIFF/WebP, or a ``data:`` URL of one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"image": "data:image/png;base64,iVBORw0KGgo..."}]},
    )

    image: str = Field(description="base64 image bytes, or a data URL such as a canvas export")


class PixelsInput(BaseModel):
    """A 28×28 grid of 0..255 values, white ink on black, as MNIST."""

    model_config = ConfigDict(extra="forbid")

    pixels: Annotated[list[Row], Field(min_length=28, max_length=28)] = Field(
        description="28 rows of 28 numbers in 0..255, white ink (255) on black (0)"
    )


def _input_kind(value: Any) -> str | None:
    """Which input a JSON object is, from its keys (None: neither, a one-line 422)."""
    if isinstance(value, dict):
        return "image" if "image" in value else "pixels" if "pixels" in value else None
    if isinstance(value, ImageInput | PixelsInput):
        return "image" if isinstance(value, ImageInput) else "pixels"
    return None


Input = Annotated[
    Annotated[ImageInput, Tag("image")] | Annotated[PixelsInput, Tag("pixels")],
    Discriminator(
        _input_kind,
        custom_error_type="missing_input",
        custom_error_message='send {"image": "<base64 or data URL>"} or {"pixels": 28x28 numbers}',
    ),
]


class Prediction(BaseModel):
    """What the model read in one image."""

    digit: int | None = Field(
        ge=0, le=9, description="the digit read, or null (empty canvas, or not a digit)"
    )
    confidence: float = Field(ge=0, le=1, description="calibrated probability of the best class")
    probabilities: list[float] = Field(
        min_length=10, max_length=10, description="calibrated probability of each digit 0-9"
    )
    is_digit: bool = Field(description="true only when status is ok")
    status: Status = Field(description=STATUS_TEXT)
    input28: Annotated[list[Row28], Field(min_length=28, max_length=28)] = Field(
        description="the 28×28 image the model saw, white ink on black, 0..255"
    )


class NumberPrediction(BaseModel):
    """A number of several digits, read left to right."""

    number: str = Field(description='the digits read, "?" where one could not be read')
    confidence: float = Field(ge=0, le=1, description="probability that every digit is right")
    is_digit: bool = Field(description="true when every digit was read with confidence")
    status: Status = Field(description=STATUS_TEXT)
    digits: list[Prediction] = Field(description="each digit, left to right")


class BatchRequest(BaseModel):
    """Several images in one request."""

    model_config = ConfigDict(extra="forbid")

    # max_length stops validation at the 65th item, instead of after a million (issue 13).
    items: list[Input] = Field(min_length=1, max_length=MAX_BATCH, description="images to read")


class BatchItem(BaseModel):
    """The answer for one batch item: a prediction, or why that image could not be read."""

    prediction: Prediction | None = None
    error: str | None = None


class BatchResponse(BaseModel):
    """Answers in the order of the request's items."""

    results: list[BatchItem]


class Health(BaseModel):
    """The server is up and its model is loaded."""

    status: Literal["ok"] = "ok"
    model: str = Field(description="name of the loaded model")


class ModelInfo(BaseModel):
    """The loaded model: what it is, how it was trained and how well it did."""

    name: str = Field(description="architecture name in the model registry")
    dataset: str
    classes: list[str]
    recipe: dict[str, Any] = Field(description="the training settings that made these weights")
    metrics: dict[str, Any] = Field(description="figures measured for these weights")
    version: str = Field(description="mnist-digits version serving the model")
    trained_with: str = Field(description="mnist-digits version that trained the model")
    git_commit: str
    created: str = Field(description="when the weights were written, ISO-8601 UTC")
    temperature: float = Field(description="calibration temperature applied to the logits")
    reject_threshold: float = Field(description="confidence below which the answer is flagged")
    low_res_threshold: float = Field(
        description="the same for a digit whose ink box is under 20 input pixels a side"
    )
    fingerprint: str = Field(
        default="", description="which weights answer; stored with every sample they read"
    )


class Error(BaseModel):
    """A request that could not be served, with a one-line reason."""

    detail: str
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="each validation problem: where (loc), what (msg), type"
    )


# --- People's samples: corrections and collect mode (``web.samples_api``) -------------------

SampleKind = Literal["correction", "collect"]
# Writer ids are short and printable: a name or the page's generated "w-3f9a1c".
Writer = Annotated[str, Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]


class SampleFields(BaseModel):
    """What a person says about a drawing: its right label, why it is stored, who wrote it."""

    model_config = ConfigDict(extra="forbid")

    label: int = Field(ge=0, le=9, strict=True, description="the right digit, 0-9")
    kind: SampleKind = Field(
        default="correction",
        description="`correction`: the model was wrong; `collect`: drawn in collect mode",
    )
    writer: Writer = Field(default="", description="a writer id (at most 64 characters)")


class SampleRequest(SampleFields):
    """A drawing to store, sent as JSON: the image as `/api/predict` takes it, plus its label."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"image": "data:image/png;base64,iVBORw0KGgo...", "label": 7}]
        },
    )

    image: str | None = Field(default=None, description="base64 image bytes, or a data URL")
    pixels: Annotated[list[Row], Field(min_length=28, max_length=28)] | None = Field(
        default=None, description="or 28 rows of 28 numbers in 0..255, white on black"
    )


class Sample(BaseModel):
    """A stored sample, without its images."""

    id: int
    created: str = Field(description="when it was stored, ISO-8601 UTC")
    kind: SampleKind
    label: int = Field(ge=0, le=9, description="the right digit")
    writer: str
    predicted: int | None = Field(description="what the model read (null: no digit)")
    status: Status = Field(description="the model's status when it read the drawing")
    probabilities: list[float] = Field(min_length=10, max_length=10)
    model: str = Field(description="the model's registry name")
    fingerprint: str = Field(description="which weights answered (see `/api/model`)")


class SampleList(BaseModel):
    """One page of stored samples, in id order."""

    total: int = Field(description="samples stored (of the kind asked for)")
    offset: int
    items: list[Sample]


class SamplesConfig(BaseModel):
    """Whether this server stores samples, and how fast one client may send them."""

    collect: bool = Field(description="false: the samples routes answer 403")
    rate: float = Field(description="samples per second one client may send, sustained")
    burst: int = Field(description="samples one client may send at once")
