"""Every registered model: output shape, finite outputs, gradients, checkpoint round trip."""

import pytest
import torch

from mnist_digits.core.card import CheckpointMeta
from mnist_digits.core.errors import CheckpointError, ConfigError
from mnist_digits.data.specs import MNIST
from mnist_digits.models.checkpoint import load_checkpoint, read_meta, save_checkpoint
from mnist_digits.models.registry import MODELS, create_model


@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_shape_and_finite(name):
    torch.manual_seed(0)
    model = create_model(name).train()
    x = torch.randn(8, 1, 28, 28)
    out = model(x)
    assert out.shape == (8, 10)
    assert torch.isfinite(out).all()
    out.logsumexp(1).mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_checkpoint_round_trip(name, tmp_path):
    model = create_model(name).eval()
    meta = CheckpointMeta(name, {}, MNIST.contract, MNIST.classes, metrics={"val": 0.9})
    path = save_checkpoint(tmp_path / "m.safetensors", model, meta)
    loaded, meta2 = load_checkpoint(path)
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model(x))
    assert meta2.model == name and meta2.metrics == {"val": 0.9} and meta2.created
    assert meta2.package_version


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown model 'resnet'; choose one of: mlp-seed"):
        create_model("resnet")


def test_bad_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_meta(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match=r"holds no best\.safetensors"):
        read_meta(tmp_path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(junk)
