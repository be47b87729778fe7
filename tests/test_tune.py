"""Optuna sweeps: the search space, a short sweep on the default journal storage, and two
workers sharing one study on a real PostgreSQL server while one of them is killed mid-trial."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
import torch
from components import missing
from optuna.storages import JournalStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from mnist_digits.cli import main
from mnist_digits.core.contract import InputContract
from mnist_digits.training.config import load_config_file, resolve_config
from mnist_digits.training.loop import Progress, train
from mnist_digits.training.tensors import TrainData
from mnist_digits.tuning.options import TuneOptions
from mnist_digits.tuning.space import baseline_epochs, baseline_params, search_space, width_choices
from mnist_digits.tuning.storage import database_url, fail_orphans, mask_url
from mnist_digits.tuning.study import FINISHED, _Objective
from mnist_digits.tuning.summary import toml_text

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
WORKER_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # two workers share two cores


@pytest.mark.parametrize("model", ["mlp-seed", "mlp", "cnn-small", "cnn-strong"])
def test_search_space_maps_onto_a_valid_train_config(model):
    base = resolve_config({}, {"model": model})
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    for _ in range(20):
        trial = study.ask()
        cfg = replace(base, **search_space(trial, base, budget_epochs=3)).validate()
        assert 1 <= cfg.epochs <= 3 and cfg.width in width_choices(model)
        study.tell(trial, 0.5)
    names = set(study.trials[0].params)
    wanted = {"lr", "weight_decay", "batch_size", "epochs", "augment", "label_smoothing", "ema"}
    assert names == wanted | {"width"}


def test_baselines_are_the_default_recipe_at_its_epochs_and_at_the_budget():
    base = resolve_config({}, {"model": "cnn-small"})  # 1 epoch
    assert baseline_epochs(base, 3) == {"default": 1, "default-at-budget": 3}
    assert baseline_epochs(replace(base, epochs=5), 3) == {"default": 3}
    params = baseline_params(base, 1)
    assert params is not None
    assert (params["lr"], params["batch_size"], params["epochs"]) == (base.lr, 128, 1)
    assert (params["augment"], params["ema"], params["width"]) == (0.0, 0.0, 16)
    assert baseline_params(replace(base, batch_size=100), 1) is None  # not among the choices


def test_best_toml_round_trips_through_train_config(tmp_path):
    cfg = replace(resolve_config({}, {"model": "cnn-small"}), lr=1.5e-05, width=24, recipe='a "b"')
    path = tmp_path / "best.toml"
    path.write_text(toml_text(cfg, ["header", ""]))
    assert resolve_config(load_config_file(path), {}) == cfg


def test_the_cli_offers_the_libraries_pruners():
    from mnist_digits.cli import tune_cmd
    from mnist_digits.tuning.options import PRUNERS

    assert tune_cmd.PRUNERS == PRUNERS


def test_storage_urls_name_their_driver_and_hide_passwords():
    assert database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert mask_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"


def _random_data() -> TrainData:
    """200 training and 100 validation images of noise, already standardised."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 1, 28, 28, generator=g), torch.randint(0, 10, (300,), generator=g)
    return TrainData(x[:200], y[:200], x[200:], y[200:], InputContract(mean=0.0, std=1.0))


def test_an_exception_from_the_progress_callback_stops_training_cleanly():
    """The pruner stops a trial by raising from the epoch callback; training must let it out
    and leave Ctrl-C handling as it found it."""
    data = _random_data()
    cfg = replace(resolve_config({}, {"model": "mlp-seed"}), epochs=3, batch_size=50)
    handler = signal.getsignal(signal.SIGINT)

    def prune(event: Progress) -> None:
        if event.kind == "epoch_end":
            raise optuna.TrialPruned("epoch 1")

    with pytest.raises(optuna.TrialPruned):
        train(cfg, data, prune)
    assert signal.getsignal(signal.SIGINT) is handler


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return True


def test_pruning_stops_a_trial_between_epochs_but_never_after_its_last(tmp_path):
    data = _random_data()
    base = resolve_config({}, {"model": "mlp-seed"})
    options = TuneOptions(study="s", out=tmp_path, model="mlp-seed", budget_epochs=2)
    study = optuna.create_study(direction="maximize", pruner=_AlwaysPrune())
    for epochs in (1, 2):
        params = {**baseline_params(base, epochs), "batch_size": 64}
        study.enqueue_trial(params)
    study.optimize(_Objective(options, base, data, lambda event: None), n_trials=2)
    short, long = study.trials
    assert short.state == TrialState.COMPLETE and list(short.intermediate_values) == [1]
    assert long.state == TrialState.PRUNED and list(long.intermediate_values) == [1]


def test_journal_worker_fails_the_trials_of_dead_processes(tmp_path):
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "journal.log")))
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan, alive = study.ask({"lr": optuna.distributions.FloatDistribution(0, 1)}), study.ask()
    orphan.set_user_attr("worker", f"{socket.gethostname()}:{dead.pid}")
    alive.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    assert fail_orphans(study) == [orphan.number]
    states = {t.number: t.state for t in study.trials}
    assert states[orphan.number] == TrialState.FAIL and states[alive.number] == TrialState.RUNNING
    retry = study.trials[-1]
    assert retry.state == TrialState.WAITING and retry.params == orphan.params
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == orphan.number


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--trials", "0"], "--trials and --budget-epochs must be at least 1"),
        (["--study", "a b"], "--study 'a b'"),
        (["--storage", "sqlite:////no/such/dir/x.db"], "cannot open storage sqlite:"),
        (["--train-subset", "-1"], "--train-subset must be >= 0"),
    ],
)
def test_bad_input_is_one_line(flags, message, tmp_path, capsys):
    assert main(["tune", "--model", "mlp-seed", "--out", str(tmp_path / "o"), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_short_sweep_on_the_default_journal_storage(mnist_home, tmp_path, capsys, one_thread):
    out = tmp_path / "tune"
    flags = ["tune", "--model", "mlp-seed", "--budget-epochs", "2", "--train-subset", "2000"]
    flags += ["--out", str(out), "--seed", "0", "--json"]
    assert main([*flags, "--trials", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"]["complete"] + summary["trials"]["pruned"] == 3
    assert list(summary["baselines"]) == ["default"]  # mlp-seed's 10 epochs exceed the budget
    assert summary["baselines"]["default"]["number"] == 0 and summary["best"]["val_accuracy"] > 0.8
    for name in ("best.toml", "journal.log", "tune-summary.json", "tune-summary.md"):
        assert (out / name).is_file(), name
    for name in ("optimization_history", "param_importances", "parallel_coordinate"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    # best.toml is exactly the recipe the best trial trained, as `train --config` reads it.
    storage = JournalStorage(JournalFileBackend(str(out / "journal.log")))
    best = optuna.load_study(study_name="mlp-seed", storage=storage).best_trial
    assert best.number == summary["best"]["number"]
    recipe = resolve_config(load_config_file(out / "best.toml"), {})
    assert recipe.to_dict() == best.user_attrs["config"]
    # Running it again continues the same study up to the new total.
    assert main([*flags, "--trials", "4"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["trials"]["complete"] + again["trials"]["pruned"] == 4
    # A worker with another budget would search something else: refused in one line.
    assert main([*flags[:4], "3", *flags[5:], "--trials", "5"]) == 2
    assert "was created with other budget_epochs" in capsys.readouterr().err


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1, run as the postgres user when we are root
    (the server refuses to run as root), in a data folder this fixture owns and removes."""
    bindir = _postgres_bin()
    if bindir is None:
        missing("PostgreSQL server binaries absent; `apt-get install postgresql` (Debian)")
    as_root = os.geteuid() == 0
    user: dict[str, object] = {}
    if as_root:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            missing("no postgres user to run the server as")
        user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    # Under /tmp, not pytest's tmp_path: that is private to root and the server could not enter.
    root = Path(tempfile.mkdtemp(prefix="mnist-pg-"))
    if as_root:
        os.chown(root, account.pw_uid, account.pw_gid)
    run = {"check": True, "capture_output": True, "cwd": root, **user}
    port = _free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bindir / "pg_ctl"), "-D", str(root / "data")]
    try:
        subprocess.run(
            [bindir / "initdb", "-D", root / "data", "-U", "postgres", "-A", "trust"], **run
        )
        subprocess.run(
            [*ctl, "-l", str(root / "log"), "-w", "-t", "60", "-o", options, "start"], **run
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], **{**run, "check": False})
        shutil.rmtree(root, ignore_errors=True)


def _worker(url: str, out: Path, trials: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "mnist_digits", "tune", "--storage", url, "--study", "shared"]
    cmd += ["--model", "mlp-seed", "--budget-epochs", "2", "--train-subset", "8000"]
    cmd += ["--pruner", "none", "--heartbeat", "1", "--trials", str(trials), "--out", str(out)]
    return subprocess.Popen(cmd, env=WORKER_ENV, stderr=subprocess.PIPE, text=True)


def _kill_mid_trial(study_of, victim: subprocess.Popen, deadline: float) -> int:
    """SIGKILL ``victim`` during the first epoch of one of its trials, once the study holds a
    finished trial; returns the number of the trial it was running."""
    while time.time() < deadline:
        try:
            trials = study_of().get_trials()
        except KeyError:  # no worker has created the study yet
            trials = []
        mine = [
            t
            for t in trials
            if t.state == TrialState.RUNNING
            and t.user_attrs.get("worker", "").endswith(f":{victim.pid}")
            and not t.intermediate_values
        ]
        if mine and any(t.state in FINISHED for t in trials):
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            return mine[0].number
        time.sleep(0.05)
    raise AssertionError("the worker never ran a trial after the study's first result")


@pytest.mark.slow
def test_two_workers_share_a_postgres_study_and_survive_a_kill(mnist_home, postgres_url, tmp_path):
    storage = optuna.storages.RDBStorage(database_url(postgres_url))
    a, b = _worker(postgres_url, tmp_path / "a", 6), _worker(postgres_url, tmp_path / "b", 6)
    try:
        killed = _kill_mid_trial(
            lambda: optuna.load_study(study_name="shared", storage=storage), a, time.time() + 240
        )
        killed_at = time.time()
        before = {t.number: t.value for t in _trials(storage) if t.state in FINISHED}
        _, err = b.communicate(timeout=240)
        assert b.returncode == 0, err
        # Once the killed trial's heartbeat is 5 s stale, a restarted worker marks it failed,
        # runs its parameters again and carries the study on to its new total.
        time.sleep(max(0.0, killed_at + 6 - time.time()))
        restarted = _worker(postgres_url, tmp_path / "a", 7)
        _, err = restarted.communicate(timeout=240)
        assert restarted.returncode == 0, err
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
    _check_consistent(storage, killed, before, tmp_path)


def _trials(storage: optuna.storages.RDBStorage) -> list[optuna.trial.FrozenTrial]:
    return storage.get_all_trials(storage.get_study_id_from_name("shared"), deepcopy=False)


def _check_consistent(storage, killed: int, before: dict[int, float | None], out: Path) -> None:
    """Nothing left running or queued, the killed trial failed and was run again, no finished
    trial lost, the total reached, and both workers wrote their outputs."""
    trials = {t.number: t for t in _trials(storage)}
    states = [t.state for t in trials.values()]
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states
    assert trials[killed].state == TrialState.FAIL and states.count(TrialState.FAIL) == 1
    retried = [RetryHeartbeatStaleTrialCallback.retried_trial_number(t) for t in trials.values()]
    assert killed in retried
    assert all(trials[n].value == v for n, v in before.items())
    assert sum(s in FINISHED for s in states) in (7, 8)  # a last trial may race the stop
    for worker in ("a", "b"):
        summary = json.loads((out / worker / "tune-summary.json").read_text())
        assert summary["best"]["val_accuracy"] > 0.9 and (out / worker / "best.toml").is_file()
