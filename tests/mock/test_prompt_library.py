"""Collections and labels, the prompt library's folders and version names, on both stores: what is
particular to them beyond the lifecycle every declared resource shares
(`tests/mock/test_declared_resources.py`).

A collection's parent is a collection of its workspace; what a collection holds is computed from the
records when it is read; a collection holding others is not deleted. A label's name is one label's
in its workspace. The Python SDK reaches both by id without naming a workspace, and spells the
organisation `organization_id`.
"""

from __future__ import annotations

from typing import Any

from mockserver.contract.document import Contract
from tests.support.inprocess import Api, error_of

CONTRACT = Contract.load()
NO_PARENT = CONTRACT.operations["createCollection"].state_rules["body.parent_collection_id"]
HOLDS_OTHERS = CONTRACT.operations["deleteCollection"].state_rules["path.collectionId"]
NAME_TAKEN = CONTRACT.operations["createLabel"].state_rules["body.name"]


def collection(api: Api, name: str, **body: Any) -> dict[str, Any]:
    made = api.call("POST", "/v1/collections", json={"name": name, **body})
    assert made.status_code == 200, made.json
    return dict(made.json)


def journal(api: Api) -> list[dict[str, Any]]:
    return list(api.client.get("/__mock/journal").json["entries"])


def test_a_collection_inside_another_is_counted_and_listed_by_its_parent(api: Api):
    top = collection(api, "Support")
    child = collection(api, "Refunds", parent_collection_id=top["slug"])  # a parent by its slug
    collection(api, "Unrelated")

    read = api.call("GET", f"/v1/collections/{child['id']}").json
    assert read["parent_collection_id"] == top["id"]  # kept by its id
    parent = api.call("GET", f"/v1/collections/{top['slug']}").json
    assert [c["id"] for c in parent["child_collections"]] == [child["id"]]
    assert parent["child_collections"][0]["collection_details"]["child_collections_count"] == 0
    listed = {c["id"]: c["collection_details"] for c in api.call("GET", "/v1/collections").json["data"]}
    assert listed[top["id"]]["child_collections_count"] == 1
    assert listed[top["id"]]["child_collections_last_updated_at"] == read["last_updated_at"]
    assert listed[child["id"]] == {
        "child_collections_count": 0,
        "prompts_count": 0,
        "child_collections_last_updated_at": None,
        "prompts_last_updated_at": None,
    }


def test_a_parent_that_is_missing_or_in_another_workspace_is_refused_naming_the_field(api: Api):
    elsewhere = collection(api, "Theirs", workspace_id=api.workspace())
    for ref in ("no-such-collection", elsewhere["id"]):
        refused = api.call("POST", "/v1/collections", json={"name": "Orphan", "parent_collection_id": ref})
        assert error_of(refused, 400, "AB01") == f"body.parent_collection_id: {NO_PARENT}"
    assert api.call("GET", "/v1/collections").json["total"] == 0  # nothing half-made
    refusals = [e for e in journal(api) if e["status"] == 400]
    assert [e["violations"] for e in refusals] == [
        [{"location": "body.parent_collection_id", "rule": NO_PARENT}]
    ] * 2


def test_a_collection_holding_others_is_not_deleted_until_they_are(api: Api):
    top = collection(api, "Support")
    child = collection(api, "Refunds", parent_collection_id=top["id"])
    refused = api.call("DELETE", f"/v1/collections/{top['id']}")
    assert error_of(refused, 400, "AB01") == f"path.collectionId: {HOLDS_OTHERS}"
    assert api.call("GET", f"/v1/collections/{top['id']}").status_code == 200
    assert api.call("DELETE", f"/v1/collections/{child['id']}").status_code == 200
    assert api.call("DELETE", f"/v1/collections/{top['id']}").status_code == 200
    assert api.call("GET", f"/v1/collections/{top['id']}").status_code == 404


def test_collections_and_labels_are_searched_by_name_whatever_the_case(api: Api):
    for name in ("Support desk", "Billing", "support bots"):
        collection(api, name)
    for name in ("support-desk", "billing", "Support-bots"):
        assert api.call("POST", "/v1/labels", json={"name": name}).status_code == 200
    found = api.call("GET", "/v1/collections?search=SUPPORT").json
    assert found["total"] == 2 and {c["name"] for c in found["data"]} == {"Support desk", "support bots"}
    found = api.call("GET", "/v1/labels?search=SUPPORT&page_size=1").json
    assert found["total"] == 2 and found["data"][0]["name"] == "Support-bots"  # newest first


def test_a_collection_is_reached_by_id_naming_no_workspace_but_not_from_another_workspace(api: Api):
    other = api.workspace()
    made = collection(api, "Theirs", workspace_id=other)
    assert api.call("GET", f"/v1/collections/{made['id']}").json["workspace_id"] == other
    assert api.call("GET", f"/v1/collections/{made['id']}?workspace_id={other}").status_code == 200
    own = api.call("GET", f"/v1/collections/{made['id']}?workspace_id={_own_workspace(api)}")
    assert error_of(own, 404, "AB08") == f"Collection not found: {made['id']}"


def _own_workspace(api: Api) -> str:
    mine = collection(api, "Mine")
    return str(api.call("GET", f"/v1/collections/{mine['id']}").json["workspace_id"])


def test_a_label_name_is_one_labels_in_its_workspace(api: Api):
    first = api.call("POST", "/v1/labels", json={"name": "production-eu"}).json["id"]
    again = api.call("POST", "/v1/labels", json={"name": "production-eu"})
    assert error_of(again, 400, "AB01") == f"body.name: {NAME_TAKEN}"
    other = api.workspace()
    elsewhere = api.call("POST", "/v1/labels", json={"name": "production-eu", "workspace_id": other})
    assert elsewhere.status_code == 200  # another workspace's names are its own
    second = api.call("POST", "/v1/labels", json={"name": "staging-eu"}).json["id"]
    renamed = api.call("PUT", f"/v1/labels/{second}", json={"name": "production-eu"})
    assert error_of(renamed, 400, "AB01") == f"body.name: {NAME_TAKEN}"
    assert api.call("GET", f"/v1/labels/{second}").json["name"] == "staging-eu"
    assert api.call("PUT", f"/v1/labels/{first}", json={"name": "production-eu"}).status_code == 200


def test_a_label_name_that_would_read_as_a_version_is_refused(api: Api):
    for name in ("latest", "default", "12", "has space", "at@sign"):
        refused = api.call("POST", "/v1/labels", json={"name": name})
        assert refused.status_code == 400, name
        assert error_of(refused, 400, "AB01").startswith("body.name: "), name
    assert api.call("GET", "/v1/labels").json["total"] == 0


def test_a_label_is_universal_only_when_made_for_the_organisation(api: Api):
    own = api.call("POST", "/v1/labels", json={"name": "everywhere"}).json["id"]
    read = api.call("GET", f"/v1/labels/{own}").json
    assert read["is_universal"] is True and read["workspace_id"] is None
    team = api.workspace()
    theirs = api.call("POST", "/v1/labels", json={"name": "team", "workspace_id": team}).json["id"]
    read = api.call("GET", f"/v1/labels/{theirs}").json
    assert read["is_universal"] is False and read["workspace_id"] == team


def test_the_python_sdks_organization_spelling_is_taken_and_warned(api: Api):
    made = api.call("POST", "/v1/labels", json={"name": "first"}).json["id"]
    organisation = api.call("GET", f"/v1/labels/{made}").json["organisation_id"]
    spelt = api.call("POST", "/v1/labels", json={"name": "spelt", "organization_id": organisation})
    assert spelt.status_code == 200, spelt.json
    entry = journal(api)[-1]
    assert entry["valid"] is True and "organization_id" in str(entry["warnings"])
    assert "organization_id" not in api.call("GET", f"/v1/labels/{spelt.json['id']}").json
    other = api.call("POST", "/v1/labels", json={"name": "theirs", "organization_id": "another-org"})
    assert other.status_code == 403  # another organisation, whatever the spelling
