"""One typed, frozen configuration for training. CLI flags map one to one onto its fields."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mnist_digits.core.errors import ConfigError
from mnist_digits.data.userset import is_export
from mnist_digits.models.registry import get_model_entry, width_config


def _f(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe. Defaults are overridden by the model's recipe, then a config file,
    then flags; the resolved result is saved beside every run as ``config.json``."""

    model: str = _f("cnn-small", "architecture name from the model registry")
    recipe: str = _f("", "a name for this recipe, recorded in checkpoints (default: <model>)")
    width: int = _f(
        0, "model width: hidden units (MLPs) or first-stage channels (CNNs); 0: default"
    )
    dataset: str = _f("mnist", "dataset to train on", ("mnist", "fashion-mnist"))
    epochs: int = _f(10, "passes over the training split")
    batch_size: int = _f(128, "images per optimisation step")
    lr: float = _f(1e-3, "peak learning rate")
    optimizer: str = _f("adam", "optimiser", ("adam", "adamw", "sgd"))
    momentum: float = _f(0.9, "SGD (Nesterov) momentum")
    weight_decay: float = _f(0.0, "weight decay (decoupled for adamw)")
    schedule: str = _f(
        "onecycle",
        "learning-rate schedule: warm-up then cosine (onecycle) or linear decay to zero",
        ("onecycle", "linear", "constant"),
    )
    warmup: float = _f(0.1, "warm-up share of all steps, 0..1")
    label_smoothing: float = _f(0.0, "label smoothing for cross-entropy")
    augment: float = _f(0.0, "random-affine strength; 1.0 = rotate ±12°, scale ±10%, shift ±2.5 px")
    elastic: float = _f(0.0, "elastic distortion in pixels (0 disables)")
    ema: float = _f(0.0, "decay of an exponential moving average of weights (0 disables)")
    patience: int = _f(0, "stop after this many epochs without a better val accuracy (0: never)")
    outlier_exposure: float = _f(
        0.0, "weight of a loss pushing non-digits (Fashion-MNIST, noise) to uniform (0 disables)"
    )
    preprocessed: float = _f(
        0.0, "share of training digits shown as users' preprocessing leaves them, 0..1"
    )
    lowres: float = _f(
        0.0, "share of those preprocessed digits made from an 8-20 px copy (a scan), 0..1"
    )
    printed_digits: int = _f(0, "printed digits in the training typefaces to add (0: none)")
    negatives: int = _f(0, "generated non-digits per training family, as outliers (0: none)")
    pairs: int = _f(0, "touching pairs of training digits, as outliers: two are not one (0: none)")
    stroke: float = _f(0.0, "share of training digits drawn with a thinner or fatter pen, 0..1")
    tta: bool = _f(False, "average predictions over 1-px shifts when evaluating")
    outlier_augment: bool = _f(
        False, "distort non-digits as digits are, so the distortion cannot tell them apart"
    )
    channels_last: bool = _f(True, "channels-last memory format for CNNs (faster on CPU and GPU)")
    compile: bool = _f(False, "torch.compile the model (GPU; slow start-up)")
    amp: bool = _f(True, "bf16 autocast on CUDA (ignored on CPU)")
    cpu_bf16: bool = _f(
        False, "bf16 autocast on CPUs with native bf16 (AMX or AVX512-BF16; ignored elsewhere)"
    )
    val_size: int = _f(5000, "training images held out for validation")
    val_seed: int = _f(0, "seed of the validation split (kept fixed across training seeds)")
    seed: int = _f(0, "seed of initialisation and shuffling")
    device: str = _f("auto", "device", ("auto", "cpu", "cuda"))
    deterministic: bool = _f(False, "use deterministic algorithms (slower on GPU)")

    def validate(self) -> TrainConfig:
        """Check ranges and names; return self for chaining."""
        get_model_entry(self.model)
        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            # A samples export folder is a dataset too (train --source-dir EXPORT).
            if choices and value not in choices and not (f.name == "dataset" and is_export(value)):
                raise ConfigError(f"{f.name} must be one of {', '.join(choices)}")
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")
        if not 0 <= self.warmup < 1 or not 0 <= self.label_smoothing < 1:
            raise ConfigError("warmup and label_smoothing must be in [0, 1)")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"ema must be in [0, 1), got {self.ema}")
        if min(self.augment, self.elastic, self.patience, self.outlier_exposure) < 0:
            raise ConfigError("augment, elastic, patience and outlier_exposure must be >= 0")
        if not all(0 <= v <= 1 for v in (self.preprocessed, self.stroke, self.lowres)):
            raise ConfigError("preprocessed, lowres and stroke are shares: give values in [0, 1]")
        if min(self.printed_digits, self.negatives, self.pairs) < 0:
            raise ConfigError("printed_digits, negatives and pairs are counts: give values >= 0")
        if self.width < 0:
            raise ConfigError(f"width must be >= 0 (0: the model's default), got {self.width}")
        width_config(self.model, self.width)  # a model without a width refuses one
        if not 0 < self.val_size < 60_000:
            raise ConfigError(f"val_size must be between 1 and 59999, got {self.val_size}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML, YAML or JSON config file into a dict of TrainConfig fields."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read config file {p}: {err.strerror}") from None
    try:
        if p.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif p.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as err:  # every parser has its own error type; all mean "bad file"
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"config file {p} is not valid {p.suffix or 'JSON'}: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p} must hold a table of settings")
    return dict(data.get("train", data))


def resolve_config(file_values: dict[str, Any], flag_values: dict[str, Any]) -> TrainConfig:
    """Merge defaults < model recipe < config file < flags into a validated TrainConfig."""
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(file_values) - set(known))
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
    explicit = {**file_values, **{k: v for k, v in flag_values.items() if v is not None}}
    model = explicit.get("model", TrainConfig.model)
    merged = {**get_model_entry(model).recipe, **explicit}
    try:
        cfg = replace(TrainConfig(), **{k: _coerce(known[k].type, v) for k, v in merged.items()})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"bad config value: {err}") from None
    return cfg.validate()


def _coerce(type_name: Any, value: Any) -> Any:
    kinds = {"int": int, "float": float, "str": str, "bool": bool}
    kind = kinds.get(str(type_name))
    if kind is bool and isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return kind(value) if kind else value
