"""The `mockserver serve` command as a user runs it: a real process, a real port, Ctrl-C to stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.served import MOCKSERVER, ServedProcess

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

FIRST_SEED_EXAMPLE = """
from portkey_ai import Portkey

portkey = Portkey(api_key="PORTKEY_API_KEY", base_url=BASE_URL)
new_virtual_key = portkey.virtual_keys.create(name="openaiVKey", provider="openai", key="PROVIDER_API_KEY")
print(new_virtual_key)
"""


@pytest.fixture
def served() -> Iterator[ServedProcess]:
    server = ServedProcess()
    yield server
    server.stop()


def test_serve_prints_its_url_and_answers_health(served: ServedProcess):
    with urllib.request.urlopen(f"{served.root_url}/__mock/health") as response:
        assert response.status == 200 and json.load(response)["status"] == "ok"


def test_the_first_seed_example_prints_a_body_with_a_slug(served: ServedProcess):
    script = f"BASE_URL = {served.base_url!r}\n" + textwrap.dedent(FIRST_SEED_EXAMPLE)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["success"] is True and printed["data"]["slug"].startswith("openaivkey-")


def test_ctrl_c_stops_the_server_cleanly(served: ServedProcess):
    served.process.send_signal(signal.SIGINT)
    out, err = served.process.communicate(timeout=15)
    assert served.process.returncode == 0, err
    assert out.strip().endswith("mockserver stopped")
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # no worker process outlives the server
        os.killpg(served.process.pid, 0)


def test_serve_preloads_a_seed_file_and_honours_options(tmp_path: Path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "workspaces:\n"
        "  - api_key: pk-seeded\n"
        "    virtual_keys:\n"
        "      - {slug: seeded-000001, name: seeded, provider: openai, key: sk-seeded-0123456789}\n"
    )
    served = ServedProcess("--seed", str(seed), "--not-found-status", "403")
    try:
        request = urllib.request.Request(
            f"{served.base_url}/virtual-keys/seeded-000001", headers={"x-portkey-api-key": "pk-seeded"}
        )
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["masked_api_key"] == "sk*****789"
        missing = urllib.request.Request(
            f"{served.base_url}/virtual-keys/none-000000", headers={"x-portkey-api-key": "pk-seeded"}
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(missing)
        assert raised.value.code == 403
    finally:
        served.stop()


def test_a_port_in_use_is_a_clear_error(served: ServedProcess):
    port = served.base_url.rsplit(":", 1)[1].split("/")[0]
    result = subprocess.run([MOCKSERVER, "serve", "--port", port], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "Traceback" not in result.stderr


def test_a_contract_without_virtual_keys_is_a_clear_error(tmp_path: Path):
    """Portkey's published spec declares no `x-portkey-resource`: a user who points `serve` at it (or
    at any contract without the virtual-key marker) is told why in one line, not shown a traceback."""
    document = yaml.safe_load((Path(__file__).parents[2] / "openapi.yaml").read_text(encoding="utf-8"))
    for item in document["paths"].values():
        item.pop("x-portkey-resource", None)
    contract = tmp_path / "unmarked.yaml"
    contract.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    command = [MOCKSERVER, "serve", "--port", "0", "--contract", str(contract)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "declares no virtual keys" in result.stderr
