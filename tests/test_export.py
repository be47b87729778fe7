"""ONNX export: the graph's contract, its self-description, the CLI, and parity with PyTorch
(float32 within 1e-4 in logits over the MNIST test set; int8 within 0.1 point of accuracy and
agreeing on 99.8% of answers)."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from mnist_digits.cli import main
from mnist_digits.data.specs import MNIST
from mnist_digits.export import OUTPUT_NAME, PixelsToLogits, export_onnx
from mnist_digits.models.checkpoint import load_checkpoint, read_meta
from mnist_digits.predict import SHIPPED, SHIPPED_ONNX, OnnxBackend, Predictor, TorchBackend


def _session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _onnx_logits(path, pixels: np.ndarray, batch: int = 1000) -> np.ndarray:
    session = _session(path)
    parts = [
        session.run(None, {MNIST.contract.onnx_input: pixels[i : i + batch]})[0]
        for i in range(0, len(pixels), batch)
    ]
    return np.concatenate(parts)


@torch.inference_mode()
def _torch_logits(checkpoint, pixels: np.ndarray) -> np.ndarray:
    model, meta = load_checkpoint(checkpoint)
    return PixelsToLogits(model, meta.input).eval()(torch.from_numpy(pixels)).numpy()


def test_graph_contract(tiny_onnx):
    proto = onnx.load(str(tiny_onnx))
    onnx.checker.check_model(proto)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert inp.name == MNIST.contract.onnx_input and out.name == OUTPUT_NAME
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert isinstance(dims[0], str) and dims[1:] == [1, 28, 28]  # dynamic batch
    assert [d.dim_value for d in out.type.tensor_type.shape.dim][1:] == [10]
    ops = [n.op_type for n in proto.graph.node]
    assert ops[:2] == ["Sub", "Div"] and "BatchNormalization" not in ops  # normalised inside


def test_metadata_describes_the_model(tiny_checkpoint, tiny_onnx):
    props = {p.key: p.value for p in onnx.load(str(tiny_onnx)).metadata_props}
    meta = read_meta(tiny_checkpoint)
    assert json.loads(props["classes"]) == list("0123456789")
    assert json.loads(props["normalization"]) == {**MNIST.contract.to_dict(), "in_graph": True}
    assert json.loads(props["temperature"]) == 1.25 and json.loads(props["reject_threshold"]) == 0.6
    assert props["version"] == meta.package_version and props["model"] == "cnn-small"
    assert json.loads(props["recipe"]) == meta.recipe
    assert json.loads(props["quantization"])["scheme"].startswith("none")
    assert OnnxBackend(tiny_onnx).meta == meta


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_dynamic_batch_matches_torch(tiny_checkpoint, tiny_onnx, batch):
    pixels = np.random.default_rng(batch).random((batch, 1, 28, 28), dtype=np.float32)
    ours = _onnx_logits(tiny_onnx, pixels)
    assert ours.shape == (batch, 10)
    assert np.abs(ours - _torch_logits(tiny_checkpoint, pixels)).max() <= 1e-4


def test_predictor_on_onnx_matches_torch(tiny_checkpoint, tiny_onnx):
    from imagegen import make_user_images

    images = [im for im, _, _ in make_user_images(12, seed=3)]
    by_torch, by_onnx = (
        Predictor.from_checkpoint(tiny_checkpoint),
        Predictor.from_checkpoint(tiny_onnx),
    )
    assert isinstance(by_torch.backend, TorchBackend) and isinstance(by_onnx.backend, OnnxBackend)
    assert (by_onnx.temperature, by_onnx.reject_threshold) == (1.25, 0.6)
    np.testing.assert_allclose(
        by_onnx.predict_proba(images), by_torch.predict_proba(images), atol=1e-5
    )


def test_int8_export_is_quantised_and_described(tiny_checkpoint, tmp_path):
    calibration = (np.random.default_rng(0).random((100, 28, 28)) * 255).astype(np.uint8)
    result = export_onnx(tiny_checkpoint, tmp_path / "q.onnx", int8=True, calibration=calibration)
    proto = onnx.load(str(result.path))
    assert "QuantizeLinear" in {n.op_type for n in proto.graph.node}
    props = {p.key: p.value for p in proto.metadata_props}
    assert "int8" in json.loads(props["quantization"])["scheme"]
    assert 0 <= result.check["argmax_agreement"] <= 1
    assert Predictor.from_checkpoint(result.path).predict_pixels(calibration[0]).status


def test_cli_export_json_and_default_name(tiny_checkpoint, tmp_path, capsys):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(tiny_checkpoint.read_bytes())
    assert main(["export", str(weights), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["path"] == str(tmp_path / "w.onnx") and rec["opset"] >= 17
    assert rec["check"]["max_abs_diff"] <= 1e-4 and not rec["int8"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["export", "{missing}", "--out", "{tmp}/m.onnx"], "does not exist"),
        (["export", "{ckpt}", "--out", "{tmp}/m.pt"], "must name a .onnx file"),
        (["predict", "--checkpoint", "{tmp}/junk.onnx", "{tmp}"], "not a readable ONNX model"),
        (["predict", "--checkpoint", "{tmp}/bare.onnx", "{tmp}"], "no mnist-digits metadata"),
    ],
)
def test_bad_input_is_one_line(tiny_checkpoint, tiny_onnx, tmp_path, capsys, argv, expected):
    (tmp_path / "junk.onnx").write_bytes(b"<html>not a model</html>")
    bare = onnx.load(str(tiny_onnx))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    names = {"missing": tmp_path / "nope", "tmp": tmp_path, "ckpt": tiny_checkpoint}
    assert main([a.format(**names) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mnist-digits: error:") and "\n" not in err and expected in err, err


# Parity over the MNIST test set uses the shipped weights, once they exist.
needs_shipped = pytest.mark.skipif(not SHIPPED.exists(), reason="shipped weights not built yet")


@pytest.fixture(scope="module")
def test_pixels(mnist_home):
    from mnist_digits.data.dataset import load_dataset

    test = load_dataset("mnist", "test")
    return test.contract.pixels(test.images), test.labels.astype(np.int64)


@pytest.fixture(scope="module")
def shipped_logits(test_pixels):
    return _torch_logits(SHIPPED, test_pixels[0])


@pytest.mark.slow
@needs_shipped
def test_fp32_parity_over_the_test_set(tmp_path, test_pixels, shipped_logits):
    exported = export_onnx(SHIPPED, tmp_path / "fp32.onnx").path
    diff = np.abs(_onnx_logits(exported, test_pixels[0]) - shipped_logits).max()
    assert diff <= 1e-4, diff


@pytest.mark.slow
@needs_shipped
def test_int8_parity_over_the_test_set(tmp_path, test_pixels, shipped_logits):
    exported = export_onnx(SHIPPED, tmp_path / "int8.onnx", int8=True).path
    pixels, labels = test_pixels
    ours, ref = _onnx_logits(exported, pixels).argmax(1), shipped_logits.argmax(1)
    drop = (ref == labels).mean() - (ours == labels).mean()
    agreement = (ours == ref).mean()
    assert drop <= 0.001 and agreement >= 0.998, (drop, agreement)


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED_ONNX.exists(), reason="shipped ONNX not exported yet")
@needs_shipped
def test_shipped_onnx_is_the_shipped_weights(test_pixels, shipped_logits):
    # Catches a stale export: rerun `make shipped-onnx` after the weights change.
    assert OnnxBackend(SHIPPED_ONNX).meta == read_meta(SHIPPED)
    diff = np.abs(_onnx_logits(SHIPPED_ONNX, test_pixels[0][:2000]) - shipped_logits[:2000]).max()
    assert diff <= 1e-4, diff
