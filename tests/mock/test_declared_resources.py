"""Resources declared in the contract (`x-portkey-resource`) and served by the resource engine.

Each test runs for every declared resource, on both stores, with the create body from the
contract's own example: a resource added to `openapi.yaml` is covered here with no test code of
its own. Every answer is also judged against the contract (`Api.call`).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

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


def _paths(declaration: Declaration) -> tuple[str, str]:
    """The collection path and a function of a ref giving the item path, as requested."""
    create = CONTRACT.operations[declaration.operations["create"]]
    retrieve = CONTRACT.operations[declaration.operations["retrieve"]]
    return create.path, retrieve.path.replace("{" + declaration.item_parameter + "}", "%s")


def _example(declaration: Declaration) -> dict[str, Any]:
    create = CONTRACT.operations[declaration.operations["create"]]
    for item in CONTRACT.document["paths"].values():
        spec = item.get("post")
        if isinstance(spec, dict) and spec.get("operationId") == create.operation_id:
            return copy.deepcopy(spec["requestBody"]["content"]["application/json"]["example"])
    raise AssertionError(f"{create.operation_id} has no example")


def _create(api: Api, declaration: Declaration) -> dict[str, Any]:
    collection, _ = _paths(declaration)
    response = api.call("POST", collection, json=_example(declaration))
    assert response.status_code == 200, response.json
    answer = response.json
    return answer["data"] if declaration.create_wrapped else answer


def _ref(declaration: Declaration, created: dict[str, Any]) -> str:
    """What the item path names a new record by: its slug, or its id for a resource found by id."""
    return str(created[declaration.found_by[0]])


def _journal(api: Api) -> list[dict[str, Any]]:
    return api.client.get("/__mock/journal").json["entries"]


def test_a_declared_resource_lives_through_create_list_retrieve_update_and_delete(api, declared):
    collection, item = _paths(declared)
    created = _create(api, declared)
    assert set(created) == set(declared.create_answer)
    ref = _ref(declared, created)

    page = api.call("GET", collection).json
    assert page["object"] == "list" and page["total"] == 1
    assert [listed[declared.found_by[0]] for listed in page["data"]] == [ref]

    retrieved = api.call("GET", item % ref).json
    assert retrieved["name"] == _example(declared)["name"] and retrieved["object"] == declared.name

    updated = api.call("PUT", item % ref, json={"name": "renamed by the test"})
    assert updated.status_code == 200, updated.json
    assert set(updated.json) == set(declared.update_answer)
    assert api.call("GET", item % ref).json["name"] == "renamed by the test"

    assert api.call("DELETE", item % ref).status_code == 200
    gone = api.call("GET", item % ref)
    assert gone.status_code == 404
    assert gone.json["success"] is False and gone.json["data"]["errorCode"] == "AB08"
    assert api.call("GET", collection).json["total"] == 0


def test_a_list_pages_newest_first_with_the_total(api, declared):
    collection, _ = _paths(declared)
    made = [_create(api, declared)["id"] for _ in range(3)]
    first = api.call("GET", f"{collection}?page_size=2").json
    second = api.call("GET", f"{collection}?page_size=2&current_page=1").json
    assert first["total"] == second["total"] == 3
    assert [r["id"] for r in first["data"] + second["data"]] == made[::-1]


def test_one_api_key_never_sees_another_keys_records(api, declared):
    collection, item = _paths(declared)
    ref = _ref(declared, _create(api, declared))
    assert api.call("GET", item % ref).status_code == 200
    other = api.as_key("pk-another-organisation")
    assert other.call("GET", collection).json["total"] == 0
    assert other.call("GET", item % ref).status_code == 404
    assert other.call("PUT", item % ref, json={"name": "not yours"}).status_code == 404
    assert other.call("DELETE", item % ref).status_code == 404
    assert api.call("GET", collection).json["total"] == 1


def test_bad_input_is_refused_in_portkeys_envelope_naming_the_field(api, declared):
    collection, _ = _paths(declared)
    response = api.call("POST", collection, json={**_example(declared), "name": 3})
    assert response.status_code == 400
    assert response.json["data"]["errorCode"] == "AB01"
    assert "body.name: must be of type string" in response.json["data"]["message"]
    [entry] = _journal(api)
    assert entry["violations"] == [{"location": "body.name", "rule": "must be of type string"}]
    assert api.call("GET", collection).json["total"] == 0


def test_an_update_makes_a_new_version_and_keeps_the_old_one(api):
    configs = DECLARED["config"]
    _, item = _paths(configs)
    created = _create(api, configs)
    updated = api.call("PUT", item % created["slug"], json={"config": {"retry": {"attempts": 5}}}).json
    versions = api.call("GET", (item % created["slug"]) + "/versions").json
    assert versions["total"] == 2
    assert [v["version_id"] for v in versions["data"]] == [updated["version_id"], created["version_id"]]
    assert [v["config"] for v in versions["data"]] == [{"retry": {"attempts": 5}}, {"retry": {"attempts": 3}}]
    assert {v["slug"] for v in versions["data"]} == {created["slug"]}


def test_an_update_changes_only_what_it_names(api, declared):
    _, item = _paths(declared)
    ref = _ref(declared, _create(api, declared))
    before = api.call("GET", item % ref).json
    api.call("PUT", item % ref, json={"name": "only the name"})
    after = api.call("GET", item % ref).json
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed <= {"name", "last_updated_at", "updated_by", "version_id"}
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
    with pytest.raises(DeclarationError, match=r"without slugs \(`slug: false`\) is found by id only"):
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
    _, item = _paths(declared)
    created = _create(api, declared)
    for field in declared.found_by:
        assert api.call("GET", item % created[field]).json["id"] == created["id"], field


def _spoil(store: Any, namespace: str, slug: str) -> None:
    """Leave a record that is not JSON, as another writer (or an older mock on one Redis) might."""
    if isinstance(store, MemoryStore):
        store._namespaces[namespace][slug] = b'{"name": '
    else:
        store.keys.own_client().hset(store._record_key(namespace, slug), ":text", b'{"name": ')


def test_one_unreadable_record_never_takes_a_list_or_a_lookup_by_id_down(api, declared, caplog):
    collection, item = _paths(declared)
    good, bad = _create(api, declared), _create(api, declared)
    store = api.client.application.state.resources
    [namespace] = [n for n in store.namespaces() if n.startswith(f"{declared.name}/")]
    _spoil(store, namespace, bad["slug"] if declared.slugged else bad["id"])  # what the store keeps it by
    with caplog.at_level(logging.ERROR, logger="mockserver"):
        page = api.call("GET", collection)
        assert page.status_code == 200 and [r["id"] for r in page.json["data"]] == [good["id"]]
        for field in declared.found_by:
            assert api.call("GET", item % good[field]).json["id"] == good["id"], field
        if declared.versioned:
            versions = CONTRACT.operations[declared.operations["versions"]].path
            listed = api.call("GET", versions.replace("{" + declared.item_parameter + "}", good["slug"]))
            assert listed.status_code == 200 and listed.json["total"] == 1
    assert "cannot be read" in caplog.text
