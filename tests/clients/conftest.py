"""Fixtures for the real clients' tests: the Node SDK's project, installed once while its lock holds."""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.paths import NODE_PROJECT
from tests.support.tools import require_tool

STAMP = NODE_PROJECT / "node_modules" / ".installed-from-lock"
"""The hash of package.json and package-lock.json that the installed node_modules came from."""


def _lock_hash() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((NODE_PROJECT / name).read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """tests/clients/node with its locked dependencies installed by `npm ci`.

    `npm ci` runs only when node_modules was not installed from the current lock (a fresh checkout,
    or a changed lock): it wipes and re-downloads everything, tens of seconds. A file lock makes
    parallel workers (pytest-xdist) wait for one install instead of racing two in one folder.
    """
    require_tool("node", "npm", install="apt-get install nodejs npm")
    wanted = _lock_hash()
    lock_path = (
        Path(tempfile.gettempdir())
        / f"portkey-mock-npm-{hashlib.sha256(bytes(NODE_PROJECT)).hexdigest()[:12]}"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text() == wanted:
            return NODE_PROJECT
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
        STAMP.write_text(wanted)
    return NODE_PROJECT
