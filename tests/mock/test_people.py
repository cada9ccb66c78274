"""Workspaces, members, users and invites: the relations between them (mockserver/resources/people.py)
and accepting an invite through the control plane, on both stores. Every answer is judged against the
contract (`Api.call`); docs/admin-workspaces-and-people.md says which rules are known and which inferred.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.app import create_app
from mockserver.config import MockConfig
from tests.support.inprocess import Api

WORKSPACES = "/v1/admin/workspaces"
INVITES = "/v1/admin/users/invites"


def _workspace(api: Api, name: str = "Platform") -> dict[str, Any]:
    made = api.call("POST", WORKSPACES, json={"name": name})
    assert made.status_code == 200, made.json
    return made.json


def _invite(api: Api, email: str, workspaces: list[dict[str, str]] | None = None) -> Any:
    return api.call("POST", INVITES, json={"email": email, "role": "member", "workspaces": workspaces or []})


def _accept(api: Api, invite_id: str, **names: str) -> Any:
    return api.client.post(f"/__mock/invites/{invite_id}/accept", json=names, headers=api._headers())


def _error(response: Any) -> tuple[int, str, str]:
    return response.status_code, response.json["data"]["errorCode"], response.json["data"]["message"]


def test_accepting_an_invite_makes_the_user_and_its_memberships(api):
    workspace = _workspace(api)
    invite = _invite(api, "ada@example.com", [{"id": workspace["slug"], "role": "manager"}]).json
    assert api.call("GET", f"{INVITES}/{invite['id']}").json["status"] == "pending"

    accepted = _accept(api, invite["id"], first_name="Ada", last_name="Lovelace")
    assert accepted.status_code == 200, accepted.json
    user = accepted.json
    assert (user["email"], user["first_name"], user["role"]) == ("ada@example.com", "Ada", "member")

    assert api.call("GET", f"/v1/admin/users/{user['id']}").json["last_name"] == "Lovelace"
    now = api.call("GET", f"{INVITES}/{invite['id']}").json
    assert now["status"] == "accepted" and now["accepted_at"]
    member = api.call("GET", f"{WORKSPACES}/{workspace['id']}/users/{user['id']}").json
    assert (member["role"], member["org_role"], member["workspace_id"]) == (
        "manager",
        "member",
        workspace["id"],
    )

    again = _accept(api, invite["id"])
    assert _error(again)[:2] == (409, "AB07") and "accepted" in _error(again)[2]
    assert api.call("GET", "/v1/admin/users").json["total"] == 1


def test_an_invite_is_accepted_only_in_the_organisation_that_made_it(api):
    invite = _invite(api, "grace@example.com").json
    assert _error(_accept(api.as_key("pk-another-organisation"), invite["id"]))[:2] == (404, "AB08")
    assert api.call("GET", f"{INVITES}/{invite['id']}").json["status"] == "pending"


def test_resending_renews_a_pending_invite_and_refuses_one_accepted(api):
    invite = _invite(api, "alan@example.com").json
    before = api.call("GET", f"{INVITES}/{invite['id']}").json
    resent = api.call("POST", f"{INVITES}/{invite['id']}/resend")
    assert resent.status_code == 200 and resent.json == {"inviteLink": invite["invite_link"]}
    assert api.call("GET", f"{INVITES}/{invite['id']}").json["expires_at"] >= before["expires_at"]

    _accept(api, invite["id"])
    assert _error(api.call("POST", f"{INVITES}/{invite['id']}/resend"))[:2] == (409, "AB07")
    assert _error(api.call("POST", f"{INVITES}/not-an-invite/resend"))[:2] == (404, "AB08")


def test_an_invite_to_a_workspace_that_does_not_exist_is_refused_and_not_kept(api):
    refused = _invite(api, "edsger@example.com", [{"id": "ws-nowhere", "role": "member"}])
    assert _error(refused) == (403, "AB03", "Workspace not found: ws-nowhere")
    assert api.call("GET", INVITES).json["total"] == 0


def test_an_email_that_is_already_a_user_cannot_be_invited_again(api):
    _accept(api, _invite(api, "barbara@example.com").json["id"])
    assert _error(_invite(api, "Barbara@example.com"))[:2] == (409, "AB07")


def test_members_are_users_of_the_organisation_added_once_to_a_workspace_that_exists(api):
    workspace = _workspace(api)
    user = _accept(api, _invite(api, "tim@example.com").json["id"]).json
    members = f"{WORKSPACES}/{workspace['id']}/users"

    nobody = api.call(
        "POST",
        members,
        json={
            "users": [
                {"id": user["id"], "role": "admin"},
                {"id": "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "role": "member"},
            ]
        },
    )
    assert _error(nobody) == (404, "AB08", "User not found: 0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
    assert api.call("GET", members).json["total"] == 0  # all or nothing

    assert api.call("POST", members, json={"users": [{"id": user["id"], "role": "admin"}]}).json == {}
    twice = api.call("POST", members, json={"users": [{"id": user["id"], "role": "member"}]})
    assert _error(twice)[:2] == (409, "AB07")
    named_twice = api.call(
        "POST",
        members,
        json={"users": [{"id": user["id"], "role": "admin"}, {"id": user["id"], "role": "admin"}]},
    )
    assert (
        _error(named_twice)[:2] == (400, "AB01")
        and "body.users[1].id: names a user twice" in _error(named_twice)[2]
    )

    nowhere = api.call(
        "POST", f"{WORKSPACES}/ws-nowhere/users", json={"users": [{"id": user["id"], "role": "admin"}]}
    )
    assert _error(nowhere) == (403, "AB03", "Workspace not found: ws-nowhere")
    listed = api.call("GET", f"{WORKSPACES}/{workspace['slug']}/users").json
    assert [(m["id"], m["role"]) for m in listed["data"]] == [(user["id"], "admin")]


def test_a_deleted_workspace_answers_403_and_so_do_its_members(api):
    workspace = _workspace(api)
    user = _accept(
        api, _invite(api, "linus@example.com", [{"id": workspace["id"], "role": "member"}]).json["id"]
    ).json
    assert (
        api.call(
            "DELETE", f"{WORKSPACES}/{workspace['id']}", json={"name": "Platform", "force_delete": True}
        ).json
        == {}
    )
    assert _error(api.call("GET", f"{WORKSPACES}/{workspace['id']}"))[:2] == (403, "AB03")
    assert _error(api.call("GET", f"{WORKSPACES}/{workspace['id']}/users/{user['id']}"))[:2] == (403, "AB03")


def test_accepting_skips_a_workspace_deleted_since_the_invite(api):
    kept, gone = _workspace(api, "Kept"), _workspace(api, "Gone")
    wanted = [{"id": kept["id"], "role": "member"}, {"id": gone["id"], "role": "admin"}]
    invite = _invite(api, "margaret@example.com", wanted).json
    api.call("DELETE", f"{WORKSPACES}/{gone['id']}")
    user = _accept(api, invite["id"]).json
    assert api.call("GET", f"{WORKSPACES}/{kept['id']}/users/{user['id']}").status_code == 200


def test_workspaces_and_users_are_the_organisations_whatever_workspace_a_call_names(api):
    workspace = _workspace(api)
    listed = api.call("GET", WORKSPACES, json=None, query_string={"workspace_id": "elsewhere"})
    assert [w["id"] for w in listed.json["data"]] == [workspace["id"]]
    assert api.as_key("pk-another-organisation").call("GET", WORKSPACES).json["total"] == 0


def test_accept_without_an_api_key_is_refused(api):
    invite = _invite(api, "ken@example.com").json
    response = api.client.post(f"/__mock/invites/{invite['id']}/accept")
    assert response.status_code == 401


def test_lists_filter_by_the_fields_their_markers_name_and_page_what_matches(api):
    workspace = _workspace(api)
    users = [_accept(api, _invite(api, f"u{i}@example.com").json["id"]).json for i in range(3)]
    _invite(api, "pending@example.com")
    members = f"{WORKSPACES}/{workspace['id']}/users"
    roles = ["admin", "member", "admin"]
    api.call(
        "POST",
        members,
        json={"users": [{"id": u["id"], "role": r} for u, r in zip(users, roles, strict=True)]},
    )

    by_email = api.call("GET", "/v1/admin/users", query_string={"email": "u1@example.com"}).json
    assert (by_email["total"], [u["id"] for u in by_email["data"]]) == (1, [users[1]["id"]])
    pending = api.call("GET", INVITES, query_string={"status": "pending"}).json
    assert [i["email"] for i in pending["data"]] == ["pending@example.com"]
    admins = api.call("GET", members, query_string={"role": "admin", "page_size": 1, "current_page": 1}).json
    assert admins["total"] == 2 and [m["id"] for m in admins["data"]] == [users[0]["id"]]


def test_an_invite_needs_an_email_address(api):
    refused = api.call("POST", INVITES, json={"email": "not an address", "role": "member"})
    assert _error(refused)[:2] == (400, "AB01") and "body.email" in _error(refused)[2]


def test_a_user_removed_from_the_organisation_leaves_every_workspace(api):
    first, second = _workspace(api, "First"), _workspace(api, "Second")
    wanted = [{"id": first["id"], "role": "member"}, {"id": second["id"], "role": "admin"}]
    user = _accept(api, _invite(api, "leaving@example.com", wanted).json["id"]).json
    stays = _accept(api, _invite(api, "staying@example.com", wanted).json["id"]).json

    assert api.call("DELETE", f"/v1/admin/users/{user['id']}").json == {}
    for workspace in (first, second):
        members = api.call("GET", f"{WORKSPACES}/{workspace['id']}/users").json
        assert [m["id"] for m in members["data"]] == [stays["id"]]
        gone = api.call("GET", f"{WORKSPACES}/{workspace['id']}/users/{user['id']}")
        assert _error(gone)[:2] == (404, "AB08")


ODD = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["", "admin", "ws-x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "role", "email"]), inner)
    ),
    max_leaves=8,
)
FIELDS = ["name", "description", "defaults", "email", "role", "workspaces", "users", "user_id", "icon"]


def test_any_body_is_answered_in_portkeys_envelope_never_a_500(api):
    workspace = _workspace(api)
    user = _accept(api, _invite(api, "odd@example.com").json["id"]).json
    members = f"{WORKSPACES}/{workspace['id']}/users"
    targets = [
        ("POST", WORKSPACES),
        ("PUT", f"{WORKSPACES}/{workspace['id']}"),
        ("POST", INVITES),
        ("POST", members),
        ("PUT", f"{members}/{user['id']}"),
        ("PUT", f"/v1/admin/users/{user['id']}"),
    ]

    @given(st.sampled_from(targets), st.dictionaries(st.sampled_from(FIELDS), ODD, max_size=4))
    def answered(target, body):
        response = api.call(*target, json=body)
        assert response.status_code < 500, response.json
        if response.status_code >= 400:
            assert response.json["success"] is False and response.json["data"]["errorCode"].startswith("AB")

    answered()


def test_a_workspace_api_key_reaches_none_of_them(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text('{"api_keys": [{"key": "pk-admin"}, {"key": "pk-workspace", "workspace_id": "ws-1"}]}')
    client = create_app(MockConfig(keys_path=keys)).test_client()
    admin, bound = Api(client, "pk-admin"), Api(client, "pk-workspace")
    workspace = _workspace(admin)
    invite = _invite(admin, "ws-key@example.com").json
    for method, path in [
        ("GET", WORKSPACES),
        ("POST", WORKSPACES),
        ("GET", f"{WORKSPACES}/{workspace['id']}"),
        ("GET", f"{WORKSPACES}/{workspace['id']}/users"),
        ("POST", f"{WORKSPACES}/{workspace['id']}/users"),
        ("GET", "/v1/admin/users"),
        ("GET", INVITES),
        ("POST", f"{INVITES}/{invite['id']}/resend"),
    ]:
        body = {"name": "x"} if path == WORKSPACES else {"users": [{"id": invite["id"], "role": "member"}]}
        refused = bound.call(method, path, json=body if method == "POST" else None)
        assert _error(refused)[:2] == (403, "AB03"), (method, path)
