"""Resources declared in the contract (`x-portkey-resource`) and served by the resource engine.

Each test runs for every declared resource, on both stores, with the create body from the
contract's own example: a resource added to `openapi.yaml` is covered here with no test code of
its own. Every answer is also judged against the contract (`Api.call`).
"""

from __future__ import annotations

import copy
import logging
import uuid
from typing import Any

import pytest

from mockserver.access import derived_id
from mockserver.contract.declared import Declaration, DeclarationError
from mockserver.contract.document import Contract
from mockserver.resources import handler_table
from mockserver.resources.engine import DeclaredResource
from mockserver.state.records import MemoryStore
from tests.support.inprocess import Api

CONTRACT = Contract.load()
DECLARED = {declaration.name: declaration for declaration in CONTRACT.resources}


@pytest.fixture(params=sorted(DECLARED))
def declared(request: pytest.FixtureRequest) -> Declaration:
    return DECLARED[request.param]


def _example(declaration: Declaration, kind: str = "create") -> dict[str, Any]:
    """The contract's own example body of the resource's create (or update) operation."""
    example = CONTRACT.body_example(CONTRACT.operations[declaration.operations[kind]])
    if kind == "update" and example is None:
        return {"name": "renamed by the test"}  # configs and guardrails state none
    assert example is not None, f"{declaration.name} has no {kind} example"
    return example


# A resource the API cannot create (users come from accepted invites; members are added in bulk,
# answering nothing) is made here through the calls that make one; the test names each.
def _accepted_user(api: Api) -> dict[str, Any]:
    invite = api.call(
        "POST", "/v1/admin/users/invites", json={"email": f"{uuid.uuid4().hex}@example.com", "role": "member"}
    )
    accepted = api.client.post(f"/__mock/invites/{invite.json['id']}/accept", headers=api._headers())
    assert accepted.status_code == 200, accepted.json
    return accepted.json


def _member(api: Api, collection: str) -> dict[str, Any]:
    user = _accepted_user(api)
    added = api.call("POST", collection, json={"users": [{"id": user["id"], "role": "member"}]})
    assert added.status_code == 200, added.json
    return {"id": user["id"]}


MAKERS = {"user": lambda api, collection: _accepted_user(api), "workspace-user": _member}


# A create example naming a record of another resource (a SCIM mapping's workspace) is sent naming
# one the test made.
def _in_a_workspace(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    workspace = api.call("POST", "/v1/admin/workspaces", json={"name": "Mapped"})
    assert workspace.status_code == 200, workspace.json
    return {**body, "workspace_id": workspace.json["id"]}


def _on_an_integration(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """A provider names an integration enabled for the workspace, and a slug of its own."""
    unique = uuid.uuid4().hex[:8]
    integration = {"name": "Provided", "ai_provider_id": "openai", "key": "sk-test-0000000000000000abcd"}
    made = api.call("POST", "/v1/integrations", json={**integration, "slug": f"openai-{unique}"})
    assert made.status_code == 200, made.json
    own = derived_id("workspace", api.api_key)  # an any-key caller's own workspace
    grant = {"workspaces": [{"id": own, "enabled": True}], "create_default_provider": False}
    assert api.call("PUT", f"/v1/integrations/openai-{unique}/workspaces", json=grant).status_code == 200
    return {**body, "integration_id": f"openai-{unique}", "slug": f"{body['slug']}-{unique}"}


def _from_an_mcp_integration(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """An MCP server names an MCP integration its workspace may use: one every workspace may."""
    sent = {"name": "Served", "url": "https://mcp.example.com/mcp", "auth_type": "none", "transport": "http"}
    made = api.call("POST", "/v1/mcp-integrations", json=sent)
    assert made.status_code == 200, made.json
    everyone = {"workspaces": [], "global_workspace_access": {"enabled": True}}
    assert (
        api.call("PUT", f"/v1/mcp-integrations/{made.json['id']}/workspaces", json=everyone).status_code
        == 200
    )
    return {**body, "mcp_integration_id": made.json["id"]}  # kept by its id, read back as sent


def _named_anew(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """A label's name is one label's in its workspace: each record the test makes has its own."""
    return {**body, "name": f"{body['name']}-{uuid.uuid4().hex[:8]}"}


def _in_a_collection(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """A prompt is made in a collection of its workspace: one the test made."""
    made = api.call("POST", "/v1/collections", json={"name": f"For prompts {uuid.uuid4().hex[:8]}"})
    assert made.status_code == 200, made.json
    return {**body, "collection_id": made.json["id"]}


NAMING = {
    "prompt": _in_a_collection,
    "scim-workspace-mapping": _in_a_workspace,
    "provider": _on_an_integration,
    "label": _named_anew,
    "mcp-server": _from_an_mcp_integration,
}


def _page(api: Api, declaration: Declaration, path: str) -> tuple[list[dict[str, Any]], int]:
    """A list's records and total, under the keys its marker names (`list-answer`)."""
    answer = api.call("GET", path)
    assert answer.status_code == 200, answer.json
    if declaration.list_answer is None:
        assert answer.json["object"] == "list"
    data, total = declaration.list_answer or ("data", "total")
    return answer.json[data], answer.json[total]


def _paths(api: Api, declaration: Declaration) -> tuple[str, str]:
    """The collection path and the item path with `%s` for the record, a parent made if it has one."""
    list_path = CONTRACT.operations[declaration.operations["list"]].path
    kind = next(kind for kind in ("retrieve", "delete") if kind in declaration.operations)
    item = CONTRACT.operations[declaration.operations[kind]].path
    item = item.replace("{" + declaration.item_parameter + "}", "%s")
    if declaration.parent:
        parameter, name = declaration.parent
        parent = _create(api, DECLARED[name], _paths(api, DECLARED[name])[0])
        list_path = list_path.replace("{" + parameter + "}", parent["id"])
        item = item.replace("{" + parameter + "}", parent["id"])
    return list_path, item


def _create_path(declaration: Declaration, collection: str) -> str:
    """Where a record is created: its collection, or a path of its own (`create-at`) whose parameters
    take their examples (API keys: `/api-keys/organisation/service`)."""
    return CONTRACT.example_path(CONTRACT.operations[declaration.operations["create"]]) or collection


def _body(api: Api, declaration: Declaration) -> dict[str, Any]:
    """The create example, naming what it names as the test made it (`NAMING`)."""
    body = _example(declaration)
    return NAMING[declaration.name](api, body) if declaration.name in NAMING else body


def _create(
    api: Api,
    declaration: Declaration,
    collection: str,
    body: dict[str, Any] | None = None,
    *,
    whole: bool = True,
) -> dict[str, Any]:
    """A new record: the create's answer, completed by a retrieve when it names the record by its
    key alone (a virtual key's `{slug}`), unless `whole` is False."""
    if "create" not in declaration.operations:
        return MAKERS[declaration.name](api, collection)
    response = api.call("POST", _create_path(declaration, collection), json=body or _body(api, declaration))
    assert response.status_code == 200, response.json
    answer = response.json["data"] if declaration.create_wrapped else response.json
    if whole and "id" not in answer and "retrieve" in declaration.operations:
        item = CONTRACT.operations[declaration.operations["retrieve"]].path
        path = item.replace("{" + declaration.item_parameter + "}", _ref(declaration, answer))
        found = api.call("GET", path)
        answer = {**found.json, **answer}
    return answer


def _ref(declaration: Declaration, created: dict[str, Any]) -> str:
    """What the item path names a new record by: its slug, or its id for a resource found by id."""
    return str(created[declaration.found_by[0]])


def _missing(declaration: Declaration) -> tuple[int, str]:
    status = declaration.missing_status or 404
    return status, {404: "AB08", 403: "AB03"}[status]


def _journal(api: Api) -> list[dict[str, Any]]:
    return api.client.get("/__mock/journal").json["entries"]


def _text_field(declaration: Declaration) -> tuple[str, dict[str, Any]]:
    """A text field of the resource's create (else update) example, and that example."""
    kind = "create" if "create" in declaration.operations else "update"
    body = _example(declaration, kind)
    return next(name for name, value in body.items() if isinstance(value, str)), body


def test_a_declared_resource_lives_through_create_list_retrieve_update_and_delete(api, declared):
    collection, item = _paths(api, declared)
    body = _body(api, declared) if "create" in declared.operations else None
    created = _create(api, declared, collection, body, whole=False)
    if "create" in declared.operations:
        assert set(created) == set(declared.create_answer)
    ref = _ref(declared, created)

    data, total = _page(api, declared, collection)
    assert total == 1 and [listed[declared.found_by[0]] for listed in data] == [ref]

    if "retrieve" in declared.operations:
        retrieved = api.call("GET", item % ref).json
        assert retrieved.get("object") == (declared.name if declared.with_object else None)
        if body is not None:  # each text sent is read back (a secret only masked; see test_slugs_and_masking)
            sent = {k: v for k, v in body.items() if isinstance(v, str) and k not in declared.secret_fields}
            shown = {**data[0], **retrieved}  # a virtual key's retrieve names its provider otherwise
            assert {k: shown[declared.stored_as.get(k, k)] for k in sent} == sent

    if "update" in declared.operations:
        change = _example(declared, "update")
        updated = api.call("PUT", item % ref, json=change)
        assert updated.status_code == 200, updated.json
        assert set(updated.json) == set(declared.update_answer)
        after = api.call("GET", item % ref).json
        readable = {k: v for k, v in change.items() if k not in declared.secret_fields}
        assert {k: after[k] for k in readable} == readable

    if "delete" not in declared.operations:  # a logs export is never deleted
        return
    assert api.call("DELETE", item % ref).status_code == 200
    gone = api.call("GET" if "retrieve" in declared.operations else "DELETE", item % ref)
    status, code = _missing(declared)
    assert gone.status_code == status
    assert gone.json["success"] is False and gone.json["data"]["errorCode"] == code
    assert _page(api, declared, collection)[1] == 0


def test_a_list_pages_newest_first_with_the_total(api, declared):
    collection, _ = _paths(api, declared)
    made = [_create(api, declared, collection)["id"] for _ in range(3)]
    page, size = declared.paging
    first, first_total = _page(api, declared, f"{collection}?{size}=2")
    second, second_total = _page(api, declared, f"{collection}?{size}=2&{page}=1")
    assert first_total == second_total == 3
    assert [r["id"] for r in first + second] == made[::-1]


def test_one_api_key_never_sees_another_keys_records(api, declared):
    collection, item = _paths(api, declared)
    ref = _ref(declared, _create(api, declared, collection))
    other = api.as_key("pk-another-organisation")
    listed = other.call("GET", collection)
    parent_missing = _missing(DECLARED[declared.parent[1]])[0] if declared.parent else None
    assert listed.status_code == parent_missing or _page(other, declared, collection)[1] == 0
    missing = {404, parent_missing or 404, _missing(declared)[0]}
    if "retrieve" in declared.operations:
        assert api.call("GET", item % ref).status_code == 200
        assert other.call("GET", item % ref).status_code in missing
    if "update" in declared.operations:
        assert other.call("PUT", item % ref, json=_example(declared, "update")).status_code in missing
    if "delete" in declared.operations:
        assert other.call("DELETE", item % ref).status_code in missing
    assert _page(api, declared, collection)[1] == 1


def test_bad_input_is_refused_in_portkeys_envelope_naming_the_field(api, declared):
    collection, item = _paths(api, declared)
    field, body = _text_field(declared)
    if "create" in declared.operations:
        response = api.call("POST", _create_path(declared, collection), json={**body, field: 3})
    else:
        ref = _ref(declared, _create(api, declared, collection))
        api.client.delete("/__mock/journal")
        response = api.call("PUT", item % ref, json={**body, field: 3})
    assert response.status_code == 400
    assert response.json["data"]["errorCode"] == "AB01"
    assert f"body.{field}: must be of type string" in response.json["data"]["message"]
    [entry] = _journal(api)
    assert {"location": f"body.{field}", "rule": "must be of type string"} in entry["violations"]
    if "create" in declared.operations:
        assert _page(api, declared, collection)[1] == 0


def test_an_update_makes_a_new_version_and_keeps_the_old_one(api):
    configs = DECLARED["config"]
    collection, item = _paths(api, configs)
    created = _create(api, configs, collection)
    updated = api.call("PUT", item % created["slug"], json={"config": {"retry": {"attempts": 5}}}).json
    versions = api.call("GET", (item % created["slug"]) + "/versions").json
    assert versions["total"] == 2
    assert [v["version_id"] for v in versions["data"]] == [updated["version_id"], created["version_id"]]
    assert [v["config"] for v in versions["data"]] == [{"retry": {"attempts": 5}}, {"retry": {"attempts": 3}}]
    assert {v["slug"] for v in versions["data"]} == {created["slug"]}


def test_an_update_changes_only_what_it_names(api, declared):
    if "update" not in declared.operations:
        pytest.skip(f"{declared.name} has no update")
    collection, item = _paths(api, declared)
    ref = _ref(declared, _create(api, declared, collection))
    before = api.call("GET", item % ref).json
    change = _example(declared, "update")
    assert api.call("PUT", item % ref, json=change).status_code == 200
    after = api.call("GET", item % ref).json
    changed = {name for name in after if after[name] != before.get(name)}
    kept_as = {declared.stored_as.get(name, name) for name in change}  # a key's secret: masked_api_key
    assert changed <= {*change, *kept_as, "last_updated_at", "updated_by", "version_id"}
    assert after["id"] == before["id"] and after["created_at"] == before["created_at"]


# --- the markers and the handler table -------------------------------------------------------------


def _without(template: str, method: str) -> Contract:
    document = copy.deepcopy(CONTRACT.document)
    del document["paths"][template][method]
    return Contract(CONTRACT.path, document=document)


@pytest.mark.parametrize(
    ("template", "method", "kind"),
    [("/configs/{slug}", "delete", "delete"), ("/configs/{slug}/versions", "get", "versions")],
)
def test_a_declared_resource_lacking_an_operation_its_marker_promises_is_refused(template, method, kind):
    contract = _without(template, method)
    with pytest.raises(DeclarationError, match=f"promises {kind}, but {method.upper()} {template}"):
        _ = contract.resources


def test_a_resource_without_slugs_must_be_found_by_id_only():
    document = copy.deepcopy(CONTRACT.document)
    document["paths"]["/policies/rate-limits"]["x-portkey-resource"]["found-by"] = ["id", "slug"]
    with pytest.raises(DeclarationError, match=r"without slugs is found by id only"):
        _ = Contract(CONTRACT.path, document=document).resources


def test_every_declared_operation_is_served_by_the_engine_exactly_once():
    engine = [DeclaredResource(declaration, MemoryStore()) for declaration in CONTRACT.resources]
    served = {op for resource in engine for op in resource.handlers()}
    promised = {op for declaration in CONTRACT.resources for op in declaration.operations.values()}
    assert served == promised and promised <= set(CONTRACT.operations)
    assert sum(len(resource.handlers()) for resource in engine) == len(served)
    with pytest.raises(ValueError, match="two resources serve"):
        handler_table(CONTRACT, [*engine, engine[0]])


def test_the_item_path_finds_a_record_by_each_field_its_marker_names(api, declared):
    if "retrieve" not in declared.operations:
        pytest.skip(f"{declared.name} has no retrieve")
    collection, item = _paths(api, declared)
    created = _create(api, declared, collection)
    for field in declared.found_by:
        assert api.call("GET", item % created[field]).json["id"] == created["id"], field


def test_a_marker_whose_parent_is_not_declared_is_refused():
    document = copy.deepcopy(CONTRACT.document)
    document["paths"]["/admin/workspaces/{workspaceId}/users"]["x-portkey-resource"]["parent"]["resource"] = (
        "team"
    )
    with pytest.raises(DeclarationError, match="parent 'team' is not declared"):
        _ = Contract(CONTRACT.path, document=document).resources


def test_a_missing_parent_answers_as_the_parents_missing_record_and_stores_nothing(api, declared):
    if not declared.parent:
        pytest.skip(f"{declared.name} has no parent")
    collection = CONTRACT.operations[declared.operations["list"]].path
    parameter, name = declared.parent
    answer = api.call("GET", collection.replace("{" + parameter + "}", "not-there"))
    assert (answer.status_code, answer.json["data"]["errorCode"]) == _missing(DECLARED[name])


def _spoil(store: Any, namespace: str, slug: str) -> None:
    """Leave a record that is not JSON, as another writer (or an older mock on one Redis) might."""
    if isinstance(store, MemoryStore):
        store._namespaces[namespace][slug] = b'{"name": '
    else:
        store.keys.own_client().hset(store._record_key(namespace, slug), ":text", b'{"name": ')


def test_one_unreadable_record_never_takes_a_list_or_a_lookup_by_id_down(api, declared, caplog):
    collection, item = _paths(api, declared)
    good, bad = _create(api, declared, collection), _create(api, declared, collection)
    state = api.client.application.state
    store = state.store_of(declared.records)  # `records: keys` or `integrations`: no name in it
    [namespace] = [n for n in store.namespaces() if declared.records or n.startswith(f"{declared.name}/")]
    _spoil(store, namespace, bad["id"] if declared.kept_by_id else bad["slug"])  # what the store keeps it by
    with caplog.at_level(logging.ERROR, logger="mockserver"):
        assert [r["id"] for r in _page(api, declared, collection)[0]] == [good["id"]]
        for field in declared.found_by if "retrieve" in declared.operations else ():
            assert api.call("GET", item % good[field]).json["id"] == good["id"], field
        if declared.versioned:
            versions = CONTRACT.operations[declared.operations["versions"]].path
            listed = api.call("GET", versions.replace("{" + declared.item_parameter + "}", good["slug"]))
            assert listed.status_code == 200 and listed.json["total"] == 1
    assert "cannot be read" in caplog.text
