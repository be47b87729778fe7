"""The README's benchmark table, made from one committed results file and never typed by hand.

    python benchmarks/readme_tables.py [--from benchmarks/results/FILE.json] [--check]

The README holds each table between ``<!-- bench: FILE -->`` and ``<!-- /bench -->``, where FILE
is the results file (relative to the repository root) it comes from; ``<!-- bench: FILE
only=a,b -->`` keeps just those entries of it, so a run of a few revised recipes and the last
full run can stand side by side. This rewrites what lies between every pair of markers from
its file; ``--from`` gives the first table another file, which also changes its marker.
``--check`` changes nothing and exits 1 when the README differs from what its files give; the
test command runs it, so the README cannot drift from the committed results.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from table import acc_cell, machine_line, ratio_cell, time_cell

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(
    r"<!-- bench: (?P<file>\S+)(?: only=(?P<only>\S+))? -->\n(?P<body>.*?)<!-- /bench -->", re.S
)
HEADER = (
    "| entry | seeds | test accuracy (mean ± std; min–max) | training s | time to threshold "
    "| validation-chosen time to threshold | ratio vs reference (min–max) | targets |\n"
    "|---|---|---|---|---|---|---|---|"
)


def accuracy_cell(result: dict[str, Any]) -> str:
    """``99.21 ± 0.05% (99.15–99.27)`` over the seeds' final test accuracies."""
    accs = [100 * r["final_test_acc"] for r in result["seeds"]]
    spread = f" ({min(accs):.2f}–{max(accs):.2f})" if len(accs) > 1 else ""
    return acc_cell(result["summary"]["final_test_acc"]) + spread


def targets_cell(result: dict[str, Any]) -> str:
    """``reference``, or each target with yes / no."""
    if result["kind"] != "ours":
        return "reference"
    words = {True: "yes", False: "**no**", None: "n/a"}
    return "; ".join(f"{k}: {words[v]}" for k, v in result["target"]["checks"].items())


def rows(result: dict[str, Any]) -> list[str]:
    """The entry's row, then one for TTA and one per ensemble view where they were scored."""
    if result.get("error") or "summary" not in result:
        return [f"| {result['name']} | — | failed: {result.get('error')} | | | | | |"]
    s, n = result["summary"], len(result["seeds"])
    chosen = time_cell(s["val_chosen_time_to"]) if "val_chosen_time_to" in s else "—"
    out = [
        f"| `{result['name']}` | {n} | {accuracy_cell(result)} | {s['train_seconds']['mean']:.1f} "
        f"| {time_cell(s['time_to'])} | {chosen} | {ratio_cell(result.get('ratio'))} "
        f"| {targets_cell(result)} |"
    ]
    if "tta_test_acc" in s:
        out.append(f"| `{result['name']}` + TTA (5 views) | {n} | {acc_cell(s['tta_test_acc'])} "
                   "| | | | | |")  # fmt: skip
    ens = s.get("ensemble") or {}
    for view, label in (("plain", ""), ("tta", " + TTA")):
        if ens.get("seeds", 0) > 1 and view in ens:
            out.append(f"| `{result['name']}`: ensemble of its {ens['seeds']} seeds{label} "
                       f"| {ens['seeds']} | {100 * ens[view]:.2f}% | | | | | |")  # fmt: skip
    return out


def render(report: dict[str, Any], source: str, only: list[str] | None = None) -> str:
    """The block between the markers: where and when, then the table (``only`` its entries)."""
    m = report["machine"]
    hours = report["wall_seconds"] / 3600
    head = (
        f"From [`{source}`]({source}) ({report['mode']} run of {report['created'][:10]}, "
        f"{hours:.1f} h, commit {str(m.get('git_commit') or '?')[:7]}): {machine_line(m)}"
    )
    entries = [r for r in report["entries"] if only is None or r["name"] in only]
    body = [row for result in entries for row in rows(result)]
    return "\n".join([head, "", HEADER, *body]) + "\n"


def block(source: str, only: str | None) -> str:
    """The whole marked block for ``source``, markers included."""
    report = json.loads((ROOT / source).read_text())
    names = only.split(",") if only else None
    marker = f"{source} only={only}" if only else source
    return f"<!-- bench: {marker} -->\n{render(report, source, names)}<!-- /bench -->"


def main(argv: list[str] | None = None) -> int:
    """Rewrite or check the README's benchmark tables."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="source",
                   help="results JSON for the first table, relative to the repository root "
                        "(default: the file its marker names)")  # fmt: skip
    p.add_argument("--check", action="store_true",
                   help="exit 1 if the README is out of date (default: rewrite it)")  # fmt: skip
    args = p.parse_args(argv)
    text = README.read_text()
    found = list(BLOCK.finditer(text))
    if not found:
        print("readme_tables: README.md has no <!-- bench: FILE --> block", file=sys.stderr)
        return 2
    out, end = [], 0
    for i, m in enumerate(found):
        source = args.source if (i == 0 and args.source) else m["file"]
        out += [text[end : m.start()], block(source, m["only"])]
        end = m.end()
    new = "".join(out) + text[end:]
    if args.check:
        if new != text:
            print("readme_tables: README.md's tables differ from their results files; run "
                  "python benchmarks/readme_tables.py", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    README.write_text(new)
    print(f"README.md: {len(found)} benchmark table(s) rewritten from their results files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
