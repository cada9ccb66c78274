"""The `contracts` commands as a user starts them: their own process, against a mock in its own.

Each command runs as the docs show it (docs/toolkit.md) and must do its first piece of work: verify
judges the mock's answers, check-traffic reads the mock's journal, drift reads two contracts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.paths import ROOT
from tests.support.served import ServedProcess

pytestmark = pytest.mark.slow  # starts processes: not in the fast loop

CONTRACTS = str(Path(sys.executable).with_name("contracts"))


@pytest.fixture(scope="module")
def served() -> Iterator[ServedProcess]:
    server = ServedProcess()
    yield server
    server.stop()


def run(*arguments: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONTRACTS, *arguments], capture_output=True, text=True, timeout=timeout)


def test_verify_judges_a_running_mock_and_writes_its_report(served: ServedProcess, tmp_path: Path):
    report = tmp_path / "verify.json"
    done = run(
        "verify",
        "--base-url",
        served.base_url,
        "--api-key",
        "user-key",
        "--second-api-key",
        "user-key-2",
        "--max-examples",
        "2",
        "--seed",
        "1",
        "--phases",
        "examples,lifecycle",
        "--json",
        str(report),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(report.read_text())
    assert sum(result["requests"].values()) > 0 and result["failures"] == [] and result["exit_code"] == 0


def test_check_traffic_reads_a_running_mocks_journal(served: ServedProcess):
    httpx.post(f"{served.root_url}/__mock/reset").raise_for_status()  # verify's refused requests out
    created = httpx.post(
        f"{served.base_url}/virtual-keys",
        headers={"x-portkey-api-key": "user-key"},
        json={"name": "from the test", "provider": "openai", "key": "sk-test-0000000000abcd"},
    )
    assert created.status_code == 200
    done = run("check-traffic", served.root_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "createVirtualKey" in done.stdout


def test_drift_compares_two_contracts_and_names_a_difference(tmp_path: Path):
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    del document["paths"]["/virtual-keys/{slug}"]["delete"]
    theirs = tmp_path / "theirs.yaml"
    theirs.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    same = run("drift", str(ROOT / "openapi.yaml"), str(ROOT / "openapi.yaml"))
    differs = run("drift", str(ROOT / "openapi.yaml"), str(theirs))

    assert same.returncode == 0, same.stdout + same.stderr
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert "DELETE /virtual-keys/{slug}  operation: only in ours" in differs.stdout


def test_python_m_contracts_is_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "contracts", "drift", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "usage: contracts drift" in done.stdout
