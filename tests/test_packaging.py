"""An installed, non-editable package finds the contract: the root file, shipped as package data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop


def test_the_wheel_ships_the_root_contract_and_the_mock_uses_it(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("mockserver/openapi.yaml") == (ROOT / "openapi.yaml").read_bytes()
    assert [n for n in names if n.endswith("openapi.yaml")] == ["mockserver/openapi.yaml"]
    # The dashboard's page and files, and the HTML reports' templates, are package data too.
    assert {
        "mockserver/control/templates/dashboard.html",
        "mockserver/control/static/dashboard.js",
        "mockserver/control/static/dashboard.css",
        "contracts/templates/verify.html",
        "contracts/templates/traffic.html",
        "contracts/templates/parts.html",
        "contracts/templates/report.js",
    } <= set(names)
    assert not (ROOT / "mockserver" / "openapi.yaml").exists(), "the contract must live once, at the root"

    target = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    probe = (
        "import mockserver, mockserver.contract.document as c\n"
        "print(mockserver.__file__)\nprint(c.default_contract_path())\n"
        "client = mockserver.create_app().test_client()\n"
        "print(client.get('/v1/virtual-keys', headers={'x-portkey-api-key': 'k'}).status_code)\n"
        "print(client.get('/__mock/').status_code, client.get('/__mock/static/dashboard.js').status_code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    module_file, contract_path, status, page_status, script_status = result.stdout.split()
    assert module_file.startswith(str(target)) and contract_path == str(
        target / "mockserver" / "openapi.yaml"
    )
    assert status == page_status == script_status == "200"
