"""Reading people's images with the shipped model: accuracy against a naive baseline, honest
"not a digit", multi-digit numbers, and bad input that never crashes."""

import faulthandler
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from components import fashion_mnist_or_missing, missing
from imagegen import draw_digit, make_number_image, make_user_images, naive_resize
from PIL import Image

from mnist_digits.cli import main
from mnist_digits.cli.predict_cmd import BATCH, read_paths, uses_pool
from mnist_digits.core.verdict import LOW_DETAIL, LOW_RES_SIDE, reject_thresholds, threshold_for
from mnist_digits.predict import SHIPPED, Predictor

if not SHIPPED.exists():
    missing(f"shipped weights {SHIPPED} not built yet: make shipped-weights", module=True)


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_checkpoint()


@pytest.fixture(scope="module")
def users():
    return make_user_images(240, seed=11)


def test_users_images_far_above_the_naive_baseline(predictor, users):
    labels = np.array([d for _, d, _ in users])
    ours = np.array(
        [
            p.digit if p.digit is not None else -1
            for p in predictor.predict([im for im, _, _ in users])
        ]
    )
    naive = predictor.probabilities28(np.stack([naive_resize(im) for im, _, _ in users]))
    ours_acc, naive_acc = (ours == labels).mean(), (naive.argmax(1) == labels).mean()
    assert ours_acc >= 0.93, ours_acc
    assert ours_acc - naive_acc >= 0.4, (ours_acc, naive_acc)


def test_predict_proba_and_empty_canvas(predictor):
    blank = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    probs = predictor.predict_proba([blank, make_user_images(1, seed=2)[0][0]])
    assert probs.shape == (2, 10)
    assert probs[0].sum() == 0 and probs[1].sum() == pytest.approx(1, abs=1e-5)
    empty = predictor.predict(blank)[0]
    assert (empty.digit, empty.is_digit, empty.status) == (None, False, "no_digit")


@pytest.mark.parametrize("number", ["2026", "147", "90", "31415"])
def test_multi_digit_numbers(predictor, number):
    read = predictor.predict_number(make_number_image(number, seed=5))
    assert read.digits == number
    assert len(read.per_digit) == len(number) and 0 < read.confidence <= 1


@pytest.mark.slow
def test_reject_threshold_on_fashion_and_mnist(predictor):
    from mnist_digits.data.dataset import load_dataset

    fashion_mnist_or_missing()  # once it is there, any error loading it fails the test
    mnist = load_dataset("mnist", "test").images[:2000]
    fashion = load_dataset("fashion-mnist", "test").images[:2000]
    flagged_digits = np.mean([not p.is_digit for p in predictor.predict(list(mnist))])
    flagged_fashion = np.mean([not p.is_digit for p in predictor.predict(list(fashion))])
    assert flagged_digits <= 0.025, flagged_digits
    # The product target is 90%; the shipped model catches 88% of these 2,000 (a floor, not the
    # target: the benchmark figure in the README says where it stands).
    assert flagged_fashion >= 0.85, flagged_fashion


def test_low_resolution_thresholds_are_read_capped_and_routed_by_the_ink_box() -> None:
    """The low-resolution threshold defaults to the main one, is never above it, and judges a
    digit whose ink box is under LOW_RES_SIDE input pixels on its longer side."""
    assert reject_thresholds({}) == (0.5, 0.5)
    assert reject_thresholds({"reject_threshold": 0.8, "low_res_threshold": 0.9}) == (0.8, 0.8)
    pair = reject_thresholds({"reject_threshold": 0.8, "low_res_threshold": 0.6})
    assert pair == (0.8, 0.6)
    small, edge = (3, 2, 3 + LOW_RES_SIDE - 1, 12), (0, 0, 5, LOW_RES_SIDE)
    sharp = LOW_DETAIL + 1
    assert threshold_for(small, sharp, pair) == 0.6
    assert threshold_for(edge, sharp, pair) == 0.8 and threshold_for(None, 0.0, pair) == 0.8
    assert threshold_for(edge, LOW_DETAIL - 1, pair) == 0.6  # a large box of little detail


def test_a_digit_under_twenty_input_pixels_is_judged_by_the_low_resolution_threshold() -> None:
    """Routing through the predictor: with the low-resolution threshold above any confidence,
    a 10 px digit is flagged while the same digit at 200 px is still read."""
    reader = Predictor.from_checkpoint()
    assert reader.low_res_threshold < reader.reject_threshold  # the shipped calibration's
    ink = draw_digit(3, size=(400, 400), pen=28, centre=(200, 200), height=300).reduce(2)
    big = Image.fromarray(255 - np.asarray(ink))  # (200, 200) dark on white
    small = big.resize((10, 10), Image.Resampling.BOX)
    assert reader.predict(big)[0].is_digit and reader.predict(small)[0].bbox is not None
    reader.low_res_threshold = 1.01
    assert reader.predict(big)[0].is_digit and not reader.predict(small)[0].is_digit
    reader.low_res_threshold = 0.0
    assert reader.predict(small)[0].is_digit


def test_a_small_scan_enlarged_is_judged_by_the_low_resolution_threshold() -> None:
    """An 8 px scan enlarged 8x spans 64 px but carries the scan's detail, so the
    low-resolution threshold judges it; the same digit drawn at 64 px is judged by the main one."""
    reader = Predictor.from_checkpoint()
    ink = draw_digit(3, size=(400, 400), pen=28, centre=(200, 200), height=300).reduce(2)
    big = Image.fromarray(255 - np.asarray(ink))  # (200, 200) dark on white
    sharp = big.resize((64, 64), Image.Resampling.BOX)
    enlarged = big.resize((8, 8), Image.Resampling.BOX).resize((64, 64), Image.Resampling.BICUBIC)
    for image in (sharp, enlarged):
        bbox = reader.predict(image)[0].bbox
        assert bbox is not None and max(bbox[2] - bbox[0], bbox[3] - bbox[1]) >= LOW_RES_SIDE
    reader.low_res_threshold = 1.01
    assert reader.predict(sharp)[0].is_digit and not reader.predict(enlarged)[0].is_digit


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _bomb_png(side: int = 100_000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def _bad_files(folder):
    good = _png(make_user_images(1, seed=4)[0][0].convert("RGB"))
    files = {
        "a_good.png": good,
        "b_empty.png": b"",
        "c_truncated.png": good[: len(good) // 3],
        "d_html.png": b"<!DOCTYPE html><html><body>404</body></html>",
        "e_unsupported.webp": b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 30,
        "f_one_pixel.png": _png(Image.new("L", (1, 1), 255)),
        "g_bomb.png": _bomb_png(),
        "h_huge.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * (11 * 1024 * 1024),
        "i_good.jpg": good,
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_cli_folder_of_good_and_bad_files(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    files = _bad_files(tmp_path / "in")
    code = main(["predict", "--json", "--top-k", "3", str(tmp_path / "in")])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "Traceback" not in err
    assert [rec["path"].rsplit("/", 1)[1] for rec in lines] == sorted(files)
    by_name = {rec["path"].rsplit("/", 1)[1]: rec for rec in lines}
    for name in ("a_good.png", "i_good.jpg"):
        rec = by_name[name]
        assert isinstance(rec["digit"], int) and len(rec["probabilities"]) == 10
        assert len(rec["top_k"]) == 3 and rec["is_digit"] in (True, False)
    for name in files.keys() - {"a_good.png", "i_good.jpg"}:
        error = by_name[name]["error"]
        assert error and "\n" not in error, (name, error)


def test_a_folder_read_in_two_processes_answers_as_one(predictor, tmp_path):
    """Two batches or more go through the --jobs pool: every answer, and every bad file's
    one-line error, is the one a single process gives, in path order."""
    images = make_user_images(20, seed=21)
    for i in range(2 * BATCH):
        (tmp_path / f"{i:04d}.png").write_bytes(_png(images[i % 20][0]))
    (tmp_path / "0100.png").write_bytes(b"not a png")
    paths = sorted(str(p) for p in tmp_path.iterdir())
    assert uses_pool(len(paths), 2) and not uses_pool(len(paths), 1)
    one, two = list(read_paths(predictor, paths, 0, 1)), list(read_paths(predictor, paths, 0, 2))
    assert [r["path"] for r in two] == paths
    assert "error" in two[100] and "\n" not in two[100]["error"]
    for a, b in zip(one, two, strict=True):
        assert "input28" not in b and a.keys() == b.keys()
        assert a.get("digit") == b.get("digit") and a.get("status") == b.get("status")
        assert np.allclose(a.get("probabilities", 0), b.get("probabilities", 0), atol=1e-5)


def test_the_cli_starts_without_the_report_plotting_stack():
    """`predict` builds the whole parser; that must not import the report's plotting libraries
    (about 1 s of a 3 s start for one image when it did)."""
    code = (
        "import sys; from mnist_digits.cli import build_parser; build_parser(); "
        "found = [m for m in ('seaborn', 'matplotlib', 'pandas') if m in sys.modules]; "
        "sys.exit(', '.join(found) or None)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_cli_multi_and_table(tmp_path, capsys):
    path = tmp_path / "number.png"
    make_number_image("2026", seed=5).save(path)
    assert main(["predict", "--json", "--multi", str(path)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["digits"] == "2026" and len(rec["per_digit"]) == 4
    assert main(["predict", str(path)]) == 0
    assert "number.png" in capsys.readouterr().out


def test_cli_missing_checkpoint_is_one_line(tmp_path, capsys):
    assert main(["predict", "--checkpoint", str(tmp_path / "nope"), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mnist-digits: error:") and "\n" not in err


def test_cli_folder_reports_links_pipes_and_devices(tmp_path, capsys):
    """Entries of a folder that look like images but are not files are named, one line each;
    none is opened (a FIFO would block and /dev/zero never ends), so this cannot hang."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_good.png").write_bytes(_png(make_user_images(1, seed=4)[0][0]))
    (folder / "b_dangling.png").symlink_to(folder / "gone.png")
    os.mkfifo(folder / "c_fifo.png")
    (folder / "d_zero.png").symlink_to("/dev/zero")
    # A hang ends the run with a traceback instead of blocking it (capsys holds sys.stderr).
    faulthandler.dump_traceback_later(120, exit=True, file=sys.__stderr__)
    try:
        code = main(["predict", "--json", str(folder)])
    finally:
        faulthandler.cancel_dump_traceback_later()
    out, err = capsys.readouterr()
    by_name = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert code == 1 and "Traceback" not in err
    assert sorted(by_name) == ["a_good.png", "b_dangling.png", "c_fifo.png", "d_zero.png"]
    assert "digit" in by_name["a_good.png"]
    for name, words in [
        ("b_dangling.png", "broken symbolic link"),
        ("c_fifo.png", "named pipe"),
        ("d_zero.png", "device"),
    ]:
        error = by_name[name]["error"]
        assert words in error and "\n" not in error, (name, error)
