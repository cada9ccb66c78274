"""MCP integrations on both stores: what is particular to them beyond the lifecycle every declared
resource shares (`tests/mock/test_declared_resources.py`).

An integration's kind follows where it was made; its credentials and header values are kept and
answered masked; its capabilities and workspace access are sets kept on its record, changed whole in
one write (capabilities merged by type and name, workspaces merged by id or replaced), and every
list, count and metadata answer is computed from that record. A server's capabilities (its
integration's, with its own settings) and user access (the organisation's users, its overrides and
default) are kept and changed the same way; it holds no connections.
"""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import create_app
from mockserver.contract.document import Contract
from mockserver.state import State
from tests.support.inprocess import Api, error_of, reset, store_config

CONTRACT = Contract.load()
OWN_WORKSPACE_ONLY = CONTRACT.operations["updateMcpIntegrationWorkspaces"].state_rules["body.workspaces"]
MCP = "/v1/mcp-integrations"
SECRET = "sk-live-0123456789abcdefXYZ"


def integration(api: Api, name: str = "Docs search", **body: Any) -> dict[str, Any]:
    sent = {"name": name, "url": "https://mcp.example.com/mcp", "auth_type": "none", "transport": "http"}
    made = api.call("POST", MCP, json={**sent, **body})
    assert made.status_code == 200, made.json
    return dict(made.json)


def capabilities(api: Api, ref: str, query: str = "") -> dict[str, Any]:
    listed = api.call("GET", f"{MCP}/{ref}/capabilities{query}")
    assert listed.status_code == 200, listed.json
    return dict(listed.json)


def test_an_integration_is_the_organisations_or_a_workspaces_and_listed_by_type(api: Api):
    own = integration(api, "Organisation tools")
    team = api.workspace()
    theirs = integration(api, "Team tools", workspace_id=team)
    read = api.call("GET", f"{MCP}/{own['slug']}").json
    assert (read["type"], read["workspace_id"], read["global_workspace_access"]) == (
        "organisation",
        None,
        None,
    )
    read = api.call("GET", f"{MCP}/{theirs['id']}").json
    assert (read["type"], read["workspace_id"]) == ("workspace", team)
    for kind, names in (("organisation", ["Organisation tools"]), ("workspace", ["Team tools"])):
        listed = api.call("GET", f"{MCP}?type={kind}").json
        assert [i["name"] for i in listed["data"]] == names and listed["total"] == 1
    assert api.call("GET", f"{MCP}?search=TEAM").json["total"] == 1
    assert api.call("GET", MCP).json["total"] == 2


def test_credentials_and_header_values_are_kept_and_answered_masked(api: Api):
    configurations = {
        "custom_headers": {"Authorization": f"Bearer {SECRET}"},
        "client_id": "docs-client",
        "client_secret": SECRET,
    }
    made = integration(api, auth_type="headers", configurations=configurations)
    read = api.call("GET", f"{MCP}/{made['id']}")
    kept = read.json["configurations"]
    assert kept["client_id"] == "docs-client"
    assert SECRET not in read.get_data(as_text=True)
    assert set(kept["custom_headers"]) == {"Authorization"} and kept["client_secret"].startswith("sk")
    assert SECRET not in api.call("GET", MCP).get_data(as_text=True)
    assert SECRET not in api.client.get("/__mock/journal").get_data(as_text=True)
    changed = api.call("PUT", f"{MCP}/{made['id']}", json={"configurations": {"api_key": SECRET}})
    assert changed.status_code == 200
    assert SECRET not in api.call("GET", f"{MCP}/{made['id']}").get_data(as_text=True)


def test_capabilities_merge_by_type_and_name_and_are_counted_from_what_is_kept(api: Api):
    made = integration(api)
    assert capabilities(api, made["id"]) == {
        "data": [],
        "counts": {
            k: {"total": 0, "enabled": 0} for k in ("tools", "prompts", "resources", "resource_templates")
        },
        "total": 0,
        "has_more": False,
    }
    sent = [
        {"name": "search", "type": "tool", "enabled": True},
        {"name": "fetch", "type": "tool", "enabled": False},
        {"name": "summarise", "type": "prompt", "enabled": True},
    ]
    done = api.call("PUT", f"{MCP}/{made['id']}/capabilities", json={"capabilities": sent})
    assert done.status_code == 200 and done.json == {"success": True}
    again = [
        {"name": "fetch", "type": "tool", "enabled": True},
        {"name": "search", "type": "prompt", "enabled": False},
    ]
    assert (
        api.call("PUT", f"{MCP}/{made['slug']}/capabilities", json={"capabilities": again}).status_code == 200
    )
    listed = capabilities(api, made["id"])
    assert [(c["type"], c["name"], c["enabled"]) for c in listed["data"]] == [
        ("prompt", "search", False),
        ("prompt", "summarise", True),
        ("tool", "fetch", True),  # changed, the rest kept
        ("tool", "search", True),
    ]
    assert listed["counts"]["tools"] == {"total": 2, "enabled": 2}
    assert listed["counts"]["prompts"] == {"total": 2, "enabled": 1}
    page = capabilities(api, made["id"], "?type=tool&page=2&page_size=1")
    assert [c["name"] for c in page["data"]] == ["search"] and page["total"] == 2 and not page["has_more"]
    first = capabilities(api, made["id"], "?page_size=3")
    assert len(first["data"]) == 3 and first["has_more"] is True


def test_workspace_access_merges_by_id_or_replaces_the_set(api: Api):
    made = integration(api)
    first, second, third = api.workspace(), api.workspace(), api.workspace()
    url = f"{MCP}/{made['id']}/workspaces"
    body = {"workspaces": [{"id": first, "enabled": True}, {"id": second, "enabled": False}]}
    assert api.call("PUT", url, json=body).status_code == 200
    body = {"workspaces": [{"id": second, "enabled": True}], "global_workspace_access": {"enabled": False}}
    assert api.call("PUT", url, json=body).status_code == 200
    legacy = api.call("GET", url).json
    assert {w["id"]: w["enabled"] for w in legacy["workspaces"]} == {first: True, second: True}
    assert legacy["global_workspace_access"] == {"enabled": False}
    assert api.call("GET", MCP).json["data"][0]["workspaces_count"] == 2
    body = {"workspaces": [{"id": third, "enabled": False}], "override_existing_workspace_access": True}
    assert api.call("PUT", url, json=body).status_code == 200
    current = api.call("GET", f"{url}?version=2").json
    assert current["total"] == 1 and [(w["id"], w["enabled"]) for w in current["data"]] == [(third, False)]
    assert api.call("GET", MCP).json["data"][0]["workspaces_count"] == 0
    assert api.call("GET", f"{MCP}/{made['id']}").json["global_workspace_access"] == {"enabled": False}


def test_a_workspace_integration_is_enabled_only_for_its_own_workspace(api: Api):
    team = api.workspace()
    made = integration(api, workspace_id=team)
    url = f"{MCP}/{made['id']}/workspaces"
    refused = api.call("PUT", url, json={"workspaces": [{"id": api.workspace(), "enabled": True}]})
    assert error_of(refused, 400, "AB01") == f"body.workspaces: {OWN_WORKSPACE_ONLY}"
    assert api.call("GET", url).json["workspaces"] == []  # nothing half-made
    assert api.call("PUT", url, json={"workspaces": [{"id": team, "enabled": True}]}).status_code == 200


def test_metadata_is_computed_from_the_record(api: Api):
    made = integration(api)
    url = f"{MCP}/{made['id']}/metadata"
    before = api.call("GET", url).json
    assert before["sync_status"] == "pending" and before["last_synced_at"] is None
    assert before["capability_flags"] == {"tools": False, "prompts": False, "resources": False}
    sent = [{"name": "readme", "type": "resource", "enabled": True}]
    api.call("PUT", f"{MCP}/{made['id']}/capabilities", json={"capabilities": sent})
    after = api.call("GET", url).json
    assert after["sync_status"] == "synced"
    assert after["last_synced_at"] == api.call("GET", f"{MCP}/{made['id']}").json["last_updated_at"]
    assert after["capability_flags"] == {"tools": False, "prompts": False, "resources": True}


def test_sub_resources_of_a_missing_or_deleted_integration_answer_not_found(api: Api):
    made = integration(api)
    assert api.call("DELETE", f"{MCP}/{made['id']}").status_code == 200
    for tail in ("/workspaces", "/capabilities", "/metadata"):
        missing = api.call("GET", f"{MCP}/{made['slug']}{tail}")
        assert error_of(missing, 404, "AB08") == f"Mcp integration not found: {made['slug']}"
    put = api.call(
        "PUT",
        f"{MCP}/{made['id']}/capabilities",
        json={"capabilities": [{"name": "x", "type": "tool", "enabled": True}]},
    )
    assert put.status_code == 404


def test_a_bad_capability_names_the_field_and_rule(api: Api):
    made = integration(api)
    refused = api.call("PUT", f"{MCP}/{made['id']}/capabilities", json={"capabilities": []})
    assert error_of(refused, 400, "AB01").startswith("body.capabilities")
    refused = api.call(
        "PUT",
        f"{MCP}/{made['id']}/capabilities",
        json={"capabilities": [{"name": "x", "type": "widget", "enabled": True}]},
    )
    assert error_of(refused, 400, "AB01").startswith("body.capabilities[0].type")
    assert capabilities(api, made["id"])["total"] == 0


BETWEEN = {
    "capabilities": (
        {"capabilities": [{"name": "first", "type": "tool", "enabled": True}]},
        {"capabilities": [{"name": "between", "type": "tool", "enabled": True}]},
        lambda read: sorted(c["name"] for c in read["data"]),
    ),
    "workspaces": (
        {"workspaces": [{"id": "ws-first", "enabled": True}]},
        {"workspaces": [{"id": "ws-between", "enabled": True}]},
        lambda read: sorted(w["id"] for w in read["workspaces"]),
    ),
}


@pytest.mark.parametrize("kind", BETWEEN)
def test_a_set_changed_between_another_requests_read_and_write_keeps_both_changes(
    request, store_kind, monkeypatch, kind
):
    """Deterministic: after one bulk update reads the integration and before it writes, a whole
    other bulk update runs; the first's write then finds the record changed, plans again, and both
    changes are kept (one store write each, never a set undone)."""
    states: list[State] = []
    build = State.build
    monkeypatch.setattr(State, "build", lambda *args: states.append(build(*args)) or states[-1])
    app = create_app(store_config(request, store_kind))
    api = Api(app.test_client())
    try:
        made = integration(api)
        path = f"{MCP}/{made['slug']}/{kind}"  # found by one read of its key
        first, between, names = BETWEEN[kind]
        store = states[0].resources
        pending = [lambda: api.call("PUT", path, json=between)]
        for name in ("get_text", "page_text"):
            read = getattr(store, name)

            def read_then_let_another_request_in(*args, read=read):
                found = read(*args)
                while pending and found:
                    assert pending.pop()().status_code == 200
                return found

            monkeypatch.setattr(store, name, read_then_let_another_request_in)
        assert api.call("PUT", path, json=first).status_code == 200
        assert pending == [], "the other request ran"
        assert names(api.call("GET", path).json) == sorted(
            ["ws-first", "ws-between"] if kind == "workspaces" else ["first", "between"]
        )
    finally:
        reset(app)


# --- MCP servers ----------------------------------------------------------------------------------

SERVERS = "/v1/mcp-servers"
UNUSABLE = CONTRACT.operations["createMcpServer"].state_rules["body.mcp_integration_id"]


def server(api: Api, ref: str, name: str = "Docs", **body: Any) -> Any:
    return api.call("POST", SERVERS, json={"name": name, "mcp_integration_id": ref, **body})


def test_a_server_is_made_only_from_an_integration_its_workspace_may_use(api: Api):
    own = api.workspace()
    theirs = integration(api, "Theirs", workspace_id=api.workspace())
    organisation = integration(api, "Everyone's")
    for ref in ("no-such-integration", theirs["id"], organisation["slug"]):
        refused = server(api, ref, workspace_id=own)
        assert error_of(refused, 400, "AB01") == f"body.mcp_integration_id: {UNUSABLE}", ref
    assert api.call("GET", f"{SERVERS}?workspace_id={own}").json["total"] == 0  # nothing half-made
    grant = {"workspaces": [{"id": own, "enabled": True}]}
    assert api.call("PUT", f"{MCP}/{organisation['id']}/workspaces", json=grant).status_code == 200
    made = server(api, organisation["slug"], workspace_id=own)
    assert made.status_code == 200, made.json
    read = api.call("GET", f"{SERVERS}/{made.json['slug']}").json
    assert read["mcp_integration_id"] == organisation["id"] and read["workspace_id"] == own  # kept by its id
    mine = integration(api, "Mine", workspace_id=own)
    second = server(api, mine["slug"], name="Mine", workspace_id=own)
    assert second.status_code == 200
    named = api.call("GET", f"{SERVERS}?workspace_id={own}&id={made.json['id']},{second.json['id']}").json
    assert named["total"] == 2
    named = api.call("GET", f"{SERVERS}?workspace_id={own}&id={second.json['id']}").json
    assert [s["name"] for s in named["data"]] == ["Mine"]
    everyone = {"workspaces": [], "global_workspace_access": {"enabled": True}}
    other = integration(api, "Global")
    api.call("PUT", f"{MCP}/{other['id']}/workspaces", json=everyone)
    assert server(api, other["id"], name="Global", workspace_id=own).status_code == 200


def test_a_server_shows_its_integration_as_it_is_when_read(api: Api):
    own = api.workspace()
    made_integration = integration(
        api,
        auth_type="headers",
        configurations={"custom_headers": {"Authorization": f"Bearer {SECRET}"}},
        workspace_id=own,
    )
    made = server(api, made_integration["id"], workspace_id=own).json
    api.call("PUT", f"{MCP}/{made_integration['id']}", json={"url": "https://eu.mcp.example.com/mcp"})
    read = api.call("GET", f"{SERVERS}/{made['id']}")
    details = read.json["mcp_integration_details"]
    assert details["url"] == "https://eu.mcp.example.com/mcp" and details["auth_type"] == "headers"
    assert SECRET not in read.get_data(as_text=True)
    listed = api.call("GET", f"{SERVERS}?search=DOC&workspace_id={own}").json["data"]
    assert [(s["id"], s["mcp_integration_slug"], s["mcp_integration_url"]) for s in listed] == [
        (made["id"], made_integration["slug"], "https://eu.mcp.example.com/mcp")
    ]
    assert api.call("DELETE", f"{MCP}/{made_integration['id']}").status_code == 200
    assert api.call("GET", f"{SERVERS}/{made['id']}").json["mcp_integration_details"] is None
    assert api.call("GET", f"{SERVERS}?workspace_id={own}").json["data"][0]["mcp_integration_url"] is None


def test_test_answers_the_same_from_the_records_every_time(api: Api):
    own = api.workspace()
    made_integration = integration(api, workspace_id=own)
    made = server(api, made_integration["slug"], workspace_id=own).json
    url = f"{SERVERS}/{made['slug']}/test"
    first, again = api.call("POST", url).json, api.call("POST", url, json={}).json
    assert (
        first
        == again
        == {
            "success": True,
            "status_code": 200,
            "response_time_ms": 0,
            "url": "https://mcp.example.com/mcp",
            "server_name": "Docs",
            "error": None,
        }
    )
    api.call("DELETE", f"{MCP}/{made_integration['id']}")
    gone = api.call("POST", url).json
    assert gone["success"] is False and gone["status_code"] is None and gone["error"]
    missing = api.call("POST", f"{SERVERS}/no-such-server/test")
    assert error_of(missing, 404, "AB08") == "Mcp server not found: no-such-server"


def test_a_fault_plan_on_test_makes_it_fail_then_lets_it_through(api: Api):
    own = api.workspace()
    made = server(api, integration(api, workspace_id=own)["id"], workspace_id=own).json
    plan = {"seed": 1, "rules": [{"operation": "testMcpServer", "status": 503, "times": 1}]}
    assert api.client.put("/__mock/faults", json=plan).status_code == 200
    failed = api.call("POST", f"{SERVERS}/{made['id']}/test")
    assert error_of(failed, 503, "AB04")
    assert api.call("GET", f"{SERVERS}/{made['id']}").status_code == 200  # other operations untouched
    assert api.call("POST", f"{SERVERS}/{made['id']}/test").json["success"] is True  # the rule is spent


# --- a server's capabilities, user access and connections -----------------------------------------

UNKNOWN_CAPABILITY = CONTRACT.operations["updateMcpServerCapabilities"].state_rules["body.capabilities"]
UNKNOWN_USER = CONTRACT.operations["updateMcpServerUserAccess"].state_rules["body.user_access"]


def served(api: Api, **integration_body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An integration of a new workspace and a server made from it."""
    own = api.workspace()
    made_integration = integration(api, workspace_id=own, **integration_body)
    made = server(api, made_integration["id"], workspace_id=own)
    assert made.status_code == 200, made.json
    return made_integration, dict(made.json)


def user(api: Api, email: str, first_name: str, last_name: str) -> str:
    """A user of the organisation, made as Portkey makes one: an invite, accepted."""
    invite = api.call("POST", "/v1/admin/users/invites", json={"email": email, "role": "member"})
    assert invite.status_code == 200, invite.json
    names = {"first_name": first_name, "last_name": last_name}
    accepted = api.client.post(
        f"/__mock/invites/{invite.json['id']}/accept", json=names, headers=api._headers()
    )
    assert accepted.status_code == 200, accepted.json
    return str(accepted.json["id"])


def test_a_servers_capabilities_are_its_integrations_each_enabled_or_not_for_the_server(api: Api):
    made_integration, made = served(api)
    kept = [
        {"name": "search", "type": "tool", "enabled": True},
        {"name": "delete_all", "type": "tool", "enabled": False},
        {"name": "summarise", "type": "prompt", "enabled": True},
    ]
    api.call("PUT", f"{MCP}/{made_integration['id']}/capabilities", json={"capabilities": kept})
    path = f"{SERVERS}/{made['slug']}/capabilities"
    read = api.call("GET", path).json
    assert [(c["type"], c["name"], c["enabled"], c["integration_enabled"]) for c in read["data"]] == [
        ("prompt", "summarise", True, True),
        ("tool", "delete_all", False, False),
        ("tool", "search", True, True),
    ]  # as the integration has them until the server says otherwise
    narrowed = {
        "capabilities": [
            {"name": "search", "type": "tool", "enabled": False},
            {"name": "delete_all", "type": "tool", "enabled": True},
        ]
    }
    assert api.call("PUT", path, json=narrowed).json == {"success": True}
    read = api.call("GET", f"{path}?type=tool").json
    assert [(c["name"], c["enabled"], c["integration_enabled"]) for c in read["data"]] == [
        ("delete_all", True, False),
        ("search", False, True),
    ]
    assert read["total"] == 2 and read["has_more"] is False
    assert read["counts"]["tools"] == {"total": 2, "enabled": 1}
    assert read["counts"]["prompts"] == {"total": 1, "enabled": 1}
    paged = api.call("GET", f"{path}?page=2&page_size=1").json
    assert [c["name"] for c in paged["data"]] == ["delete_all"] and paged["has_more"] is True
    # the integration's own settings are untouched, and a capability it learns later shows on the server
    assert api.call("GET", f"{MCP}/{made_integration['id']}/capabilities?type=tool").json["counts"][
        "tools"
    ] == {
        "total": 2,
        "enabled": 1,
    }
    later = {"capabilities": [{"name": "fetch", "type": "resource", "enabled": True}]}
    api.call("PUT", f"{MCP}/{made_integration['id']}/capabilities", json=later)
    assert api.call("GET", f"{path}?type=resource").json["data"] == [
        {"name": "fetch", "type": "resource", "enabled": True, "integration_enabled": True}
    ]
    assert "capabilities" not in api.call("GET", f"{SERVERS}/{made['id']}").json  # only this path shows them


def test_a_server_enables_only_capabilities_its_integration_has(api: Api):
    made_integration, made = served(api)
    api.call(
        "PUT",
        f"{MCP}/{made_integration['id']}/capabilities",
        json={"capabilities": [{"name": "search", "type": "tool", "enabled": True}]},
    )
    path = f"{SERVERS}/{made['id']}/capabilities"
    unknown = {
        "capabilities": [
            {"name": "search", "type": "tool", "enabled": False},
            {"name": "search", "type": "prompt", "enabled": False},  # the same name, another type
        ]
    }
    refused = api.call("PUT", path, json=unknown)
    assert error_of(refused, 400, "AB01") == f"body.capabilities: {UNKNOWN_CAPABILITY}"
    assert api.call("GET", path).json["data"][0]["enabled"] is True  # nothing of it was stored
    assert error_of(api.call("PUT", path, json={"capabilities": []}), 400, "AB01").startswith(
        "body.capabilities"
    )
    api.call("DELETE", f"{MCP}/{made_integration['id']}")
    gone = api.call("GET", path).json
    assert gone["data"] == [] and gone["counts"]["tools"] == {"total": 0, "enabled": 0}
    refused = api.call(
        "PUT", path, json={"capabilities": [{"name": "search", "type": "tool", "enabled": True}]}
    )
    assert error_of(refused, 400, "AB01") == f"body.capabilities: {UNKNOWN_CAPABILITY}"


def test_user_access_lists_the_organisations_users_with_overrides_and_the_default(api: Api):
    ada = user(api, "ada@example.com", "Ada", "Lovelace")
    alan = user(api, "alan@example.com", "Alan", "Turing")
    _, made = served(api)
    path = f"{SERVERS}/{made['slug']}/user-access"

    def access(query: str = "") -> dict[str, Any]:
        read = api.call("GET", f"{path}{query}")
        assert read.status_code == 200, read.json
        return dict(read.json)

    def by_user(read: dict[str, Any]) -> dict[str, tuple[bool, bool]]:
        return {u["user_id"]: (u["enabled"], u["has_override"]) for u in read["data"]}

    first = access()
    assert first["default_user_access"] == "allow" and first["total"] == 2
    assert by_user(first) == {ada: (True, False), alan: (True, False)}
    assert {u["connection_status"] for u in first["data"]} == {"not_connected"}
    assert {(u["first_name"], u["last_name"]) for u in first["data"]} == {
        ("Ada", "Lovelace"),
        ("Alan", "Turing"),
    }

    denied = {"user_access": [{"user_id": ada, "enabled": False}], "default_user_access": "allow"}
    assert api.call("PUT", path, json=denied).json == {"success": True}
    assert by_user(access()) == {ada: (False, True), alan: (True, False)}
    assert api.call("PUT", path, json={"default_user_access": "deny"}).status_code == 200
    assert by_user(access()) == {ada: (False, True), alan: (False, False)}  # the override is kept
    allowed = {"user_access": [{"user_id": ada, "enabled": True}]}
    assert api.call("PUT", path, json=allowed).status_code == 200
    read = access()
    assert read["default_user_access"] == "deny" and by_user(read) == {
        ada: (True, True),
        alan: (False, False),
    }

    found = access("?search=TURING")
    assert [u["user_id"] for u in found["data"]] == [alan] and found["total"] == 1
    assert [u["user_id"] for u in access("?search=ada@")["data"]] == [ada]
    paged = access("?page=1&page_size=1")
    assert len(paged["data"]) == 1 and paged["total"] == 2 and paged["has_more"] is True
    assert "user_access" not in api.call("GET", f"{SERVERS}/{made['id']}").json

    assert api.call("DELETE", f"/v1/admin/users/{alan}").status_code == 200
    assert [u["user_id"] for u in access()["data"]] == [ada]  # computed from the users there are


def test_user_access_names_only_users_of_the_organisation(api: Api):
    ada = user(api, "ada@example.com", "Ada", "Lovelace")
    _, made = served(api)
    path = f"{SERVERS}/{made['id']}/user-access"
    stranger = {
        "user_access": [{"user_id": ada, "enabled": False}, {"user_id": "no-such-user", "enabled": False}],
        "default_user_access": "deny",
    }
    refused = api.call("PUT", path, json=stranger)
    assert error_of(refused, 400, "AB01") == f"body.user_access: {UNKNOWN_USER}"
    read = api.call("GET", path).json
    assert (
        read["default_user_access"] == "allow" and read["data"][0]["has_override"] is False
    )  # nothing stored
    bad = api.call("PUT", path, json={"default_user_access": "sometimes"})
    assert error_of(bad, 400, "AB01").startswith("body.default_user_access")
    missing = api.call("GET", f"{SERVERS}/no-such-server/user-access")
    assert error_of(missing, 404, "AB08") == "Mcp server not found: no-such-server"


def test_connections_are_none_as_nothing_the_mock_serves_makes_one(api: Api):
    ada = user(api, "ada@example.com", "Ada", "Lovelace")
    _, made = served(api)
    path = f"{SERVERS}/{made['slug']}/connections"
    api.call(
        "PUT",
        f"{SERVERS}/{made['id']}/user-access",
        json={"user_access": [{"user_id": ada, "enabled": True}]},
    )
    none = {"data": [], "total": 0, "has_more": False}
    assert api.call("GET", path).json == none
    assert api.call("GET", f"{path}?user_id={ada}&current_page=0&page_size=10").json == none
    assert api.call("DELETE", f"{path}?user_id={ada}").json == {"success": True}
    assert api.call("GET", path).json == none
    unnamed = api.call("DELETE", path)
    assert error_of(unnamed, 400, "AB01").startswith("query.user_id")
    for method in ("GET", "DELETE"):
        missing = api.call(method, f"{SERVERS}/no-such-server/connections?user_id={ada}")
        assert error_of(missing, 404, "AB08") == "Mcp server not found: no-such-server"


SERVER_BETWEEN = {
    "capabilities": (
        {"capabilities": [{"name": "first", "type": "tool", "enabled": False}]},
        {"capabilities": [{"name": "between", "type": "tool", "enabled": False}]},
        lambda read, users: sorted(c["name"] for c in read["data"] if not c["enabled"]),
    ),
    "user-access": (
        lambda users: {"user_access": [{"user_id": users[0], "enabled": False}]},
        lambda users: {
            "user_access": [{"user_id": users[1], "enabled": False}],
            "default_user_access": "deny",
        },
        lambda read, users: (
            read["default_user_access"],
            sorted(u["user_id"] for u in read["data"] if u["has_override"]),
        ),
    ),
}


@pytest.mark.parametrize("kind", SERVER_BETWEEN)
def test_a_servers_set_changed_between_another_requests_read_and_write_keeps_both_changes(
    request, store_kind, monkeypatch, kind
):
    """As for an integration: after one bulk update of a server reads it and before it writes, a
    whole other bulk update of the same server runs; both changes are kept."""
    states: list[State] = []
    build = State.build
    monkeypatch.setattr(State, "build", lambda *args: states.append(build(*args)) or states[-1])
    app = create_app(store_config(request, store_kind))
    api = Api(app.test_client())
    try:
        users = sorted([user(api, "ada@example.com", "Ada", "L"), user(api, "alan@example.com", "Alan", "T")])
        every = [{"name": name, "type": "tool", "enabled": True} for name in ("first", "between")]
        made_integration, made = served(api)
        api.call("PUT", f"{MCP}/{made_integration['id']}/capabilities", json={"capabilities": every})
        path = f"{SERVERS}/{made['slug']}/{kind}"
        first, between, seen = SERVER_BETWEEN[kind]
        if kind == "user-access":
            first, between = first(users), between(users)
        store = states[0].resources
        pending = [lambda: api.call("PUT", path, json=between)]
        for name in ("get_text", "page_text"):
            read = getattr(store, name)

            def read_then_let_another_request_in(*args, read=read):
                found = read(*args)
                while pending and found:
                    assert pending.pop()().status_code == 200
                return found

            monkeypatch.setattr(store, name, read_then_let_another_request_in)
        assert api.call("PUT", path, json=first).status_code == 200
        assert pending == [], "the other request ran"
        expected = ["between", "first"] if kind == "capabilities" else ("deny", users)
        assert seen(api.call("GET", path).json, users) == expected
    finally:
        reset(app)
