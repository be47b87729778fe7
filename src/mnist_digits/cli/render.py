"""Terminal rendering for the CLI: progress bars and logs on stderr, JSON on stdout."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from mnist_digits.data.store import FetchReport

if TYPE_CHECKING:  # train imports PyTorch, which a serving install does not have
    from mnist_digits.training.loop import Progress


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    print(json.dumps(data, default=str))


def log(message: str) -> None:
    """A line for people, on stderr."""
    print(message, file=sys.stderr, flush=True)


class DownloadBars:
    """A progress bar per downloaded file, on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, tqdm] = {}

    def __call__(self, name: str, done: int, total: int | None) -> None:
        bar = self.bars.get(name)
        if bar is None:
            bar = tqdm(
                total=total,
                desc=name,
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                leave=False,
                disable=None,
            )
            self.bars[name] = bar
        bar.update(done - bar.n)


def report_fetch(report: FetchReport) -> None:
    """Tell people what was fetched or repaired, naming every bad file."""
    for f in report.files:
        if f.status == "repaired":
            log(
                f"repaired {report.dataset}/{f.name}: cached copy had {f.problem}; "
                f"replaced from {f.source}"
            )
        elif f.status == "fetched":
            log(f"fetched {report.dataset}/{f.name} from {f.source}")


def _time_left(bar: tqdm, event: Progress) -> str:
    """Estimated time left for the whole run, at this epoch's pace (validation excluded)."""
    rate = bar.format_dict.get("rate")  # steps per second, smoothed by tqdm
    if not rate:
        return "?"
    steps_left = (event.steps - event.step) + (event.epochs - event.epoch) * event.steps
    minutes, seconds = divmod(int(steps_left / rate), 60)
    return f"{minutes}:{seconds:02d}"


class TrainBars:
    """One progress bar per epoch with loss, accuracy, learning rate, images/s and time left;
    a plain log line per epoch when stderr is not a terminal."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.interactive = sys.stderr.isatty()

    def __call__(self, event: Progress) -> None:
        if event.kind == "step" and self.interactive:
            if self.bar is None:
                self.bar = tqdm(
                    total=event.steps,
                    desc=f"epoch {event.epoch}/{event.epochs}",
                    unit="step",
                    file=sys.stderr,
                    leave=False,
                )
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix(
                left=_time_left(self.bar, event),
                loss=f"{event.loss:.4f}",
                acc=f"{event.acc:.4f}",
                lr=f"{event.lr:.2e}",
                img_s=f"{event.images_per_s:,.0f}",
            )
        elif event.kind == "epoch_end" and event.stats is not None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            s = event.stats
            log(
                f"epoch {s.epoch}/{event.epochs}  loss {s.train_loss:.4f}  acc {s.train_acc:.4f}"
                f"  val_loss {s.val_loss:.4f}  val_acc {s.val_acc:.4f}  lr {s.lr:.2e}"
                f"  {s.images_per_s:,.0f} img/s  {s.seconds:.1f}s"
            )
