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
from mnist_digits.core.contract import InputContract
from mnist_digits.core.errors import CheckpointError

# /2: the input contract replaced the bare mean and std of /1.
FORMAT = "mnist-digits-checkpoint/2"
# The metadata key under which both file formats store ``CheckpointMeta.to_json()``.
META_KEY = "mnist_digits"


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint says about itself.

    Attributes:
        model: registry name of the architecture.
        model_config: keyword configuration passed to the builder.
        input: the input contract: how stored pixels become this model's input.
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
    input: InputContract
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
            written = data.pop("format", None)
            if written != FORMAT:
                raise ValueError(f"format {written!r}, this version reads {FORMAT!r}")
            data["classes"] = tuple(data["classes"])
            data["input"] = InputContract.from_dict(data["input"], where=where)
            return cls(**data)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckpointError(f"{where}: checkpoint metadata is unreadable ({err})") from None
