"""The Markdown table: one row per entry, plus TTA and ensemble rows where they were scored."""

from __future__ import annotations

from typing import Any

HEADER = (
    "| entry | recipe | seeds | final test acc | train s | time to threshold "
    "| validation-chosen time to threshold | images/s | ratio vs reference (min–max) | target |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)
NOTES = (
    "Times are seconds of training steps only (evaluation excluded), means over seeds. Time to\n"
    "threshold follows DAWNBench's reporting convention: the first epoch whose test accuracy\n"
    "reaches it, a report that selects nothing. The validation-chosen column selects nothing on\n"
    "test either: it is the first epoch at which the model best on validation so far (the one a\n"
    "run stopped there would keep) reaches the threshold. Our final accuracy is the model best on\n"
    "validation. Ratio: our mean time to the entry's first threshold over the reference's in the\n"
    "same run, with its spread over every pair of seeds (our fastest over their slowest, our\n"
    "slowest over their fastest); * means a reference seed never reached it,\n"
    "so its whole training time stands in and the ratio is an upper bound. A reference stopped\n"
    "at its threshold (--quick, or --stop-references as make bench runs them) reports the\n"
    "accuracy it stopped at as its final accuracy."
)


def acc_cell(ms: dict[str, float]) -> str:
    """``99.21 ± 0.05%`` from a fraction's mean and std."""
    return f"{100 * ms['mean']:.2f} ± {100 * ms['std']:.2f}%"


def time_cell(time_to: dict[str, dict[str, Any]]) -> str:
    """``99.0%: 8.1 s; 99.5%: 95.2 s (2/3 seeds)`` over the entry's thresholds."""
    parts = []
    for key, t in time_to.items():
        label = f"{float(key):.1%}"
        if t["mean"] is None:
            parts.append(f"{label}: not reached")
            continue
        partial = f" ({t['reached']}/{t['runs']} seeds)" if t["reached"] < t["runs"] else ""
        parts.append(f"{label}: {t['mean']:.1f} s{partial}")
    return "; ".join(parts)


def ratio_cell(ratio: dict[str, Any] | None) -> str:
    """``0.042× pytorch-example`` (``*`` when the reference time is a lower bound), or a dash."""
    if ratio is None:
        return "—"
    star = "*" if ratio["bound"] else ""
    spread = f" ({ratio['min']:.3f}–{ratio['max']:.3f})" if "min" in ratio else ""
    return f"{ratio['ratio']:.3f}× {ratio['reference']}{star}{spread}"


def target_cell(result: dict[str, Any]) -> str:
    """``reference``, the error of a failed entry, or each target with yes / no / n/a."""
    if result.get("error"):
        return f"failed: {result['error']}"
    if result["kind"] != "ours":
        return "reference"
    words = {True: "yes", False: "no", None: "n/a (reference not run)"}
    return "; ".join(f"{k}: {words[v]}" for k, v in result["target"]["checks"].items()) or "—"


def entry_rows(result: dict[str, Any]) -> list[str]:
    """The entry's row, then its TTA and ensemble rows when they were scored."""
    name, recipe, s = result["name"], result["recipe"], result.get("summary")
    if s is None:
        return [f"| {name} | {recipe} | 0 | — | — | — | — | — | — | {target_cell(result)} |"]
    chosen = time_cell(s["val_chosen_time_to"]) if "val_chosen_time_to" in s else "—"
    rows = [
        f"| {name} | {recipe} | {len(result['seeds'])} | {acc_cell(s['final_test_acc'])} "
        f"| {s['train_seconds']['mean']:.1f} | {time_cell(s['time_to'])} | {chosen} "
        f"| {s['images_per_s']['mean']:,.0f} | {ratio_cell(result.get('ratio'))} "
        f"| {target_cell(result)} |"
    ]
    if "tta_test_acc" in s:
        rows.append(
            f"| {name} +TTA | same models, 5 shifted views per test image (5× inference) "
            f"| {len(result['seeds'])} | {acc_cell(s['tta_test_acc'])} "
            f"| {s['train_seconds']['mean']:.1f} | — | — | — | — | |"
        )
    rows += ensemble_rows(name, s)
    return rows


def ensemble_rows(name: str, s: dict[str, Any]) -> list[str]:
    """Rows for the ensemble of an entry's seeds: k models, k times the training and inference."""
    ens = s.get("ensemble") or {}
    k = ens.get("seeds", 0)
    if k < 2:
        return []
    total = k * s["train_seconds"]["mean"]
    views = {"plain": ("", "1 view"), "tta": (" +TTA", "5 views")}
    return [
        f"| {name} ensemble of {k}{suffix} | mean probabilities of the {k} seeds' models, "
        f"{what} ({k}× training, {k * (5 if v == 'tta' else 1)}× inference) | {k} "
        f"| {100 * ens[v]:.2f}% | {total:.1f} (total) | — | — | — | — | |"
        for v, (suffix, what) in views.items()
        if v in ens
    ]


def machine_line(m: dict[str, Any]) -> str:
    """CPU, cores, library versions and (in reports that record it) native CPU bf16."""
    line = (
        f"{m['cpu_model']}, {m['usable_cores']} usable cores, torch {m['torch']} "
        f"({m['torch_threads']} threads), TensorFlow {m['tensorflow'] or '—'}."
    )
    if "cpu_bf16" in m:  # recipes with cpu_bf16 run in bf16 only where this is yes
        line += f" Native CPU bf16 (AMX or AVX512-BF16): {'yes' if m['cpu_bf16'] else 'no'}."
    return line


def render(report: dict[str, Any]) -> str:
    """The whole Markdown report: a line on the run and machine, the table, and the notes."""
    m = report["machine"]
    gpu = f" Our entries on the GPU: {m['gpu']}." if m.get("gpu") else ""
    head = f"Mode: {report['mode']}. {machine_line(m)}{gpu}"
    rows = [row for result in report["entries"] for row in entry_rows(result)]
    return "\n".join([head, "", HEADER, *rows, "", NOTES]) + "\n"
