"""The MCP scenario: an MCP integration made by the run, read with its capabilities, workspaces and
metadata, its capabilities updated and read back, enabled for every workspace if it is the
organisation's; an MCP server made from it, read, listed, renamed, tested, its capabilities and user
access updated and read back, its connections listed; then the server deleted and read again, and
the integration deleted.

The declared lifecycle (`declared.py`) leaves MCP servers out, since their create names an MCP
integration (`body.mcp_integration_id`, a state rule) that it does not make; this scenario makes one
first. Every request is judged, each write meant to succeed. Both records are declared resources,
so the ledger keeps them and the clean-up deletes them, the server first, if a step failed. Left out,
with a note, when the contract lacks an operation used here or the API key may not create an MCP
integration (403: a key without that scope, or one that may act only at the organisation's level).
"""

from __future__ import annotations

from typing import Any, TextIO

from contracts.verify.guard import safe_body
from contracts.verify.lifecycle import Client, created_record, lacking, leave_out
from contracts.verify.run import VerifyRun

SCENARIO = "MCP scenario"
"""What the report calls it."""
NAME = "mcp scenario"
"""What the names of everything the scenario makes begin with, after the run's prefix."""
NEEDED = (
    "createMcpIntegration",
    "getMcpIntegration",
    "deleteMcpIntegration",
    "listMcpIntegrationCapabilities",
    "updateMcpIntegrationCapabilities",
    "listMcpIntegrationWorkspaces",
    "updateMcpIntegrationWorkspaces",
    "getMcpIntegrationMetadata",
    "createMcpServer",
    "getMcpServer",
    "listMcpServers",
    "updateMcpServer",
    "deleteMcpServer",
    "testMcpServer",
    "listMcpServerCapabilities",
    "updateMcpServerCapabilities",
    "listMcpServerUserAccess",
    "updateMcpServerUserAccess",
    "listMcpServerConnections",
)
CAPABILITIES = [
    {"name": "search", "type": "tool", "enabled": True},
    {"name": "summarise", "type": "prompt", "enabled": False},
]
"""What the integration's capabilities are set to: a server may then set only these for itself."""


def run_mcp_lifecycle(run: VerifyRun, client: Client, api_key: str, out: TextIO) -> None:
    """Drive an MCP integration and a server made from it through their life once; one progress line."""
    contract = run.contract
    why = lacking(run, NEEDED)
    if why:
        leave_out(run, SCENARIO, why)
        return
    example = contract.body_example(contract.operations["createMcpIntegration"])
    server_example = contract.body_example(contract.operations["createMcpServer"])
    if not isinstance(example, dict) or not isinstance(server_example, dict):
        leave_out(
            run, SCENARIO, "the contract gives no create example for an MCP integration and an MCP server"
        )
        return
    progress = "lifecycle: MCP integration and server (capabilities, workspaces, test, user access)"
    print(progress, file=out, flush=True)
    body = {**example, "name": f"{NAME} integration", "slug": run.ledger.own_slug("mcp-integration")}
    body = safe_body(run, "createMcpIntegration", body)
    made = client.send("POST", "/mcp-integrations", api_key, body, intent="permitted")
    if made.exchange.status == 403:
        leave_out(run, SCENARIO, "the API key may not create an MCP integration: 403")
        return
    integration = created_record(made)
    if integration is None:
        return  # the checks have said why
    path = f"/mcp-integrations/{integration['id']}"
    shown = client.send("GET", path, api_key).json()
    client.send("GET", f"/mcp-integrations/{integration.get('slug', integration['id'])}", api_key)
    client.send("GET", f"{path}/capabilities", api_key)
    client.send("GET", f"{path}/workspaces", api_key)
    client.send("GET", f"{path}/metadata", api_key)
    client.send("PUT", f"{path}/capabilities", api_key, {"capabilities": CAPABILITIES}, intent="valid")
    client.send("GET", f"{path}/capabilities", api_key)
    client.send("GET", f"{path}/metadata", api_key)
    if not (isinstance(shown, dict) and shown.get("type") == "workspace"):
        # An organisation's integration serves a workspace it is enabled for. Which workspace an
        # organisation key's server is made in is the service's choice, so it is enabled for every one.
        access = {"workspaces": [], "global_workspace_access": {"enabled": True}}
        client.send("PUT", f"{path}/workspaces", api_key, access, intent="valid")
        client.send("GET", f"{path}/workspaces", api_key)
    _server(run, client, api_key, integration["id"], server_example)
    client.send("DELETE", path, api_key, intent="valid")
    client.send("GET", path, api_key)


def _server(run: VerifyRun, client: Client, api_key: str, integration: str, example: dict[str, Any]) -> None:
    """An MCP server made from `integration`, through its life; deleted, then read again (404)."""
    body = {
        **example,
        "name": f"{NAME} server",
        "mcp_integration_id": integration,
        "slug": run.ledger.own_slug("mcp-server"),
    }
    body = safe_body(run, "createMcpServer", body)
    server = created_record(client.send("POST", "/mcp-servers", api_key, body, intent="valid"))
    if server is None:
        return
    path = f"/mcp-servers/{server['id']}"
    client.send("GET", path, api_key)
    client.send("GET", f"/mcp-servers/{server.get('slug', server['id'])}", api_key)
    client.send("GET", "/mcp-servers", api_key)
    renamed = {"name": f"{run.ledger.name_prefix}{NAME} server renamed"}
    client.send("PUT", path, api_key, renamed, intent="valid")
    client.send("GET", path, api_key)
    client.send("POST", f"{path}/test", api_key, {}, intent="valid")
    client.send("GET", f"{path}/capabilities", api_key)
    own = {"capabilities": [{**CAPABILITIES[0], "enabled": False}]}  # one its integration has
    client.send("PUT", f"{path}/capabilities", api_key, own, intent="valid")
    client.send("GET", f"{path}/capabilities", api_key)
    client.send("GET", f"{path}/user-access", api_key)
    client.send("PUT", f"{path}/user-access", api_key, {"default_user_access": "deny"}, intent="valid")
    client.send("GET", f"{path}/user-access", api_key)
    client.send("GET", f"{path}/connections", api_key)
    client.send("DELETE", path, api_key, intent="valid")
    client.send("GET", path, api_key)
