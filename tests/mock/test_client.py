"""`mockserver.client.PortkeyMock` outside pytest: a plain script gets the same assertions, raised
as `AssertionError` with the message the pytest plugin's users see."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys

    import httpx

    from mockserver import MockServer, create_app
    from mockserver.client import PortkeyMock

    server = MockServer(create_app()).start()
    try:
        mock = PortkeyMock(server.root_url)
        body = {"name": "limited", "provider": "openai", "key": "sk-live-0000000000abcd", "rate_limits": "60"}
        httpx.post(f"{mock.base_url}/virtual-keys", json=body, headers={"x-portkey-api-key": mock.api_key})
        mock.verify("createVirtualKey", times=1, status=400)
        try:
            mock.assert_all_requests_conform()
        except AssertionError as failure:
            print(failure)
        try:
            mock.verify("deleteVirtualKey")
        except AssertionError as failure:
            print(failure)
        print("pytest loaded:", "pytest" in sys.modules)
    finally:
        server.stop()
    """
)


def test_the_assertions_work_in_a_script_without_pytest():
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "1 of 1 requests to the Portkey mock break the contract" in run.stdout
    assert "request #1 POST /v1/virtual-keys (createVirtualKey) -> 400" in run.stdout
    assert "body.rate_limits: must be of type array or object" in run.stdout
    assert "expected deleteVirtualKey once, got 0 times; the mock received:" in run.stdout
    assert "pytest loaded: False" in run.stdout
    assert "sk-live-0000000000abcd" not in run.stdout
