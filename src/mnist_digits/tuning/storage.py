"""Where a study lives: a journal file (one machine) or a database by SQLAlchemy URL (many).

Also what keeps a shared study whole when a worker dies: each trial records its worker
(``host:pid``); on a database a dead worker's trial stops sending heartbeats and Optuna fails
it, and on a journal file :func:`fail_orphans` fails the trials whose process on this host is
gone. Either way the failed trial's parameters are queued again.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import sqlalchemy
from optuna.exceptions import ExperimentalWarning
from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from mnist_digits.core.errors import ConfigError

JOURNAL = "journal.log"
# A trial whose worker died is queued again; one that killed its worker twice stays failed.
MAX_RETRY = 2
# Workers racing to create an empty database's tables: attempts before giving up.
CREATE_ATTEMPTS = 3


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Heartbeats and the retry callback are marked experimental; the warning says nothing a
    user can act on, so it is silenced here (and only here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


def mask_url(url: str) -> str:
    """The storage URL with its password replaced by ``***``, for messages and summaries."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def database_url(url: str) -> str:
    """A ``postgresql://`` URL with its driver named: SQLAlchemy 2.0 would pick psycopg2 and
    2.1 psycopg 3, and only psycopg 3 is a dependency. Other URLs are passed through."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg{sep}{rest}" if scheme in ("postgresql", "postgres") else url


def open_storage(where: str, heartbeat: int) -> optuna.storages.BaseStorage:
    """A journal file at path ``where`` (no server; several processes on one machine), or a
    database when ``where`` is a URL, whose running trials beat every ``heartbeat`` seconds
    and are failed after five silent ones.

    Raises:
        ConfigError: the database cannot be reached or its driver is not installed.
    """
    if "://" not in where:
        Path(where).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(where))
    retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    try:
        return _retry_first_start(
            lambda: RDBStorage(
                database_url(where),
                engine_kwargs={"pool_pre_ping": True},
                heartbeat_interval=heartbeat,
                grace_period=5 * heartbeat,
                heartbeat_stale_trial_callback=retry,
            )
        )
    except ImportError:
        raise ConfigError(
            f"storage {mask_url(where)} needs its database driver; for PostgreSQL: "
            "pip install 'psycopg[binary]'"
        ) from None
    except Exception as err:  # SQLAlchemy and its drivers raise many types; all mean "cannot open"
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(f"cannot open storage {mask_url(where)}: {first}") from None


def _retry_first_start(connect: Callable[[], RDBStorage]) -> RDBStorage:
    """Workers started together on an empty database race to create its tables, and all but one
    get a unique-key violation; the tables exist a moment later, so try again."""
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return connect()
        except sqlalchemy.exc.IntegrityError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def worker_id() -> str:
    """``host:pid``, recorded on each trial so a dead worker's trials can be recognised."""
    return f"{socket.gethostname()}:{os.getpid()}"


def recover_trials(study: optuna.Study, storage: optuna.storages.BaseStorage) -> None:
    """Fail the running trials of dead workers and queue their parameters again: by their
    process on a journal file, by their stale heartbeat on a database. ``storage`` is the one
    :func:`open_storage` gave (the study may hold it wrapped in a cache)."""
    if isinstance(storage, JournalStorage):
        fail_orphans(study)
    else:
        optuna.storages.fail_stale_trials(study)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


def fail_orphans(study: optuna.Study) -> list[int]:
    """Journal storage has no heartbeats: mark failed the running trials whose worker process on
    this host is gone, and queue their parameters again. Returns the failed trial numbers."""
    host, failed = socket.gethostname(), []
    storage = study._storage  # the public Study has no way to change another trial's state
    retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if worker_host != host or not pid.isdigit() or _process_alive(int(pid)):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, trial.number)
        if storage.set_trial_state_values(trial_id, TrialState.FAIL):
            retry(study, storage.get_trial(trial_id))
            failed.append(trial.number)
    return failed
