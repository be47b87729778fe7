"""``write_report(paths, out) -> ReportFiles``: evaluate the runs, draw every exhibit, and write
the PNGs, the Markdown twin and the HTML page, each atomically."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mnist_digits.core.errors import MnistDigitsError
from mnist_digits.core.files import atomic_write, check_writable
from mnist_digits.data.dataset import load_dataset
from mnist_digits.evaluation.evaluate import Say
from mnist_digits.evaluation.report.collect import RunData, collect_run
from mnist_digits.evaluation.report.document import Block, build_document, to_html, to_markdown
from mnist_digits.evaluation.report.exhibits import (
    comparison_exhibits,
    data_exhibits,
    run_exhibits,
)


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went: the HTML file, its Markdown twin and the twin's PNG folder."""

    html: Path
    markdown: Path
    assets: Path


def default_output(paths: list[str | os.PathLike[str]]) -> Path:
    """``RUN_DIR/report.html`` for one run folder, else ``report.html`` here."""
    if len(paths) == 1 and Path(paths[0]).is_dir():
        return Path(paths[0]) / "report.html"
    return Path("report.html")


def _unique_names(runs: list[RunData]) -> None:
    """Give runs with the same folder name a numbered suffix, so table columns differ."""
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.name] = seen.get(run.name, 0) + 1
        if seen[run.name] > 1:
            run.name = f"{run.name} ({seen[run.name]})"


def check_output(out: Path) -> Path:
    """Refuse an output path that cannot work, before any slow evaluation starts."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise MnistDigitsError(f"--out {out} must end in .html; the Markdown twin goes beside it")
    if not out.parent.is_dir():
        raise MnistDigitsError(f"folder {out.parent} does not exist; create it or change --out")
    if out.is_dir():
        raise MnistDigitsError(f"--out {out} is a folder; give the HTML file's name")
    check_writable(out.parent, "pass --out to a writable place, e.g. --out ./report.html")
    assets = assets_folder(out)
    if assets.is_dir():  # written into as well, and may be read-only on its own
        check_writable(assets, f"make {assets} writable or pass another --out")
    return out


def assets_folder(out: Path) -> Path:
    """The folder of the Markdown twin's PNGs, beside the HTML file."""
    return out.with_name(f"{out.stem}_files")


def _one_dataset(runs: list[RunData]) -> str:
    """The dataset every run was evaluated on; runs of different datasets are refused."""
    datasets = sorted({r.figures["dataset"] for r in runs})
    if len(datasets) > 1:
        raise MnistDigitsError(
            f"runs of different datasets ({', '.join(datasets)}) cannot "
            "share a report; report on each dataset's runs separately"
        )
    return datasets[0]


def _write_files(blocks: list[Block], out: Path) -> ReportFiles:
    """The PNGs first, then the Markdown, then the HTML, each written atomically."""
    assets = assets_folder(out)
    markdown = out.with_suffix(".md")
    try:  # checked writable before the work began; a disk can still fill up since
        assets.mkdir(exist_ok=True)
        for block in blocks:
            if block[0] == "exhibit":
                atomic_write(assets / block[2], block[1].png)
        atomic_write(markdown, to_markdown(blocks, assets.name))
        atomic_write(out, to_html(blocks))
    except OSError as err:
        raise MnistDigitsError(f"cannot write the report {out}: {err.strerror}") from None
    return ReportFiles(out, markdown, assets)


def write_report(
    paths: list[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None = None,
    *,
    corruptions: bool = True,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Say | None = None,
) -> ReportFiles:
    """Evaluate runs and write the HTML report and its Markdown twin.

    Args:
        paths: Run folders (or checkpoint files); several are compared side by side.
        out: The HTML file; default ``default_output(paths)``.
        corruptions: Measure corruption accuracy where no cached figures exist.
        seed: Corruption seed.
        data_dir: Dataset cache root.
        progress: Called with a line before each slow step.

    Returns:
        The paths written.
    """
    if not paths:
        raise MnistDigitsError("give at least one run folder to report on")
    target = check_output(Path(out) if out else default_output(paths))
    say = progress or (lambda _line: None)
    runs = []
    for p in paths:
        say(f"evaluating {p}")
        runs.append(
            collect_run(p, corruptions=corruptions, seed=seed, data_dir=data_dir, progress=progress)
        )
    _unique_names(runs)
    dataset = _one_dataset(runs)
    train_labels = load_dataset(dataset, "train", data_dir=data_dir).labels
    say("drawing the plots")
    per_run = [run_exhibits(r) for r in runs]
    compared = comparison_exhibits(runs) if len(runs) > 1 else []
    data = data_exhibits(dataset, train_labels, runs[0])
    blocks = build_document(runs, data, compared, per_run)
    return _write_files(blocks, target)
