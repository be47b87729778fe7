"""The benchmark's arithmetic on made-up runs: times to threshold, ratios, targets, the table.

Part of the README's test command: ``pytest`` collects tests/ and benchmarks/ (this file is named
apart from tests/test_report.py so that the two never clash in one run).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from entries import ENTRIES
from report import (
    judge,
    ratio_to_reference,
    summarize,
    time_to,
    times_to,
    val_chosen_time_to,
)
from table import render

BY_NAME = {e.name: e for e in ENTRIES}
HERE = Path(__file__).resolve().parent


def run(seed: int, accs: list[float], seconds_per_epoch: float, **extra: float) -> dict:
    """A made-up seed record: cumulative seconds and test accuracy per epoch."""
    epochs = [
        {"epoch": i + 1, "train_seconds": seconds_per_epoch * (i + 1), "test_acc": a}
        for i, a in enumerate(accs)
    ]
    return {
        "seed": seed,
        "epochs": epochs,
        "final_test_acc": accs[-1],
        "train_seconds": seconds_per_epoch * len(accs),
        "images": 60000 * len(accs),
        **extra,
    }


def test_time_to_is_the_first_epoch_at_or_above_the_threshold() -> None:
    r = run(0, [0.95, 0.97, 0.965, 0.98], 2.0)
    assert time_to(r, 0.97) == 4.0 and time_to(r, 0.99) is None
    t = times_to([r, run(1, [0.96, 0.96], 2.0)], 0.97)
    assert (t["mean"], t["reached"], t["runs"]) == (4.0, 1, 2)
    assert t["bound"] == (4.0 + 4.0) / 2  # the seed that missed counts its whole 4 s


def test_ratio_and_targets_against_a_reference_that_partly_fell_short() -> None:
    keras, mlp = BY_NAME["keras-seed"], BY_NAME["mlp-seed"]
    ref = summarize(keras, [run(0, [0.96, 0.97], 10.0), run(1, [0.96, 0.965], 10.0)], None)
    ours = summarize(mlp, [run(0, [0.97], 1.5), run(1, [0.975], 2.5)], None)
    ratio = ratio_to_reference(mlp, ours, {"keras-seed": ref})
    assert ratio is not None and ratio["bound"] and ratio["ratio"] == 2.0 / 20.0
    assert judge(mlp, ours, ratio)["met"] is True
    assert judge(mlp, ours, None)["met"] is None  # reference not run: cannot judge
    slow = summarize(mlp, [run(0, [0.96, 0.971], 1.0)], None)
    assert judge(mlp, slow, None)["checks"]["time <= 1/10x keras-seed"] is None
    missed = summarize(mlp, [run(0, [0.96, 0.969], 1.0)], None)
    assert judge(mlp, missed, None)["checks"]["time <= 1/10x keras-seed"] is False


def test_boosted_target_and_table_rows() -> None:
    best = BY_NAME["cnn-strong-best"]
    runs = [run(s, [0.99, 0.9968], 100.0, tta_test_acc=0.9972) for s in range(3)]
    s = summarize(best, runs, {"plain": 0.9973, "tta": 0.9976})
    checks = judge(best, s, None)["checks"]
    assert checks == {"mean acc >= 99.70%": False, "TTA or ensemble >= 99.75%": True}
    result = {
        "name": best.name,
        "kind": "ours",
        "recipe": best.recipe,
        "seeds": runs,
        "summary": s,
        "ratio": None,
        "target": judge(best, s, None),
        "error": None,
    }
    machine = {
        "cpu_model": "cpu",
        "usable_cores": 2,
        "torch": "2",
        "torch_threads": 2,
        "tensorflow": None,
    }
    text = render({"mode": "full", "machine": machine, "entries": [result]})
    assert "| cnn-strong-best ensemble of 3 +TTA |" in text and "| 99.76% | 600.0 (total) |" in text
    assert "99.0%: 100.0 s; 99.5%: 200.0 s; 99.7%: not reached" in text


def test_validation_chosen_time_waits_for_the_model_validation_would_keep() -> None:
    epochs = [(0.990, 0.9950), (0.989, 0.9962), (0.993, 0.9965)]  # (val, test) per epoch
    r = run(0, [t for _, t in epochs], 10.0)
    for e, (val, _) in zip(r["epochs"], epochs, strict=True):
        e["val_acc"] = val
    # Test reaches 99.6% at epoch 2, but validation keeps epoch 1 there (99.0% > 98.9%); the
    # model it keeps first reaches 99.6% at epoch 3.
    assert time_to(r, 0.996) == 20.0 and val_chosen_time_to(r, 0.996) == 30.0
    assert val_chosen_time_to(r, 0.997) is None
    s = summarize(BY_NAME["cnn-small-995"], [r], None)
    assert s["val_chosen_time_to"]["0.9950"]["mean"] == 10.0


def test_ratio_spread_pairs_our_fastest_with_their_slowest() -> None:
    example, fast = BY_NAME["pytorch-example"], BY_NAME["cnn-small-fast"]
    ref = summarize(example, [run(0, [0.991], 200.0), run(1, [0.98, 0.992], 150.0)], None)
    ours = summarize(fast, [run(s, [0.991], t) for s, t in enumerate((6.0, 8.0))], None)
    ratio = ratio_to_reference(fast, ours, {"pytorch-example": ref})
    assert ratio is not None and ratio["ratio"] == 7.0 / 250.0
    assert (ratio["min"], ratio["max"]) == (6.0 / 300.0, 8.0 / 200.0)
    checks = judge(fast, ours, ratio)["checks"]
    assert checks["time <= 1/30x pytorch-example"] is True  # 0.028 <= 0.0333


def test_on_the_gpu_only_the_gpu_targets_are_judged() -> None:
    fast, best = BY_NAME["cnn-small-fast"], BY_NAME["cnn-strong-best"]
    for entry in (fast, best):
        assert entry.gpu_target is not None and entry.gpu_target[0] in entry.thresholds
    quick = summarize(fast, [run(0, [0.985, 0.991], 0.4)], None)  # 99.1% after 0.8 s
    assert judge(fast, quick, None, "cuda")["checks"] == {"99.0% within 1 s on the GPU": True}
    slow = summarize(fast, [run(0, [0.985, 0.991], 0.6)], None)  # 99.1% after 1.2 s
    assert judge(fast, slow, None, "cuda")["met"] is False
    assert judge(BY_NAME["mlp-seed"], slow, None, "cuda")["met"] is None  # no GPU target


def test_smoke_run_trains_our_entries_and_writes_the_report(tmp_path: Path) -> None:
    """Every code path of our entries (a few dozen steps each, nothing measured), as
    ``--device cpu``; the table and JSON land where ``--out`` says."""
    out = tmp_path / "smoke.json"
    args = ["--smoke", "--only", "mlp-seed,cnn-strong-best", "--device", "cpu", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, str(HERE / "train_bench.py"), *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["machine"]["device"] == "cpu" and report["mode"] == "smoke"
    assert [e["name"] for e in report["entries"]] == ["mlp-seed", "cnn-strong-best"]
    assert "| cnn-strong-best +TTA |" in out.with_suffix(".md").read_text()


def test_gpu_script_says_plainly_when_there_is_no_gpu() -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(HERE / "gpu_bench.sh"), "/nonexistent-out"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no CUDA GPU visible to PyTorch" in done.stderr


def test_readme_table_is_the_one_its_results_file_gives() -> None:
    """README.md's benchmark table is generated from a committed results file it names."""
    import readme_tables

    assert readme_tables.main(["--check"]) == 0


def test_a_readme_table_can_keep_only_some_entries_of_its_file() -> None:
    """``only=`` keeps the named entries (their TTA and ensemble rows with them), no others."""
    import readme_tables

    source = "benchmarks/results/2026-12-02-034751.json"
    block = readme_tables.block(source, "pytorch-example,cnn-strong-best")
    assert block.startswith(f"<!-- bench: {source} only=pytorch-example,cnn-strong-best -->")
    names = {line.split("|")[1].strip() for line in block.splitlines() if line.startswith("| `")}
    assert names == {
        "`pytorch-example`",
        "`cnn-strong-best`",
        "`cnn-strong-best` + TTA (5 views)",
        "`cnn-strong-best`: ensemble of its 3 seeds",
        "`cnn-strong-best`: ensemble of its 3 seeds + TTA",
    }


def test_recipe_variants_are_read_as_toml_values() -> None:
    """``recipe_val --variant "lr=0.02 augment=0.6"`` overrides those fields, typed as TOML."""
    import recipe_val

    assert recipe_val.overrides('lr=0.02 epochs=2 optimizer="sgd"') == {
        "lr": 0.02,
        "epochs": 2,
        "optimizer": "sgd",
    }
    assert recipe_val.overrides("") == {}
    args = recipe_val.parse_args(["recipes/cnn-small-fast.toml"])
    assert args.variant == [] and args.seeds == "100-102" and args.at == 0.99


def test_recipe_variants_are_resolved_and_checked_as_a_recipe_file_is() -> None:
    """A variant keeps the recipe's other keys, coerces its values, and refuses a typo or an
    out-of-range value with ConfigError instead of training something else."""
    import recipe_val

    from mnist_digits.core.errors import ConfigError

    cfg = recipe_val.variant_config("recipes/cnn-small-fast.toml", "lr=2e-2 epochs=2.0", 7)
    assert (cfg.lr, cfg.epochs, cfg.seed, cfg.label_smoothing) == (0.02, 2, 7, 0.1)
    assert isinstance(cfg.epochs, int)
    for bad in ("lrr=0.02", "epochs=0", 'optimizer="rmsprop"'):
        with pytest.raises(ConfigError):
            recipe_val.variant_config("recipes/cnn-small-fast.toml", bad, 0)
