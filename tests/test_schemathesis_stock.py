"""The mock under schemathesis as it ships: the stock command line, every check, the stateful phase."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import MockConfig, MockServer, create_app

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


def test_stock_schemathesis_finds_no_failure(tmp_path: Path):
    keys = tmp_path / "keys.yaml"
    keys.write_text("api_keys:\n  - {key: pk-schemathesis, workspace_id: ws-st}\n")
    server = MockServer(create_app(MockConfig(keys_path=keys))).start()
    try:
        result = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                str(ROOT / "openapi.yaml"),
                "--url",
                server.base_url,
                "--header",
                "x-portkey-api-key: pk-schemathesis",
                "--checks",
                "all",
                "--max-examples",
                "10",
                "--seed",
                "1",
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "contracts.schemathesis_hooks"},
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-4000:]
    assert "No issues found" in result.stdout
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in result.stdout
    generated = int(re.search(r"(\d+) generated", result.stdout).group(1))
    assert generated >= 100
