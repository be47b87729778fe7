"""Run the CLI against a folder that is really read-only, as a person would meet one.

As root, file modes do not stop writes, so the folder is bind-mounted read-only inside a
private mount namespace (``unshare -m``) that lives only as long as the command: nothing is
left mounted on the machine. Anyone else gets the folder at mode 0555 for the run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CLI_TIMEOUT_S = 600  # before a fix, `report` evaluates a run before it fails: about a minute
# $0 is the folder, the rest is the command; the mount dies with the namespace.
MOUNT_READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


@functools.cache
def _can_mount() -> bool:
    """Whether this root may make a read-only bind mount (a container may not)."""
    if shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = [sys.executable, "-c", f"open({folder + '/probe'!r}, 'w')"]
        try:
            done = subprocess.run(
                ["unshare", "-m", "sh", "-c", MOUNT_READ_ONLY, folder, *probe],
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        # The mount worked and the write was refused: the probe file must not exist.
        return b"Read-only file system" in done.stderr and not os.path.exists(folder + "/probe")


def run_cli_read_only(
    folder: Path, argv: list[str], script: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``mnist-digits ARGV`` (or ``python SCRIPT ARGV``) in a subprocess while ``folder``
    cannot be written."""
    cmd = [sys.executable, *([str(script)] if script else ["-m", "mnist_digits"]), *argv]
    options = {"capture_output": True, "text": True, "timeout": CLI_TIMEOUT_S, "check": False}
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            return subprocess.run(cmd, **options)  # type: ignore[call-overload,no-any-return]
        finally:
            folder.chmod(mode)
    if not _can_mount():
        # Not a component one can install (a container without CAP_SYS_ADMIN), so this skips
        # even under CI; run the suite as a normal user there and the mode 0555 path is used.
        pytest.skip("root here may not bind-mount, so no folder can be made read-only for it")
    wrapped = ["unshare", "-m", "sh", "-c", MOUNT_READ_ONLY, str(folder), *cmd]
    return subprocess.run(wrapped, **options)  # type: ignore[call-overload,no-any-return]
