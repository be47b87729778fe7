"""Summaries over seeds, targets, the Markdown table, and the machine the figures come from."""

from __future__ import annotations

import os
import platform
import statistics
from typing import Any

from entries import Entry


def mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for one value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std}


def time_to(run: dict[str, Any], threshold: float) -> float | None:
    """Cumulative training seconds at the first epoch whose test accuracy reaches ``threshold``."""
    return next((e["train_seconds"] for e in run["epochs"] if e["test_acc"] >= threshold), None)


def times_to(runs: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """Time to ``threshold`` over seeds: the mean over the seeds that reached it, how many did,
    and ``bound``: the mean with each missing seed's whole training time in its place (a lower
    bound on its time to the threshold, used when a reference falls short)."""
    times = [time_to(r, threshold) for r in runs]
    reached = [t for t in times if t is not None]
    bound = [t if t is not None else r["train_seconds"] for t, r in zip(times, runs, strict=True)]
    return {
        "mean": statistics.fmean(reached) if reached else None,
        "reached": len(reached),
        "runs": len(runs),
        "bound": statistics.fmean(bound),
    }


def summarize(entry: Entry, runs: list[dict[str, Any]], ensemble: dict[str, float] | None) -> dict:
    """An entry's figures over its seeds (accuracies as fractions, times in seconds)."""
    summary: dict[str, Any] = {
        "final_test_acc": mean_std([r["final_test_acc"] for r in runs]),
        "train_seconds": mean_std([r["train_seconds"] for r in runs]),
        "images_per_s": mean_std([r["images"] / r["train_seconds"] for r in runs]),
        "time_to": {f"{t:.4f}": times_to(runs, t) for t in entry.thresholds},
    }
    if all(r.get("tta_test_acc") is not None for r in runs):
        summary["tta_test_acc"] = mean_std([r["tta_test_acc"] for r in runs])
    if ensemble:
        summary["ensemble"] = {"seeds": len(runs), **ensemble}
    return summary


def ratio_to_reference(entry: Entry, summary: dict, summaries: dict[str, dict]) -> dict | None:
    """Our mean time to ``thresholds[0]`` over the reference's, or None without both.

    When a reference seed never reached the threshold its whole training time stands in, so
    the reference time is a lower bound and the ratio an upper bound (``bound: true``).
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
        "reference": entry.reference,
        "reference_seconds": theirs["bound"],
        "bound": partial,
    }


def judge(entry: Entry, summary: dict, ratio: dict | None) -> dict[str, Any]:
    """Each target of the entry, met or not; None where it cannot be judged (no reference)."""
    checks: dict[str, bool | None] = {}
    if entry.min_acc is not None:
        checks[f"mean acc >= {entry.min_acc:.2%}"] = (
            summary["final_test_acc"]["mean"] >= entry.min_acc
        )
    if entry.max_ratio is not None:
        checks[f"time <= {entry.max_ratio:g}x {entry.reference}"] = ratio_met(entry, summary, ratio)
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


def machine_info() -> dict[str, Any]:
    """Where the figures come from: CPU, cores, library versions, allocator settings, load."""
    import torch

    from mnist_digits.models.checkpoint import git_commit

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
