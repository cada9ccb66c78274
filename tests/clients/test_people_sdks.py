"""Portkey's Python SDK (sync and async) drives workspaces, their members, users and invites through
their whole lives against the `portkey_mock` fixture, the journal clean. A person accepts an invite
in a browser, so the test accepts it through the control plane (`POST /__mock/invites/{id}/accept`).

Where the SDK cannot send or read a faithful answer, a strict expected failure shows it
(docs/admin-workspaces-and-people.md, "Known client behaviours").
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from typing import Any

import httpx
import pytest
from portkey_ai import AsyncPortkey, Portkey
from portkey_ai.api_resources.exceptions import NotFoundError, PermissionDeniedError

from tests.support.clean_journal import assert_clean

pytestmark = pytest.mark.slow  # a served mock and a real client

OPERATIONS = (
    "createWorkspace",
    "getWorkspace",
    "listWorkspaces",
    "updateWorkspace",
    "deleteWorkspace",
    "createInvite",
    "getInvite",
    "listInvites",
    "resendInvite",
    "deleteInvite",
    "listUsers",
    "getUser",
    "updateUser",
    "deleteUser",
    "addWorkspaceMembers",
    "listWorkspaceMembers",
    "getWorkspaceMember",
    "updateWorkspaceMember",
    "removeWorkspaceMember",
)


def _accept(portkey_mock: Any, invite_id: str) -> dict[str, Any]:
    url = f"{portkey_mock.root_url}/__mock/invites/{invite_id}/accept"
    accepted = httpx.post(
        url, headers={"x-portkey-api-key": portkey_mock.api_key}, json={"first_name": "Ada"}
    )
    assert accepted.status_code == 200, accepted.text
    return accepted.json()


def test_the_python_sdk_drives_workspaces_members_users_and_invites_through_their_lives(portkey_mock):
    admin = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url).admin

    made = admin.workspaces.create(
        name="Platform", description="the platform team", defaults={"metadata": {"team": "p"}}
    )
    assert made.slug.startswith("ws-platform-") and made.defaults == {"metadata": {"team": "p"}}
    assert admin.workspaces.retrieve(workspace_id=made.slug).id == made.id
    assert [w.id for w in admin.workspaces.list().data] == [made.id]
    admin.workspaces.update(workspace_id=made.id, name="Platform team")
    assert admin.workspaces.retrieve(workspace_id=made.id).name == "Platform team"

    invite = admin.users.invites.create(
        email="ada@example.com", role="member", workspaces=[{"id": made.id, "role": "admin"}]
    )
    assert invite.invite_link and admin.users.invites.retrieve(invite_id=invite.id).status == "pending"
    assert admin.users.invites.resend(invite_id=invite.id).inviteLink == invite.invite_link
    assert admin.users.invites.list(status="pending").total == 1
    user = _accept(portkey_mock, invite.id)
    assert admin.users.invites.retrieve(invite_id=invite.id).status == "accepted"

    assert [u.email for u in admin.users.list(email="ada@example.com").data] == ["ada@example.com"]
    admin.users.update(user_id=user["id"], role="admin")
    assert admin.users.retrieve(user_id=user["id"]).role == "admin"

    member = admin.workspaces.users.retrieve(workspace_id=made.id, user_id=user["id"])
    assert (member.role, member.org_role) == ("admin", "member")
    admin.workspaces.users.update(workspace_id=made.id, user_id=user["id"], role="manager")
    listed = admin.workspaces.users.list(workspace_id=made.id)
    assert [(m["id"], m["role"]) for m in listed.data] == [(user["id"], "manager")]
    admin.workspaces.users.delete(workspace_id=made.id, user_id=user["id"])
    admin.workspaces.users.create(workspace_id=made.id, users=[{"id": user["id"], "role": "member"}])
    assert admin.workspaces.users.retrieve(workspace_id=made.id, user_id=user["id"]).role == "member"

    admin.users.delete(user_id=user["id"])
    with pytest.raises(NotFoundError):
        admin.users.retrieve(user_id=user["id"])
    withdrawn = admin.users.invites.create(email="bob@example.com", role="member")
    admin.users.invites.delete(invite_id=withdrawn.id)
    with pytest.raises(NotFoundError):
        admin.users.invites.retrieve(invite_id=withdrawn.id)
    admin.workspaces.delete(workspace_id=made.id, name="Platform team")
    with pytest.raises(PermissionDeniedError):  # a workspace the organisation lacks answers 403
        admin.workspaces.retrieve(workspace_id=made.id)

    assert_clean(portkey_mock, *OPERATIONS)


def test_the_async_python_sdk_drives_the_same_lives(portkey_mock):
    async def lifecycle() -> None:
        admin = AsyncPortkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url).admin
        made = await admin.workspaces.create(name="Async")
        await admin.workspaces.update(workspace_id=made.id, description="made by the async client")
        assert (
            await admin.workspaces.retrieve(workspace_id=made.id)
        ).description == "made by the async client"
        assert (await admin.workspaces.list()).total == 1

        invite = await admin.users.invites.create(email="grace@example.com", role="admin")
        assert (await admin.users.invites.retrieve(invite_id=invite.id)).role == "admin"
        assert (await admin.users.invites.list()).total == 1
        user = _accept(portkey_mock, invite.id)  # the control plane, not the SDK: a plain call is fine here

        await admin.workspaces.users.create(
            workspace_id=made.slug, users=[{"id": user["id"], "role": "admin"}]
        )
        assert (
            await admin.workspaces.users.retrieve(workspace_id=made.id, user_id=user["id"])
        ).role == "admin"
        await admin.workspaces.users.update(workspace_id=made.id, user_id=user["id"], role="member")
        assert (await admin.workspaces.users.list(workspace_id=made.id)).data[0]["role"] == "member"
        await admin.workspaces.users.delete(workspace_id=made.id, user_id=user["id"])

        assert (await admin.users.retrieve(user_id=user["id"])).email == "grace@example.com"
        await admin.users.update(user_id=user["id"], role="member")
        assert (await admin.users.list()).total == 1
        await admin.users.delete(user_id=user["id"])
        await admin.workspaces.delete(workspace_id=made.id, name="Async")
        assert (await admin.workspaces.list()).total == 0

    asyncio.run(lifecycle())
    portkey_mock.assert_all_requests_conform()
    portkey_mock.assert_all_responses_conform()


@pytest.mark.xfail(
    strict=True,
    reason="the Python SDK's workspaces.list sends pageSize and currentPage, while the published spec names "
    "page_size and current_page (as the mock reads them); which the service reads is not known",
)
def test_the_python_sdk_pages_workspaces(portkey_mock):
    admin = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url).admin
    for name in ("one", "two"):
        admin.workspaces.create(name=name)
    assert len(admin.workspaces.list(page_size=1).data) == 1


def test_the_node_sdk_drives_the_same_lives(node_sdk, portkey_mock):
    env = {
        **os.environ,
        "PORTKEY_BASE_URL": portkey_mock.base_url,
        "PORTKEY_API_KEY": portkey_mock.api_key,
        "MOCK_ROOT_URL": portkey_mock.root_url,
    }
    ran = subprocess.run(
        ["node", "people.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    seen = json.loads(ran.stdout)

    assert seen["retrievedName"] == "Node team, renamed" and seen["listedTotal"] == 1
    assert seen["inviteLink"] == seen["resentLink"] and seen["pendingStatus"] == "pending"
    assert (seen["invitesTotal"], seen["usersTotal"], seen["promotedRole"]) == (1, 1, "admin")
    assert (seen["memberRole"], seen["membersRoles"], seen["finalWorkspaces"]) == ("admin", ["manager"], 0)
    assert_clean(portkey_mock, *OPERATIONS)
    # The Node SDK sends a delete's ids in its body, snake_cased; the path decides which record goes.
    assert [set(e["body"]) for e in portkey_mock.requests("deleteUser")] == [{"user_id"}]
