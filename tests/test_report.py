"""The report: one self-contained HTML file with every plot, its Markdown twin, and a side by
side comparison of several runs; built from fake runs (no training, no real dataset)."""

import html.parser
import json
import re
from pathlib import Path

import pytest
from fake_run import make_fake_run

from mnist_digits.cli import main
from mnist_digits.evaluation import evaluate as evaluation
from mnist_digits.evaluation.report.publish import write_report

# What one run shows: curves, 2 confusion matrices, per-class accuracy, 2 galleries,
# reliability, OOD confidence, corruptions, embedding, saliency.
PER_RUN = 11
COMPARISON = 4  # curves, per-class accuracy, corruptions, one confusion change
DATA = 2  # sample grid, class distribution


class _Assets(html.parser.HTMLParser):
    """Collects every src and href attribute, and the tags that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href"):
                self.links.append((tag, name, value or ""))


@pytest.fixture
def two_runs(tiny, tmp_path, monkeypatch):
    # The tiny test set stands in for the out-of-distribution set, so its plot is drawn too.
    monkeypatch.setitem(evaluation.OOD_PARTNER, "tiny", "tiny")
    a = make_fake_run(tiny, tmp_path, "run-a", seed=0)
    b = make_fake_run(tiny, tmp_path, "run-b", seed=1)
    return a.run_dir, b.run_dir, a.data_dir


def test_report_is_self_contained_with_every_plot_and_a_markdown_twin(two_runs, tmp_path):
    run_a, run_b, data_dir = two_runs
    files = write_report([run_a, run_b], tmp_path / "out.html", data_dir=data_dir)
    page = files.html.read_text()
    parser = _Assets()
    parser.feed(page)
    for tag, name, value in parser.links:
        assert "http" not in value.lower(), f"<{tag} {name}={value[:60]}> reaches out"
        assert value.startswith(("data:image/png;base64,", "#")), value[:60]
    assert not {"script", "link", "iframe", "object"} & set(parser.tags)
    images = [v for t, _n, v in parser.links if t == "img"]
    assert len(images) == 2 * PER_RUN + COMPARISON + DATA
    for heading in ("Summary", "Comparison", "Data", "Run run-a", "Run run-b", "Environment"):
        assert f">{heading}</h2>" in page
    assert "temperature (fitted on validation)" in page and "mean corruption error" in page
    # The Markdown twin: the same plots as PNG files beside it, and the same tables.
    text = files.markdown.read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(pictures) == len(images)
    for rel in pictures:
        assert (files.markdown.parent / rel).read_bytes()[:4] == b"\x89PNG"
    assert "| test accuracy |" in text and "http" not in text


def test_report_cli_prints_the_path_and_reuses_cached_corruptions(tiny, tmp_path, capsys):
    run = make_fake_run(tiny, tmp_path)
    argv = ["--data-dir", str(run.data_dir)]
    assert main(["evaluate", str(run.run_dir), "--corruptions", "--seed", "5", *argv]) == 0
    assert main(["evaluate", str(run.run_dir), *argv]) == 0  # keeps the cached corruptions
    capsys.readouterr()
    assert main(["report", str(run.run_dir), "--no-corruptions", "--seed", "5", *argv]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(run.run_dir / "report.html") and Path(out).is_file()
    # --no-corruptions measures none, so the corruption plot comes from evaluate's cache.
    assert "Accuracy per corruption" in Path(out).read_text()
    assert (run.run_dir / "report.md").is_file()
    assert (
        main(["report", str(run.run_dir), "--json", "--out", str(tmp_path / "r.html"), *argv]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["html"] == str(tmp_path / "r.html") and Path(doc["markdown"]).is_file()


def test_report_bad_input_is_one_line(tiny, tmp_path, capsys):
    run = make_fake_run(tiny, tmp_path)
    argv = ["--data-dir", str(run.data_dir), "--no-corruptions"]
    assert main(["report", str(run.run_dir), "--out", str(tmp_path / "x.md"), *argv]) == 2
    assert main(["report", str(run.run_dir), "--out", str(tmp_path / "no/r.html"), *argv]) == 2
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err


def test_embedded_pngs_never_spell_http_and_keep_their_pixels():
    import base64
    import io

    import numpy as np
    from PIL import Image

    from mnist_digits.evaluation.report.document import data_uri

    rng = np.random.default_rng(0)
    for _ in range(2000):  # about 1 in 60 of these noise PNGs spells "http" in base64
        image = rng.integers(0, 256, (60, 60, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "PNG")
        if "http" in base64.b64encode(buf.getvalue()).decode().lower():
            break
    else:
        pytest.fail("no PNG spelling http was found to test with")
    uri = data_uri(buf.getvalue())
    assert uri.startswith("data:image/png;base64,") and "http" not in uri.lower()
    back = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert np.array_equal(np.asarray(back), image)
