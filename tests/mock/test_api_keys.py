"""API keys made through the API are working keys of the mock (mockserver/resources/api_keys.py).

A key made by `POST /api-keys/{type}/{sub-type}` calls the mock with the scopes and workspace it
was given; rotating it refuses the old value and takes the new one; deleting it refuses it. Each
test runs on both stores; one runs two apps on the same Redis, as two worker processes would.
Every answer is judged against the contract (`Api.call`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver import create_app
from mockserver.access import ISSUED_PREFIX, AccessPolicy
from mockserver.contract.document import Contract
from tests.support.inprocess import Api, error_of, reset, store_config

CONTRACT = Contract.load()
CONFIG = {"name": "retries", "config": {"retry": {"attempts": 3}}}


def _make(api: Api, kind: str = "workspace/service", **body: Any) -> dict[str, Any]:
    body = {"name": "a key", "scopes": ["configs.create", "configs.list"], **body}
    if kind.startswith("workspace/"):
        body.setdefault("workspace_id", "ws-team")
    response = api.call("POST", f"/v1/api-keys/{kind}", json=body)
    assert response.status_code == 200, response.json
    return response.json


def _refused(response: Any) -> None:
    assert error_of(response, 401, "AB05") == "Unauthorised Request"


def test_a_made_key_works_in_its_workspace_with_its_scopes(api):
    made = _make(api)
    assert made["key"].startswith(ISSUED_PREFIX) and made["object"] == "api-key"
    key = api.as_key(made["key"])

    assert key.call("POST", "/v1/configs", json=CONFIG).status_code == 200
    assert key.call("GET", "/v1/configs").json["total"] == 1
    # the creator, naming that workspace, sees the same records: one organisation
    assert api.call("GET", "/v1/configs?workspace_id=ws-team").json["total"] == 1
    assert "lacks the scope virtual_keys.list" in error_of(key.call("GET", "/v1/virtual-keys"), 403, "AB03")
    outside = key.call("GET", "/v1/configs?workspace_id=ws-other")
    assert "not allowed in the requested workspace" in error_of(outside, 403, "AB03")


def test_an_organisation_key_names_the_workspace_it_acts_in(api):
    admin = api.as_key(_make(api, "organisation/service", scopes=["configs.list"])["key"])
    assert admin.call("GET", "/v1/configs?workspace_id=ws-a").json["total"] == 0
    refused = admin.call("GET", "/v1/configs")
    assert "query.workspace_id: is required" in error_of(refused, 400, "AB01")


def test_a_rotated_key_refuses_its_old_value_and_takes_the_new_one(api):
    made = _make(api)
    rotated = api.call("POST", f"/v1/api-keys/{made['id']}/rotate")
    assert rotated.status_code == 200, rotated.json
    new = rotated.json["key"]
    assert rotated.json["id"] == made["id"] and new != made["key"] and new.startswith(ISSUED_PREFIX)

    _refused(api.as_key(made["key"]).call("GET", "/v1/configs"))
    assert api.as_key(new).call("GET", "/v1/configs").status_code == 200
    shown = api.call("GET", f"/v1/api-keys/{made['id']}").json["key"]
    assert shown.endswith(new[-3:]) and new not in shown


def test_a_deleted_key_is_refused(api):
    made = _make(api)
    assert api.as_key(made["key"]).call("GET", "/v1/configs").status_code == 200
    assert api.call("DELETE", f"/v1/api-keys/{made['id']}").status_code == 200
    _refused(api.as_key(made["key"]).call("GET", "/v1/configs"))


def test_a_key_past_its_expiry_is_refused(api):
    made = _make(api, expires_at="2030-01-01T00:00:00Z")
    assert api.as_key(made["key"]).call("GET", "/v1/configs").status_code == 200
    api.call("PUT", f"/v1/api-keys/{made['id']}", json={"expires_at": "2020-01-01T00:00:00Z"})
    _refused(api.as_key(made["key"]).call("GET", "/v1/configs"))


def test_an_update_of_its_scopes_changes_what_a_key_may_do(api):
    made = _make(api)
    key = api.as_key(made["key"])
    assert key.call("GET", "/v1/configs").status_code == 200
    changed = api.call("PUT", f"/v1/api-keys/{made['id']}", json={"scopes": ["virtual_keys.list"]})
    assert changed.status_code == 200 and changed.json == {}
    assert error_of(key.call("GET", "/v1/configs"), 403, "AB03")
    assert key.call("GET", "/v1/virtual-keys").status_code == 200


def test_the_value_is_shown_once_and_never_kept(api):
    made = _make(api, "workspace/user", user_id="u-1")
    retrieved = api.call("GET", f"/v1/api-keys/{made['id']}").json
    listed = api.call("GET", "/v1/api-keys").json["data"]
    for shown in (retrieved, *listed):
        assert made["key"] not in str(shown) and "key_sha256" not in shown and "slug" not in shown
    assert retrieved["type"] == "workspace-user" and retrieved["user_id"] == "u-1"
    assert retrieved["workspace_id"] == "ws-team" and retrieved["status"] == "active"
    assert made["key"] not in str(api.client.get("/__mock/journal").json)


def test_a_made_up_value_in_the_issued_form_is_refused_and_any_other_key_still_works(api):
    _refused(api.as_key(ISSUED_PREFIX + "never-issued").call("GET", "/v1/configs"))
    assert api.as_key("pk-anything").call("GET", "/v1/configs").status_code == 200


@pytest.mark.parametrize(
    ("kind", "body", "status", "said"),
    [
        (
            "workspace/service",
            {"workspace_id": None},
            400,
            "body.workspace_id: is required for a workspace API key",
        ),
        ("workspace/user", {}, 400, "body.user_id: is required for a user API key"),
        ("organisation/user", {}, 400, "path.sub-type: must be service for an organisation key"),
        ("workspace/service", {"scopes": ["keys.everything"]}, 400, "body.scopes[0]: must be one of"),
        ("workspace/admin", {}, 400, "path.sub-type: must be one of: user, service"),
    ],
)
def test_what_portkey_refuses_on_create(api, kind, body, status, said):
    sent = {"name": "refused", "scopes": ["configs.list"], "workspace_id": "ws-team", **body}
    sent = {name: value for name, value in sent.items() if value is not None}
    response = api.call("POST", f"/v1/api-keys/{kind}", json=sent)
    assert said in error_of(response, status, "AB01")
    assert api.call("GET", "/v1/api-keys").json["total"] == 0


def test_a_workspace_key_stays_in_its_workspace(api):
    scopes = ["workspace_service_api_keys.create", "workspace_service_api_keys.list"]
    scopes += ["organisation_service_api_keys.create", "workspace_service_api_keys.read"]
    team = api.as_key(_make(api, scopes=scopes)["key"])
    other = _make(api, workspace_id="ws-other")

    made = team.call(
        "POST", "/v1/api-keys/workspace/service", json={"name": "mine", "scopes": ["configs.list"]}
    )
    assert (
        made.status_code == 200
        and api.call("GET", f"/v1/api-keys/{made.json['id']}").json["workspace_id"] == "ws-team"
    )
    elsewhere = {"name": "theirs", "scopes": ["configs.list"], "workspace_id": "ws-other"}
    assert error_of(team.call("POST", "/v1/api-keys/workspace/service", json=elsewhere), 403, "AB03")
    upward = team.call("POST", "/v1/api-keys/organisation/service", json={"name": "up", "scopes": []})
    assert "cannot create organisation API keys" in error_of(upward, 403, "AB03")
    assert error_of(team.call("GET", f"/v1/api-keys/{other['id']}"), 404, "AB08")
    assert {key["workspace_id"] for key in team.call("GET", "/v1/api-keys").json["data"]} == {"ws-team"}
    assert api.call("GET", "/v1/api-keys").json["total"] == 3


def test_issued_keys_work_beside_a_keys_file_and_its_keys_need_no_lookup(request, store_kind, tmp_path: Path):
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump({"api_keys": [{"key": "pk-admin", "scopes": sorted(CONTRACT.scopes)}]}))
    app = create_app(store_config(request, store_kind, keys_path=keys))
    try:
        admin = Api(app.test_client(), "pk-admin")
        made = _make(admin)
        assert admin.as_key(made["key"]).call("POST", "/v1/configs", json=CONFIG).status_code == 200
        assert admin.call("GET", "/v1/configs?workspace_id=ws-team").json["total"] == 1
        _refused(admin.as_key("pk-not-in-the-file").call("GET", "/v1/configs"))
        admin.call("DELETE", f"/v1/api-keys/{made['id']}")
        _refused(admin.as_key(made["key"]).call("GET", "/v1/configs"))
    finally:
        reset(app)


def test_a_fixed_or_any_key_is_never_looked_up_among_the_issued():
    def no_lookup(api_key: str) -> None:
        raise AssertionError(f"looked up {api_key}")

    for policy in (AccessPolicy("x-portkey-api-key"), _file_policy()):
        policy.issued = no_lookup
        assert policy.principal_of("pk-admin").api_key == "pk-admin"


def _file_policy() -> AccessPolicy:
    from mockserver.access import Principal

    admin = Principal("org", None, frozenset(), may_choose_workspace=True, api_key="pk-admin")
    return AccessPolicy("x-portkey-api-key", {"pk-admin": admin})


def test_two_processes_on_one_redis_agree_on_issued_keys(request):
    config = store_config(request, "redis")
    one, two = Api(create_app(config).test_client()), Api(create_app(config).test_client())
    try:
        made = _make(one)
        assert two.as_key(made["key"]).call("GET", "/v1/configs").status_code == 200
        new = two.call("POST", f"/v1/api-keys/{made['id']}/rotate").json["key"]
        _refused(one.as_key(made["key"]).call("GET", "/v1/configs"))
        assert one.as_key(new).call("GET", "/v1/configs").status_code == 200
        two.call("DELETE", f"/v1/api-keys/{made['id']}")
        _refused(one.as_key(new).call("GET", "/v1/configs"))
    finally:
        reset(create_app(config))


def test_every_scope_an_operation_needs_can_be_given_to_a_key():
    given = set(CONTRACT.document["components"]["schemas"]["ApiKeyScope"]["enum"])
    assert CONTRACT.scopes <= given, sorted(CONTRACT.scopes - given)


def test_a_user_key_without_its_user_is_a_violation_of_the_contract_in_the_journal(api):
    response = api.call(
        "POST", "/v1/api-keys/workspace/user", json={"name": "u", "scopes": [], "workspace_id": "w"}
    )
    assert error_of(response, 400, "AB01") == "body.user_id: is required for a user API key"
    [entry] = api.client.get("/__mock/journal").json["entries"]
    assert entry["violations"] == [{"location": "body.user_id", "rule": "is required for a user API key"}]
