import pytest

from mnist_digits.core.errors import ConfigError
from mnist_digits.training.config import load_config_file, resolve_config


def test_resolution_order_defaults_recipe_file_flags(tmp_path):
    cfg = resolve_config({}, {})
    assert cfg.model == "cnn-small" and cfg.epochs == 1  # the model's recipe beats the default
    assert resolve_config({}, {"model": "mlp-seed"}).lr == 3e-3
    f = tmp_path / "c.toml"
    f.write_text('[train]\nlr = 0.01\nepochs = 3\nschedule = "linear"\n')
    cfg = resolve_config(load_config_file(f), {"epochs": 5, "seed": None})
    assert (cfg.lr, cfg.epochs, cfg.schedule, cfg.seed) == (0.01, 5, "linear", 0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epochs": 0}, "epochs must be positive"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of"),
        ({"model": "nope"}, "unknown model"),
        ({"val_size": 60000}, "val_size"),
        ({"warmup": 1.5}, "warmup"),
    ],
)
def test_bad_values(values, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config({}, values)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = = 3")
    with pytest.raises(ConfigError, match=r"not valid \.toml"):
        load_config_file(bad)
    unknown = tmp_path / "u.json"
    unknown.write_text('{"learning_rate": 1}')
    with pytest.raises(ConfigError, match="unknown config keys: learning_rate"):
        resolve_config(load_config_file(unknown), {})


def test_width_sizes_the_model_and_travels_in_the_checkpoint(tmp_path):
    from mnist_digits.core.card import CheckpointMeta
    from mnist_digits.data.specs import MNIST
    from mnist_digits.models.checkpoint import load_checkpoint, save_checkpoint
    from mnist_digits.models.registry import create_model, default_width, width_config

    assert width_config("cnn-small", 0) == {} and default_width("cnn-small") == 16
    assert width_config("mlp-seed", 100) == {"width": 100}  # hidden units, for MLPs
    assert create_model("mlp-seed", **width_config("mlp-seed", 100)).fc1.out_features == 100
    with pytest.raises(ConfigError, match="width must be >= 0"):
        resolve_config({}, {"width": -1})
    cfg = resolve_config({}, {"model": "cnn-small", "width": 8})
    model = create_model(cfg.model, **width_config(cfg.model, cfg.width))
    width = width_config(cfg.model, cfg.width)
    meta = CheckpointMeta("cnn-small", width, MNIST.contract, ("0",) * 10)
    save_checkpoint(tmp_path / "w.safetensors", model, meta)
    loaded, _ = load_checkpoint(tmp_path / "w.safetensors")
    assert loaded.stem[0].out_channels == 8
