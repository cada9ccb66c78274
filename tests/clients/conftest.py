"""Fixtures for the real clients' tests: the Node SDK's project, installed once per session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.paths import NODE_PROJECT
from tests.support.tools import require_tool


@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """tests/clients/node with its locked dependencies installed by `npm ci`."""
    require_tool("node", "npm", install="apt-get install nodejs npm")
    installed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=NODE_PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    return NODE_PROJECT
