"""What is particular to MCP integrations (an MCP server's address, transport and auth, registered for
a workspace or the whole organisation) and MCP servers (a workspace's instance of one, `McpServers`
below); the engine serves the five operations of each from its marker (`x-portkey-resource` on
`/mcp-integrations`, `/mcp-servers`).

- A new integration is `type: workspace` when made in a workspace, else `organisation`; a list's
  `?type=` keeps one kind.
- Its capabilities (tools, prompts, resources) and the workspaces it is enabled for live on its own
  record (private fields no answer shows as such). A bulk update of either is planned from the record
  as read and written only if the record is still that, in one store write (else read and planned
  again): concurrent updates, through any process, never undo each other, and a reader sees all of
  an update or none of it. Capabilities merge by type and name (Portkey's request names some, never
  a whole set); workspaces merge by id, or replace the set with `override_existing_workspace_access`.
- Lists, counts and metadata are computed from the record when read.
- Credentials in `configurations` are `writeOnly` in the contract: the engine keeps them masked, and
  header values too (`contract.secrets.HEADER_VALUE_FIELDS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mockserver import responses
from mockserver.access import AccessPolicy
from mockserver.contract.date_times import timestamp
from mockserver.contract.document import Contract
from mockserver.errors import ApiError, NotFound, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.engine import DeclaredResource
from mockserver.state.records.base import Record, Update
from mockserver.violations import Violation

MCP_INTEGRATION = "mcp-integration"
"""The declared resource's name (`x-portkey-resource` on `/mcp-integrations`)."""
MCP_SERVER = "mcp-server"
"""The declared resource's name (`x-portkey-resource` on `/mcp-servers`)."""
INTEGRATION_REF = "mcp_integration_id"
PRIVATE = ("capabilities", "workspaces")
"""What an integration's record keeps besides its fields: `{"<type>:<name>": capability}` and
`{"<workspace id>": access}`; answers show them only through the operations below."""
KINDS = {
    "tool": "tools",
    "prompt": "prompts",
    "resource": "resources",
    "resource_template": "resource_templates",
}
"""Each capability type and the key its count has in a capability list."""
WRITE_ATTEMPTS = 100
"""How often a bulk update is planned again because another request changed the record first."""


class McpIntegrations:
    """Hooks the engine's MCP integrations, and serves their capabilities, workspaces and metadata."""

    riding: frozenset[str] = frozenset()  # each reads the record before it writes

    def __init__(self, contract: Contract, engine: DeclaredResource, policy: AccessPolicy) -> None:
        self.engine = engine
        self.policy = policy
        update = contract.operations["updateMcpIntegrationWorkspaces"]
        self.own_workspace_rule = update.state_rules["body.workspaces"]
        engine.creating.append(self._made)
        engine.listing.append(self._of_type)
        engine.shown = self

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "listMcpIntegrationWorkspaces": self._list_workspaces,
            "updateMcpIntegrationWorkspaces": self._update_workspaces,
            "listMcpIntegrationCapabilities": self._list_capabilities,
            "updateMcpIntegrationCapabilities": self._update_capabilities,
            "getMcpIntegrationMetadata": self._metadata,
        }

    # -- the engine's hooks

    def _made(self, call: Call, record: Record) -> None:
        record["type"] = "organisation" if record.get("workspace_id") is None else "workspace"
        record.setdefault("configurations", {})
        record["capabilities"], record["workspaces"] = {}, {}

    def _of_type(self, call: Call) -> Callable[[Record], bool]:
        wanted = call.request.query.get("type", "all")
        return lambda record: wanted == "all" or record.get("type") == wanted

    # -- reads (engine.Shown)

    def retrieved(self, text: bytes) -> Any:
        return _fields(json.loads(text))

    def page(self, total: int, texts: list[bytes]) -> Any:
        def listed(text: bytes) -> dict[str, Any]:
            record = json.loads(text)
            enabled = sum(1 for access in record.get("workspaces", {}).values() if access["enabled"])
            shown = _fields(record)
            del shown["global_workspace_access"]
            return {**shown, "workspaces_count": enabled}

        return responses.page(total, responses.each_readable(texts, listed))

    # -- workspaces

    def _list_workspaces(self, call: Call) -> Any:
        record = self.engine.find_for(call)[0]
        data = [{"id": ws, **access} for ws, access in record.get("workspaces", {}).items()]
        access = record.get("global_workspace_access")
        if "version" in call.request.query:
            return {"data": data, "total": len(data), "global_workspace_access": access}
        return {"workspaces": data, "global_workspace_access": access}

    def _update_workspaces(self, call: Call) -> Any:
        body = call.body
        for index, item in enumerate(body["workspaces"]):  # each is a workspace this key may name
            self.policy.workspace_for(call.principal, item["id"], f"body.workspaces[{index}].id")

        def plan(record: Record) -> Record:
            now = timestamp(self.engine.clock())
            kept = (
                {} if body.get("override_existing_workspace_access") else dict(record.get("workspaces", {}))
            )
            for item in body["workspaces"]:
                if record.get("type") == "workspace" and item["id"] != record.get("workspace_id"):
                    raise ValidationFailed([Violation("body.workspaces", self.own_workspace_rule)])
                before = kept.get(item["id"]) or {"status": "active", "created_at": now}
                kept[item["id"]] = {**before, "enabled": item["enabled"], "last_updated_at": now}
            changes: Record = {"workspaces": kept, "last_updated_at": now}
            if "global_workspace_access" in body:
                changes["global_workspace_access"] = body["global_workspace_access"]
            return changes

        self._change(call, plan)
        return {}

    # -- capabilities

    def _list_capabilities(self, call: Call) -> Any:
        record = self.engine.find_for(call)[0]
        every = sorted(record.get("capabilities", {}).values(), key=lambda c: (c["type"], c["name"]))
        query = call.request.query
        wanted = query.get("type")
        matching = [c for c in every if wanted is None or c["type"] == wanted]
        page, size = query.get("page", 1), query.get("page_size", 100)
        data = matching[(page - 1) * size : page * size]
        return {
            "data": data,
            "counts": _counts(every),
            "total": len(matching),
            "has_more": page * size < len(matching),
        }

    def _update_capabilities(self, call: Call) -> Any:
        named = call.body["capabilities"]

        def plan(record: Record) -> Record:
            now = timestamp(self.engine.clock())
            kept = dict(record.get("capabilities", {}))
            for item in named:
                key = f"{item['type']}:{item['name']}"
                before = kept.get(key) or {"name": item["name"], "type": item["type"], "created_at": now}
                kept[key] = {**before, "enabled": item["enabled"], "last_updated_at": now}
            return {"capabilities": kept, "capabilities_updated_at": now, "last_updated_at": now}

        self._change(call, plan)
        return {"success": True}

    # -- metadata

    def _metadata(self, call: Call) -> Any:
        record = self.engine.find_for(call)[0]
        held = {c["type"] for c in record.get("capabilities", {}).values()}
        synced = record.get("capabilities_updated_at")
        return {
            "server_name": None,
            "server_version": None,
            "protocol_version": None,
            "capability_flags": {
                "tools": "tool" in held,
                "prompts": "prompt" in held,
                "resources": bool(held & {"resource", "resource_template"}),
            },
            "sync_status": "synced" if synced else "pending",
            "last_synced_at": synced,
            "sync_error": None,
        }

    # -- helpers

    def _change(self, call: Call, plan: Callable[[Record], Record]) -> None:
        """Write what `plan` makes of the integration of the path, as it is when written: planned
        from the record as read, written only if the record is still that, else read and planned
        again; one store write."""
        for _ in range(WRITE_ATTEMPTS):
            record, text, namespace = self.engine.find_for(call)
            if self.engine.store.write(Update(namespace, record["slug"], text, plan(record))) is None:
                return
        busy = "The MCP integration kept changing under this request; retry"
        raise ApiError(busy, 503, headers={"Retry-After": "1"})


def _fields(record: Record) -> dict[str, Any]:
    """An integration as answered: its fields, without what only the operations above show."""
    shown = {k: v for k, v in record.items() if k not in PRIVATE and k != "capabilities_updated_at"}
    shown.setdefault("global_workspace_access", None)
    return shown


def _counts(capabilities: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """How many capabilities of each type there are, and how many of them are enabled."""
    return {
        key: {
            "total": sum(1 for c in capabilities if c["type"] == kind),
            "enabled": sum(1 for c in capabilities if c["type"] == kind and c["enabled"]),
        }
        for kind, key in KINDS.items()
    }


class McpServers:
    """Hooks the engine's MCP servers (a workspace's instance of an MCP integration) and serves
    `test`.

    - A create names an MCP integration (by id or slug) that its workspace may use: a workspace
      integration of that workspace, or an organisation's enabled for it (by name or globally);
      else 400 naming `body.mcp_integration_id`, the contract's state rule. It is kept by its id.
    - Reads show the integration as it is when read (its slug, address, auth and masked settings),
      none once it is deleted.
    - `test` answers from the records, the same every time for the same records: reached when the
      integration is there, else not (a fault plan on `testMcpServer` makes the call itself fail).
    """

    riding: frozenset[str] = frozenset()  # each reads the integration too

    def __init__(self, contract: Contract, engine: DeclaredResource, integrations: DeclaredResource) -> None:
        self.engine = engine
        self.integrations = integrations
        create = contract.operations[engine.declaration.operations["create"]]
        self.unusable_rule = create.state_rules[f"body.{INTEGRATION_REF}"]
        engine.creating.append(self._made)
        engine.listing.append(self._named)
        engine.shown = self

    def handlers(self) -> Mapping[str, Handler]:
        return {"testMcpServer": self._test}

    def _named(self, call: Call) -> Callable[[Record], bool]:
        """A list's `?id=a,b`: only those servers."""
        named = call.request.query.get("id")
        if named is None:
            return lambda record: True
        ids = {part.strip() for part in str(named).split(",")}
        return lambda record: record.get("id") in ids

    def _made(self, call: Call, record: Record) -> None:
        integration = self._integration(str(record["organisation_id"]), str(record[INTEGRATION_REF]))
        if integration is None or not _usable_in(integration, record.get("workspace_id")):
            raise ValidationFailed([Violation(f"body.{INTEGRATION_REF}", self.unusable_rule)])
        record[INTEGRATION_REF] = integration["id"]

    # -- reads (engine.Shown)

    def retrieved(self, text: bytes) -> Any:
        record = json.loads(text)
        integration = self._integration(str(record["organisation_id"]), str(record[INTEGRATION_REF]))
        details = None
        if integration is not None:
            details = {k: integration.get(k) for k in ("id", "slug", "status", "configurations", "url")}
            details |= {"transport": integration.get("transport"), "auth_type": integration.get("auth_type")}
        return {**record, "mcp_integration_details": details}

    def page(self, total: int, texts: list[bytes]) -> Any:
        records = responses.each_readable(texts, json.loads)
        known: dict[str, Record] = {}
        if records:
            namespace = self.integrations.namespace_in(str(records[0]["organisation_id"]))
            known = {
                r["id"]: r
                for r in responses.each_readable(
                    self.integrations.store.page_text(namespace, 0, 2**31)[1], json.loads
                )
            }
        data = []
        for record in records:
            integration = known.get(record[INTEGRATION_REF]) or {}
            data.append(
                {
                    **record,
                    "mcp_integration_slug": integration.get("slug"),
                    "mcp_integration_url": integration.get("url"),
                    "auth_type": integration.get("auth_type"),
                }
            )
        return responses.page(total, data)

    # -- test

    def _test(self, call: Call) -> Any:
        record = self.engine.find_for(call)[0]
        integration = self._integration(str(record["organisation_id"]), str(record[INTEGRATION_REF]))
        if integration is None:
            return {
                "success": False,
                "status_code": None,
                "response_time_ms": None,
                "url": None,
                "server_name": record["name"],
                "error": "The MCP integration this server was made from is gone",
            }
        return {
            "success": True,
            "status_code": 200,
            "response_time_ms": 0,
            "url": integration["url"],
            "server_name": record["name"],
            "error": None,
        }

    def _integration(self, organisation: str, ref: str) -> Record | None:
        """The organisation's MCP integration `ref` names (id or slug), or None."""
        try:
            return self.integrations.find(self.integrations.namespace_in(organisation), ref)[0]
        except NotFound:
            return None


def _usable_in(integration: Record, workspace: Any) -> bool:
    """Whether a workspace may make MCP servers from `integration`."""
    if integration.get("type") == "workspace":
        return bool(integration.get("workspace_id") == workspace)
    if (integration.get("global_workspace_access") or {}).get("enabled"):
        return True
    return bool(integration.get("workspaces", {}).get(str(workspace), {}).get("enabled"))
