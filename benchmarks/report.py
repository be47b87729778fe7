"""Summaries over seeds, targets, the Markdown table, and the machine the figures come from."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable
from typing import Any

from entries import Entry


def mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for one value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std}


def time_to(run: dict[str, Any], threshold: float) -> float | None:
    """Cumulative training seconds at the first epoch whose test accuracy reaches ``threshold``
    (DAWNBench's convention: the test score after each epoch, a report that selects nothing)."""
    return next((e["train_seconds"] for e in run["epochs"] if e["test_acc"] >= threshold), None)


def val_chosen_time_to(run: dict[str, Any], threshold: float) -> float | None:
    """Cumulative training seconds at the first epoch where the model best on validation so far
    (the one a run stopped there would keep, ties to the earlier epoch as in training) reaches
    ``threshold`` on test; None when it never does or the run has no validation figures."""
    best_val, best_test = -1.0, 0.0
    for e in run["epochs"]:
        if e.get("val_acc") is None:
            return None
        if e["val_acc"] > best_val:
            best_val, best_test = e["val_acc"], e["test_acc"]
        if best_test >= threshold:
            return float(e["train_seconds"])
    return None


def times_to(
    runs: list[dict[str, Any]], threshold: float, clock: Callable[..., float | None] = time_to
) -> dict[str, Any]:
    """Time to ``threshold`` over seeds, by ``clock`` (``time_to`` or ``val_chosen_time_to``).

    Returns the mean over the seeds that reached it, how many did, each seed's time (None where
    missed), and ``bound``: the mean with each missing seed's whole training time in its place
    (a lower bound on its time to the threshold, used when a reference falls short), with
    ``bounds`` per seed.
    """
    times = [clock(r, threshold) for r in runs]
    reached = [t for t in times if t is not None]
    bounds = [t if t is not None else r["train_seconds"] for t, r in zip(times, runs, strict=True)]
    return {
        "mean": statistics.fmean(reached) if reached else None,
        "reached": len(reached),
        "runs": len(runs),
        "bound": statistics.fmean(bounds),
        "seeds": times,
        "bounds": bounds,
    }


def summarize(entry: Entry, runs: list[dict[str, Any]], ensemble: dict[str, float] | None) -> dict:
    """An entry's figures over its seeds (accuracies as fractions, times in seconds)."""
    summary: dict[str, Any] = {
        "final_test_acc": mean_std([r["final_test_acc"] for r in runs]),
        "train_seconds": mean_std([r["train_seconds"] for r in runs]),
        "images_per_s": mean_std([r["images"] / r["train_seconds"] for r in runs]),
        "time_to": {f"{t:.4f}": times_to(runs, t) for t in entry.thresholds},
    }
    if all(e.get("val_acc") is not None for r in runs for e in r["epochs"]):
        summary["val_chosen_time_to"] = {
            f"{t:.4f}": times_to(runs, t, val_chosen_time_to) for t in entry.thresholds
        }
    if all(r.get("tta_test_acc") is not None for r in runs):
        summary["tta_test_acc"] = mean_std([r["tta_test_acc"] for r in runs])
    if ensemble:
        summary["ensemble"] = {"seeds": len(runs), **ensemble}
    return summary


def ratio_to_reference(entry: Entry, summary: dict, summaries: dict[str, dict]) -> dict | None:
    """Our mean time to ``thresholds[0]`` over the reference's, or None without both.

    When a reference seed never reached the threshold its whole training time stands in, so
    the reference time is a lower bound and the ratio an upper bound (``bound: true``). ``min``
    and ``max`` are the spread over every pair of our seed and the reference's seed: our
    fastest over their slowest, our slowest over their fastest.
    """
    ref = summaries.get(entry.reference or "")
    key = f"{entry.thresholds[0]:.4f}"
    ours = summary["time_to"][key]
    if ref is None or key not in ref["time_to"] or ours["reached"] < ours["runs"]:
        return None
    theirs = ref["time_to"][key]
    partial = theirs["reached"] < theirs["runs"]
    return {
        "ratio": ours["mean"] / theirs["bound"],
        "min": min(ours["seeds"]) / max(theirs["bounds"]),
        "max": max(ours["seeds"]) / min(theirs["bounds"]),
        "reference": entry.reference,
        "reference_seconds": theirs["bound"],
        "bound": partial,
    }


def judge(entry: Entry, summary: dict, ratio: dict | None, device: str = "cpu") -> dict[str, Any]:
    """Each target of the entry, met or not; None where it cannot be judged (no reference).
    On ``cuda`` only the entry's GPU target is judged: the CPU targets are about 2 cores."""
    checks: dict[str, bool | None] = {}
    if device == "cuda":
        if entry.gpu_target is not None:
            threshold, seconds = entry.gpu_target
            t = summary["time_to"][f"{threshold:.4f}"]  # one of the entry's thresholds
            checks[f"{threshold:.1%} within {seconds:g} s on the GPU"] = (
                t["reached"] == t["runs"] and t["mean"] <= seconds
            )
        return {"checks": checks, "met": all(checks.values()) if checks else None}
    if entry.min_acc is not None:
        checks[f"mean acc >= {entry.min_acc:.2%}"] = (
            summary["final_test_acc"]["mean"] >= entry.min_acc
        )
    if entry.max_ratio is not None:
        checks[f"time <= {fraction(entry.max_ratio)}x {entry.reference}"] = ratio_met(
            entry, summary, ratio
        )
    if entry.max_seconds is not None:
        checks[f"training <= {entry.max_seconds:g} s"] = (
            summary["train_seconds"]["mean"] <= entry.max_seconds
        )
    if entry.boosted_min_acc is not None:
        checks[f"TTA or ensemble >= {entry.boosted_min_acc:.2%}"] = (
            max(boosted_accuracies(summary).values(), default=0.0) >= entry.boosted_min_acc
        )
    # Met only when every target is; unknown (None) when none failed but one could not be judged.
    met: bool | None = None
    if any(v is False for v in checks.values()):
        met = False
    elif checks and None not in checks.values():
        met = True
    return {"checks": checks, "met": met}


def fraction(value: float) -> str:
    """``1/30`` for a reciprocal of a whole number, else ``0.25``: how a ratio target reads."""
    inverse = round(1 / value)
    return f"1/{inverse}" if abs(1 / value - inverse) < 1e-9 else f"{value:g}"


def ratio_met(entry: Entry, summary: dict, ratio: dict | None) -> bool | None:
    """The time target: False when a seed of ours never reached the threshold, None when the
    reference was not run (or failed), else whether the ratio is within ``max_ratio``."""
    ours = summary["time_to"][f"{entry.thresholds[0]:.4f}"]
    if ours["reached"] < ours["runs"]:
        return False
    if ratio is None or entry.max_ratio is None:
        return None
    return bool(ratio["ratio"] <= entry.max_ratio)


def boosted_accuracies(summary: dict) -> dict[str, float]:
    """Test accuracy with TTA (mean over seeds) and of the ensemble, where they were measured."""
    out = {}
    if "tta_test_acc" in summary:
        out["tta"] = summary["tta_test_acc"]["mean"]
    ensemble = summary.get("ensemble") or {}
    if ensemble.get("seeds", 0) > 1:
        out.update(
            {f"ensemble-{view}": ensemble[view] for view in ("plain", "tta") if view in ensemble}
        )
    return out


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """Where the figures come from: CPU, cores, GPU (on ``cuda``), library versions, allocator
    settings, load."""
    import torch

    from mnist_digits.models.checkpoint import git_commit
    from mnist_digits.training.loop import native_cpu_bf16

    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "tensorflow": None,  # filled in from the Keras subprocess, which imports it
        "python": platform.python_version(),
        "platform": platform.platform(),
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES"),
        "load_average_at_start": os.getloadavg(),
        "git_commit": git_commit(),
        "device": device,
        "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
        "cpu_bf16": native_cpu_bf16(),
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what ``platform`` knows elsewhere."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
