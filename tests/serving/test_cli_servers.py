"""`mockserver serve` on either server: up, answering through the contract, stopped by SIGTERM."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request

import pytest

from tests.support.served import ServedProcess

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_the_command_serves_the_mock_and_stops_on_sigterm(server):
    served = ServedProcess("--server", server)
    base_url = served.base_url
    try:
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
        served.process.send_signal(signal.SIGTERM)
        out, _ = served.process.communicate(timeout=30)
        served.stop()  # any worker left behind
    assert served.process.returncode == 0
    assert "mockserver stopped" in out
