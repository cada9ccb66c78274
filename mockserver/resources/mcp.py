"""What is particular to MCP integrations (an MCP server's address, transport and auth, registered for
a workspace or the whole organisation) and MCP servers (a workspace's instance of one, `McpServers`
below); the engine serves the five operations of each from its marker (`x-portkey-resource` on
`/mcp-integrations`, `/mcp-servers`), this module the rest: an integration's capabilities, workspaces
and metadata, a server's test, capabilities, user access and connections.

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
SERVER_PRIVATE = ("capabilities", "user_access", "default_user_access")
"""What a server's record keeps besides its fields: `{"<type>:<name>": enabled}`, `{"<user id>":
enabled}` and the default for users it names no override for."""
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
        return _capability_page(list(record.get("capabilities", {}).values()), call)

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
        _change(self.engine, call, plan, "MCP integration")


def _change(engine: DeclaredResource, call: Call, plan: Callable[[Record], Record], what: str) -> None:
    """Write what `plan` makes of the record of the call's path, as it is when written: planned from
    the record as read, written only if the record is still that, else read and planned again; one
    store write."""
    for _ in range(WRITE_ATTEMPTS):
        record, text, namespace = engine.find_for(call)
        if engine.store.write(Update(namespace, record["slug"], text, plan(record))) is None:
            return
    raise ApiError(f"The {what} kept changing under this request; retry", 503, headers={"Retry-After": "1"})


def _capability_page(every: list[dict[str, Any]], call: Call) -> dict[str, Any]:
    """One page of capabilities by type then name (`page` from 1, `page_size`, `type`), with the
    counts of them all."""
    every = sorted(every, key=lambda c: (c["type"], c["name"]))
    query = call.request.query
    wanted = query.get("type")
    matching = [c for c in every if wanted is None or c["type"] == wanted]
    page, size = query.get("page", 1), query.get("page_size", 100)
    return {
        "data": matching[(page - 1) * size : page * size],
        "counts": _counts(every),
        "total": len(matching),
        "has_more": page * size < len(matching),
    }


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
    - Its capabilities are its integration's, each enabled or not for this server: the server's
      record keeps only its own settings (`{"<type>:<name>": enabled}`), a capability it has none for
      is as the integration has it. A bulk update names capabilities the integration has (else 400
      naming `body.capabilities`, the contract's state rule) and merges them in.
    - Its user access is every user of the organisation, allowed or denied by an override kept on
      the server's record (`{"<user id>": enabled}`) or else by the server's `default_user_access`
      (`allow` until set). A bulk update names users of the organisation (else 400 naming
      `body.user_access`) and merges them in.
    - Both bulk updates are planned from the server's record as read and made in one compare-and-set
      write, as the integration's are.
    - Connections are made by a user signing in to the server through Portkey's MCP gateway, which
      the mock does not serve: it holds none, so their list is empty, every user is `not_connected`,
      and a disconnect finds the server and answers success with nothing to remove.
    """

    riding: frozenset[str] = frozenset()  # each reads the integration too

    def __init__(
        self,
        contract: Contract,
        engine: DeclaredResource,
        integrations: DeclaredResource,
        users: DeclaredResource | None = None,
    ) -> None:
        self.engine = engine
        self.integrations = integrations
        self.users = users
        create = contract.operations[engine.declaration.operations["create"]]
        self.unusable_rule = create.state_rules[f"body.{INTEGRATION_REF}"]
        self.unknown_capability_rule = contract.operations["updateMcpServerCapabilities"].state_rules[
            "body.capabilities"
        ]
        self.unknown_user_rule = contract.operations["updateMcpServerUserAccess"].state_rules[
            "body.user_access"
        ]
        engine.creating.append(self._made)
        engine.listing.append(self._named)
        engine.shown = self

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "testMcpServer": self._test,
            "listMcpServerCapabilities": self._list_capabilities,
            "updateMcpServerCapabilities": self._update_capabilities,
            "listMcpServerUserAccess": self._list_user_access,
            "updateMcpServerUserAccess": self._update_user_access,
            "listMcpServerConnections": self._list_connections,
            "deleteMcpServerConnection": self._disconnect,
        }

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
        return {**_server_fields(record), "mcp_integration_details": details}

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
                    **_server_fields(record),
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

    # -- capabilities

    def _capabilities(self, server: Record) -> dict[str, dict[str, Any]]:
        """The server's capabilities by `<type>:<name>`: its integration's as it is when read, each
        with the server's own setting when it has one."""
        integration = self._integration(str(server["organisation_id"]), str(server[INTEGRATION_REF]))
        own = server.get("capabilities", {})
        shown = {}
        for key, capability in ((integration or {}).get("capabilities") or {}).items():
            enabled = own.get(key, capability["enabled"])
            shown[key] = {
                "name": capability["name"],
                "type": capability["type"],
                "enabled": enabled,
                "integration_enabled": capability["enabled"],
            }
        return shown

    def _list_capabilities(self, call: Call) -> Any:
        server = self.engine.find_for(call)[0]
        return _capability_page(list(self._capabilities(server).values()), call)

    def _update_capabilities(self, call: Call) -> Any:
        named = call.body["capabilities"]

        def plan(server: Record) -> Record:
            known = self._capabilities(server)
            kept = dict(server.get("capabilities", {}))
            for item in named:
                key = f"{item['type']}:{item['name']}"
                if key not in known:
                    raise ValidationFailed([Violation("body.capabilities", self.unknown_capability_rule)])
                kept[key] = item["enabled"]
            return {"capabilities": kept, "last_updated_at": timestamp(self.engine.clock())}

        _change(self.engine, call, plan, "MCP server")
        return {"success": True}

    # -- user access

    def _organisation_users(self, organisation: str) -> list[Record]:
        """The organisation's users, newest first, as the users' list answers them."""
        if self.users is None:
            return []
        texts = self.users.store.page_text(self.users.namespace_in(organisation), 0, 2**31)[1]
        return responses.each_readable(texts, json.loads)

    def _list_user_access(self, call: Call) -> Any:
        server = self.engine.find_for(call)[0]
        overrides = server.get("user_access", {})
        default = server.get("default_user_access", "allow")
        query = call.request.query
        search = str(query.get("search", "")).lower()
        data = []
        for user in self._organisation_users(str(server["organisation_id"])):
            said = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name", "email")).lower()
            if search in said:
                data.append(
                    {
                        "user_id": user["id"],
                        "first_name": user.get("first_name"),
                        "last_name": user.get("last_name"),
                        "enabled": overrides.get(user["id"], default == "allow"),
                        "has_override": user["id"] in overrides,
                        "connection_status": "not_connected",
                    }
                )
        page, size = query.get("page", 1), query.get("page_size", 100)
        return {
            "data": data[(page - 1) * size : page * size],
            "default_user_access": default,
            "total": len(data),
            "has_more": page * size < len(data),
        }

    def _update_user_access(self, call: Call) -> Any:
        body = call.body
        named = body.get("user_access") or []

        def plan(server: Record) -> Record:
            users = {user["id"] for user in self._organisation_users(str(server["organisation_id"]))}
            kept = dict(server.get("user_access", {}))
            for item in named:
                if item["user_id"] not in users:
                    raise ValidationFailed([Violation("body.user_access", self.unknown_user_rule)])
                kept[item["user_id"]] = item["enabled"]
            changes: Record = {"user_access": kept, "last_updated_at": timestamp(self.engine.clock())}
            if "default_user_access" in body:
                changes["default_user_access"] = body["default_user_access"]
            return changes

        _change(self.engine, call, plan, "MCP server")
        return {"success": True}

    # -- connections (the mock holds none: nothing it serves makes one)

    def _list_connections(self, call: Call) -> Any:
        self.engine.find_for(call)
        return {"data": [], "total": 0, "has_more": False}

    def _disconnect(self, call: Call) -> Any:
        self.engine.find_for(call)
        return {"success": True}

    def _integration(self, organisation: str, ref: str) -> Record | None:
        """The organisation's MCP integration `ref` names (id or slug), or None."""
        try:
            return self.integrations.find(self.integrations.namespace_in(organisation), ref)[0]
        except NotFound:
            return None


def _server_fields(record: Record) -> dict[str, Any]:
    """A server as answered: its fields, without the capabilities and user access only the
    operations above show."""
    return {k: v for k, v in record.items() if k not in SERVER_PRIVATE}


def _usable_in(integration: Record, workspace: Any) -> bool:
    """Whether a workspace may make MCP servers from `integration`."""
    if integration.get("type") == "workspace":
        return bool(integration.get("workspace_id") == workspace)
    if (integration.get("global_workspace_access") or {}).get("enabled"):
        return True
    return bool(integration.get("workspaces", {}).get(str(workspace), {}).get("enabled"))
