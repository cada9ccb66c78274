"""The MCP scenario of `contracts verify` (`contracts/verify/mcp.py`): it drives every MCP operation
it uses with an organisation's key and with a workspace's, leaves nothing behind, is left out with a
note when the key may not make an MCP integration, and is cleaned up, server first, when a step fails.
The broken services it must catch are in tests/support/broken_services.py (`MCP ...`), run by
`test_verify.py` with the other variants.
"""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest

from contracts.verify import VerifyOptions, command, mcp, verify
from contracts.verify.ledger import Observation
from contracts.verify.lifecycle import Client
from contracts.verify.report import VerifyResult
from mockserver import create_app
from mockserver.access import SCOPES
from mockserver.config import MockConfig
from mockserver.contract.document import Contract
from tests.toolkit.verify.test_verify import Journal, serving

pytestmark = pytest.mark.slow  # starts servers and whole verify runs

LIFECYCLE = {"seed": 6, "max_examples": 2, "phases": ("lifecycle",), "provider_cases": ("openai",)}
WORKSPACE_KEY = "pk-mcp-workspace"


def keys_file(tmp_path: Any, scopes: frozenset[str] | None = None) -> MockConfig:
    """A mock whose one API key is bound to a workspace, with every scope or only `scopes`."""
    entry: dict[str, Any] = {"key": WORKSPACE_KEY, "workspace_id": "ws-mcp"}
    if scopes is not None:
        entry["scopes"] = sorted(scopes)
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"api_keys": [entry]}))
    return MockConfig(keys_path=path)


def run_verify(base_url: str, api_key: str) -> tuple[VerifyResult, str]:
    out = io.StringIO()
    result = verify(VerifyOptions(base_url=base_url, api_key=api_key, **LIFECYCLE), out=out)
    return result, out.getvalue()


def own_left(base_url: str, api_key: str, run_id: str) -> dict[str, list[str]]:
    """The names of the run's MCP integrations and servers still listed."""
    prefix = f"contracts-verify-{run_id}-"
    left = {}
    for path in ("/mcp-integrations", "/mcp-servers"):
        page = httpx.get(f"{base_url}{path}", headers={"x-portkey-api-key": api_key}).json()
        left[path] = [item["name"] for item in page["data"] if item["name"].startswith(prefix)]
    return left


@pytest.fixture
def scenario_seen(monkeypatch: pytest.MonkeyPatch) -> list[Observation]:
    """What the scenario sent, as the run observed and judged it (and nothing else the run sent)."""
    seen: list[Observation] = []
    scenario = command.run_mcp_lifecycle

    def noted(run: Any, client: Client, api_key: str, out: Any) -> None:
        send = client.send

        def send_and_note(*args: Any, **kwargs: Any) -> Observation:
            seen.append(send(*args, **kwargs))
            return seen[-1]

        client.send = send_and_note  # type: ignore[method-assign]
        try:
            scenario(run, client, api_key, out)
        finally:
            del client.send

    monkeypatch.setattr(command, "run_mcp_lifecycle", noted)
    return seen


def sent(journal: Journal) -> list[tuple[str, str]]:
    return [(method, path) for method, path, _, _ in journal.entries if "/mcp-" in path]


@pytest.mark.parametrize("workspace_key", [False, True], ids=["organisation key", "workspace key"])
def test_the_scenario_drives_every_mcp_operation_it_needs_judges_each_and_leaves_nothing(
    scenario_seen, tmp_path, workspace_key
):
    """An organisation's key (the mock without a keys file) makes an organisation's integration, which
    the scenario enables for every workspace before making a server from it; a workspace's key makes
    its workspace's own integration, which its servers may use as it is."""
    journal = Journal(create_app(keys_file(tmp_path) if workspace_key else None))
    api_key = WORKSPACE_KEY if workspace_key else "pk-mcp-organisation"
    with serving(journal) as server:
        result, output = run_verify(server.base_url, api_key)
        left = own_left(server.base_url, api_key, result.run_id)
    assert result.exit_code == 0 and not result.findings, output
    assert "lifecycle: MCP integration and server (" in output
    assert not [note for note in result.notes if note.startswith("MCP scenario")]
    # Every operation the scenario needs was sent and named, so every ordered check judged it
    # (`response_conforms` judges only an exchange whose operation the run knows).
    needed = set(mcp.NEEDED) - ({"updateMcpIntegrationWorkspaces"} if workspace_key else set())
    assert {seen.operation for seen in scenario_seen} == needed
    writes = {
        (seen.operation, seen.intent) for seen in scenario_seen if seen.exchange.request.method != "GET"
    }
    assert ("createMcpIntegration", "permitted") in writes  # a 403 there leaves the scenario out
    assert all(intent == "valid" for operation, intent in writes if operation != "createMcpIntegration")
    assert [(seen.operation, seen.exchange.status) for seen in scenario_seen][-4:] == [
        ("deleteMcpServer", 200),
        ("getMcpServer", 404),
        ("deleteMcpIntegration", 200),
        ("getMcpIntegration", 404),
    ]
    enabled = [path for method, path in sent(journal) if method == "PUT" and path.endswith("/workspaces")]
    assert bool(enabled) is not workspace_key
    if enabled:
        assert sent(journal).index(("PUT", enabled[0])) < sent(journal).index(("POST", "/v1/mcp-servers"))
    assert left == {"/mcp-integrations": [], "/mcp-servers": []}


def test_a_key_that_may_not_make_an_mcp_integration_leaves_the_scenario_out_with_a_note(tmp_path):
    """A workspace's key without `mcp_integrations.create` is answered 403: no defect, and no server
    is made (the mock lets a workspace key with the scope make its workspace's own integration)."""
    every = SCOPES | Contract.load().scopes
    journal = Journal(create_app(keys_file(tmp_path, every - {"mcp_integrations.create"})))
    with serving(journal) as server:
        result, output = run_verify(server.base_url, WORKSPACE_KEY)
    assert result.exit_code == 0, output
    assert (
        "MCP scenario: left out of the lifecycle (the API key may not create an MCP integration: 403)"
        in result.notes
    )
    assert ("POST", "/v1/mcp-servers") not in sent(journal)


def test_a_scenario_stopped_half_way_is_cleaned_up_server_first(monkeypatch):
    """Interrupted before the server's `test`: the clean-up deletes the server, then its integration."""
    send = Client.send

    def interrupted_at_the_test(self: Client, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        if path.startswith("/mcp-servers/") and path.endswith("/test"):
            raise KeyboardInterrupt
        return send(self, method, path, *args, **kwargs)

    monkeypatch.setattr(Client, "send", interrupted_at_the_test)
    journal = Journal(create_app())
    with serving(journal) as server:
        result, output = run_verify(server.base_url, "pk-mcp-organisation")
        left = own_left(server.base_url, "pk-mcp-organisation", result.run_id)
    assert result.interrupted, output
    made = sent(journal).index(("POST", "/v1/mcp-servers"))
    deleted = [path.rsplit("/", 1)[0] for method, path in sent(journal)[made:] if method == "DELETE"]
    assert deleted == ["/v1/mcp-servers", "/v1/mcp-integrations"]
    assert left == {"/mcp-integrations": [], "/mcp-servers": []}
