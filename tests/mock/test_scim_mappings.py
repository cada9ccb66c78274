"""SCIM group to workspace mappings (mockserver/resources/scim.py), on both stores, in the shapes
Portkey's Terraform provider reads: a list under `mappings` with `total_count`, paged by `page` and
`page_size`; a create answering the mapping; a delete answering `{success: true}`. Every answer is
judged against the contract (`Api.call`); docs/admin-workspaces-and-people.md says what is known and
what inferred.
"""

from __future__ import annotations

from typing import Any

from mockserver.app import create_app
from mockserver.config import MockConfig
from tests.support.inprocess import Api

MAPPINGS = "/v1/scim/workspaces"


def _workspace(api: Api, name: str) -> dict[str, Any]:
    made = api.call("POST", "/v1/admin/workspaces", json={"name": name})
    assert made.status_code == 200, made.json
    return made.json


def _map(api: Api, **body: str) -> Any:
    return api.call("POST", MAPPINGS, json=body)


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json["data"]["errorCode"]


def test_a_group_made_by_name_is_mapped_by_its_id_too_and_keeps_its_name(api):
    platform = _workspace(api, "Platform")
    by_name = _map(api, scim_group_name="Engineering", workspace_id=platform["slug"], role="member")
    assert by_name.status_code == 200, by_name.json
    made = by_name.json
    assert made["workspace_id"] == platform["id"]  # named by slug, answered by id
    assert made["scim_group"] == "Engineering" and made["scim_group_id"]
    again = _map(api, scim_group_id=made["scim_group_id"], workspace_id=platform["id"], role="admin").json
    assert (again["scim_group_id"], again["scim_group"]) == (made["scim_group_id"], "Engineering")
    unknown = _map(api, scim_group_id="group-from-the-idp", workspace_id=platform["id"], role="manager").json
    assert (unknown["scim_group_id"], unknown["scim_group"]) == ("group-from-the-idp", None)


def test_the_list_filters_by_workspace_group_and_role_and_pages_from_zero(api):
    platform, data = _workspace(api, "Platform"), _workspace(api, "Data")
    first = _map(api, scim_group_name="Engineering", workspace_id=platform["id"], role="member").json
    _map(api, scim_group_name="Engineering", workspace_id=data["id"], role="admin")
    _map(api, scim_group_name="Analysts", workspace_id=data["id"], role="member")
    page = api.call("GET", MAPPINGS).json
    assert page["total_count"] == 3 and len(page["mappings"]) == 3 and "object" not in page
    assert {m["role"] for m in api.call("GET", f"{MAPPINGS}?role=member").json["mappings"]} == {"member"}
    in_data = api.call("GET", f"{MAPPINGS}?workspace_id={data['id']}").json
    assert in_data["total_count"] == 2 and {m["workspace_id"] for m in in_data["mappings"]} == {data["id"]}
    group = api.call("GET", f"{MAPPINGS}?scim_group_id={first['scim_group_id']}").json
    assert group["total_count"] == 2
    pages = [api.call("GET", f"{MAPPINGS}?page={n}&page_size=2").json for n in range(3)]
    assert [len(p["mappings"]) for p in pages] == [2, 1, 0] and {p["total_count"] for p in pages} == {3}
    assert len({m["id"] for p in pages for m in p["mappings"]}) == 3


def test_a_mapping_to_a_workspace_the_organisation_lacks_is_refused_and_not_kept(api):
    refused = _map(api, scim_group_name="Engineering", workspace_id="ws-nowhere", role="member")
    assert _error(refused) == (403, "AB03") and "ws-nowhere" in refused.json["data"]["message"]
    assert api.call("GET", MAPPINGS).json["total_count"] == 0


def test_a_mapping_names_its_group_by_id_or_by_name_never_both_nor_neither(api):
    platform = _workspace(api, "Platform")
    both = _map(
        api, scim_group_id="g-1", scim_group_name="Engineering", workspace_id=platform["id"], role="admin"
    )
    neither = _map(api, workspace_id=platform["id"], role="admin")
    assert _error(both) == (400, "AB01") and _error(neither) == (400, "AB01")
    entries = api.client.get("/__mock/journal").json["entries"]
    assert [e["valid"] for e in entries if e["status"] == 400] == [False, False]
    assert api.call("GET", MAPPINGS).json["total_count"] == 0


def test_removing_a_mapping_answers_success_once_and_leaves_the_workspace(api):
    platform = _workspace(api, "Platform")
    made = _map(api, scim_group_name="Engineering", workspace_id=platform["id"], role="member").json
    assert api.call("DELETE", f"{MAPPINGS}/{made['id']}").json == {"success": True}
    assert _error(api.call("DELETE", f"{MAPPINGS}/{made['id']}")) == (404, "AB08")
    assert api.call("GET", MAPPINGS).json["total_count"] == 0
    assert api.call("GET", f"/v1/admin/workspaces/{platform['id']}").status_code == 200


def test_a_workspace_api_key_cannot_map_groups(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text('{"api_keys": [{"key": "pk-admin"}, {"key": "pk-workspace", "workspace_id": "ws-1"}]}')
    client = create_app(MockConfig(keys_path=keys)).test_client()
    admin, bound = Api(client, "pk-admin"), Api(client, "pk-workspace")
    platform = _workspace(admin, "Platform")
    made = _map(admin, scim_group_name="Engineering", workspace_id=platform["id"], role="member").json
    assert _error(bound.call("GET", MAPPINGS)) == (403, "AB03")
    assert _error(_map(bound, scim_group_name="Ops", workspace_id=platform["id"], role="member")) == (
        403,
        "AB03",
    )
    assert _error(bound.call("DELETE", f"{MAPPINGS}/{made['id']}")) == (403, "AB03")
    assert admin.call("GET", MAPPINGS).json["total_count"] == 1
