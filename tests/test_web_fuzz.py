"""Property-based fuzzing of the OpenAPI document with Schemathesis: no input gets a 5xx.

Schemathesis generates requests from ``/openapi.json`` (bodies that fit the schema and bodies
that do not, in both content types) and checks every answer: never a server error, status
codes, content types and bodies as documented. Bounded: ``EXAMPLES`` per operation and mode,
a few seconds in all. (Driven through ``as_strategy`` with Hypothesis directly: Schemathesis'
own pytest plugin does not run under pytest 9.)
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from webhelp import checkpoint_or_skip

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis (dev extra)")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from mnist_digits.predict import Predictor  # noqa: E402
from mnist_digits.web.app import create_app  # noqa: E402
from mnist_digits.web.settings import Settings  # noqa: E402

EXAMPLES = 12  # per operation and mode: 8 runs x 12 ~ 100 requests, a few seconds
SLOW_EXAMPLES = 200  # the slow tier's depth per operation and mode
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
RUNS = [
    ("POST", "/api/predict", POSITIVE),
    ("POST", "/api/predict", NEGATIVE),
    ("POST", "/api/predict/number", POSITIVE),
    ("POST", "/api/predict/number", NEGATIVE),
    ("POST", "/api/predict/batch", POSITIVE),
    ("POST", "/api/predict/batch", NEGATIVE),
    ("GET", "/api/health", POSITIVE),  # no parameters: nothing to make invalid
    ("GET", "/api/model", POSITIVE),
]
# "Schema-valid data is accepted" cannot hold for images: any bytes fit `format: binary`
# and any string fits `image`, but only decodable images are readable (they get 400).
EXCLUDED = [positive_data_acceptance]


@pytest.fixture(scope="module")
def api_schema() -> Any:
    app = create_app(Settings(), Predictor.from_checkpoint(checkpoint_or_skip()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's test client prefers httpx2
        return schemathesis.openapi.from_asgi("/openapi.json", app)


def fuzz(api_schema: Any, method: str, path: str, mode: GenerationMode, examples: int) -> None:
    """Send ``examples`` generated requests to one operation; every answer must validate."""
    operation = api_schema[path][method]

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,  # no .hypothesis folder in the repository
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def one(case: Any) -> None:
        case.call_and_validate(excluded_checks=EXCLUDED)

    one()


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("method", "path", "mode"), RUNS)
def test_api_never_fails(api_schema: Any, method: str, path: str, mode: GenerationMode) -> None:
    fuzz(api_schema, method, path, mode, EXAMPLES)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("method", "path", "mode"), RUNS)
def test_api_never_fails_at_200_examples(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    """The slow tier: 200 generated requests per operation and mode (1,600 in all)."""
    fuzz(api_schema, method, path, mode, SLOW_EXAMPLES)
