"""`mockserver serve` on either server: up, answering through the contract, stopped by SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from mockserver.server import wait_until_healthy


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_the_command_serves_the_mock_and_stops_on_sigterm(server):
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", "0", "--server", server]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("mockserver listening on http://127.0.0.1:"), first_line
        base_url = first_line.split()[-1]
        wait_until_healthy(base_url.removesuffix("/v1"), timeout=30)
        request = urllib.request.Request(
            f"{base_url}/virtual-keys",
            data=json.dumps({"name": "n", "provider": "azure-openai", "key": "sk-0123456789"}).encode(),
            headers={"x-portkey-api-key": "pk-cli", "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as rejected:
            urllib.request.urlopen(request, timeout=10)
        assert rejected.value.code == 400
        message = json.load(rejected.value)["data"]["message"]
        assert message.startswith("body.resourceName: is required (for azure-openai with default auth)")
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "mockserver stopped" in out
