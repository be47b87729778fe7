"""What a trained model says about itself, readable without PyTorch.

The same description travels in a ``.safetensors`` checkpoint (written by
:mod:`mnist_digits.models.checkpoint`) and in an exported ``.onnx`` model (by
:mod:`mnist_digits.export`), so a torch-free install can read it from either.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mnist_digits import __version__
from mnist_digits.core.errors import CheckpointError

FORMAT = "mnist-digits-checkpoint/1"
# The metadata key under which both file formats store ``CheckpointMeta.to_json()``.
META_KEY = "mnist_digits"


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint says about itself.

    Attributes:
        model: registry name of the architecture.
        model_config: keyword configuration passed to the builder.
        mean: input normalisation mean (0..1 pixel scale).
        std: input normalisation standard deviation.
        classes: class names, index = output unit.
        dataset: the dataset it was trained on.
        metrics: figures measured for these weights (validation, test).
        recipe: the resolved training configuration that produced them.
        extra: later additions (calibration temperature, reject threshold, ...).
        package_version: mnist-digits version that wrote the file.
        git_commit: the source commit, when known.
        created: ISO-8601 UTC time of writing.
    """

    model: str
    model_config: dict[str, Any]
    mean: float
    std: float
    classes: tuple[str, ...]
    dataset: str = "mnist"
    metrics: dict[str, Any] = field(default_factory=dict)
    recipe: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    package_version: str = __version__
    git_commit: str = "unknown"
    created: str = ""

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, where: str) -> CheckpointMeta:
        try:
            data = json.loads(text)
            if data.pop("format", None) != FORMAT:
                raise ValueError("unknown format")
            data["classes"] = tuple(data["classes"])
            return cls(**data)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckpointError(f"{where}: checkpoint metadata is unreadable ({err})") from None
