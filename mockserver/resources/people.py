"""Workspaces, their members, users and invites: what their markers cannot say.

The engine serves their CRUD from `openapi.yaml`; this module adds the relations between them
(docs/admin-workspaces-and-people.md): an invite names workspaces that exist and an email that is
not yet a user's; members are added in one write, each a user of the organisation, none twice;
resending renews a pending invite; accepting one (a control-plane call, since a person accepts in a
browser) makes the user and its memberships and marks the invite accepted, all in one write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.contract.date_times import timestamp
from mockserver.errors import ApiError, NotFound, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.engine import DeclaredResource, acting_user
from mockserver.resources.ids import new_id
from mockserver.responses import each_readable
from mockserver.state.records.base import Insert, Record, Update
from mockserver.violations import Violation

NAMES = ("workspace", "workspace-user", "user", "invite")
"""The declared resources this module joins, by their markers' names."""
INVITE_LIFE = timedelta(days=7)
"""How long an invite stays open after it is sent or resent (inferred: not documented)."""
INVITE_LINK = "https://app.portkey.ai/invite/{id}"


class People:
    """The operations no marker promises (adding members, resending an invite) and accepting one."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self,
        resources: Mapping[str, DeclaredResource],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.workspaces, self.members, self.users, self.invites = (resources[name] for name in NAMES)
        self.store = self.users.store
        self.clock = clock
        self.invites.creating.append(self._new_invite)
        self.users.deleted.append(self._user_deleted)

    @classmethod
    def joining(cls, resources: Iterable[DeclaredResource]) -> People | None:
        """The module over the contract's declared resources; None if it declares not all four."""
        by_name = {resource.declaration.name: resource for resource in resources}
        return cls(by_name) if set(NAMES) <= set(by_name) else None

    def handlers(self) -> dict[str, Handler]:
        return {"addWorkspaceMembers": self._add_members, "resendInvite": self._resend}

    # -- invites

    def _new_invite(self, call: Call, invite: Record) -> None:
        organisation = call.principal.organisation_id
        for workspace in invite.setdefault("workspaces", []):
            self.workspaces.find(self.workspaces.namespace_in(organisation), workspace["id"])
        self._refuse_member_email(organisation, invite["email"])
        invite |= {"status": "pending", "invited_by": acting_user(call), "expires_at": self._expiry()}
        invite["invite_link"] = INVITE_LINK.format(id=invite["id"])

    def _resend(self, call: Call) -> Any:
        namespace = self.invites.namespace(call)
        invite, text = self.invites.find(namespace, call.request.path_params["inviteId"])
        _pending(invite)
        if self.store.write(Update(namespace, invite["slug"], text, {"expires_at": self._expiry()})):
            raise ApiError.for_status("The invite changed under this request; retry", 409)
        return {"inviteLink": invite["invite_link"]}

    def accept(self, organisation: str, invite_id: str, names: Mapping[str, str]) -> Record:
        """Accept a pending invite as the person invited would: the new user, made with its
        memberships of the invite's workspaces that still exist, the invite then accepted."""
        namespace = self.invites.namespace_in(organisation)
        invite, text = self.invites.find(namespace, invite_id)
        _pending(invite)
        self._refuse_member_email(organisation, invite["email"])
        now = timestamp(self.clock())
        local = invite["email"].split("@")[0]
        user = {"id": new_id(), "organisation_id": organisation, "email": invite["email"]}
        user |= {"first_name": names.get("first_name", local), "last_name": names.get("last_name", "")}
        user |= {"role": invite["role"], "created_at": now, "last_updated_at": now}
        user["slug"] = user["id"]
        made = [Insert(self.store, self.users.namespace_in(organisation), user)]
        for wanted in invite["workspaces"]:
            try:
                workspace = self.workspaces.find(self.workspaces.namespace_in(organisation), wanted["id"])[0]
            except NotFound:
                continue  # deleted since the invite was sent
            member = _member(user, workspace["id"], wanted["role"], now)
            made.append(Insert(self.store, self.members.namespace_in(organisation, workspace["id"]), member))
        accepted = Update(namespace, invite["slug"], text, {"status": "accepted", "accepted_at": now})
        if self.store.write(accepted, made) is not None:
            raise ApiError.for_status("The invite changed under this request; retry", 409)
        return {k: v for k, v in user.items() if k != "slug"}

    def _expiry(self) -> str:
        return timestamp(self.clock() + INVITE_LIFE)

    def _refuse_member_email(self, organisation: str, email: str) -> None:
        _, texts = self.store.page_text(self.users.namespace_in(organisation), 0, 2**31)
        if any(user.get("email", "").lower() == email.lower() for user in each_readable(texts, json.loads)):
            raise ApiError.for_status(f"A user with the email {email} is already in the organisation", 409)

    # -- members

    def _user_deleted(self, call: Call, user: Record) -> None:
        """A user removed from the organisation leaves every workspace (each removal its own store
        call, after the user's)."""
        organisation = call.principal.organisation_id
        _, texts = self.store.page_text(self.workspaces.namespace_in(organisation), 0, 2**31)
        for workspace in each_readable(texts, json.loads):
            self.store.delete(self.members.namespace_in(organisation, workspace["id"]), user["id"])

    def _add_members(self, call: Call) -> Any:
        organisation = call.principal.organisation_id
        ref = call.request.path_params["workspaceId"]
        workspace = self.workspaces.find(self.workspaces.namespace(call), ref)[0]  # an organisation key's
        namespace = self.members.namespace_in(organisation, workspace["id"])
        wanted = call.body["users"]
        ids = [entry["id"] for entry in wanted]
        twice = [i for i, user_id in enumerate(ids) if user_id in ids[:i]]
        if twice:
            raise ValidationFailed([Violation(f"body.users[{i}].id", "names a user twice") for i in twice])
        now = timestamp(self.clock())
        made = []
        for entry in wanted:
            user = self.users.find(self.users.namespace_in(organisation), entry["id"])[0]
            if self.store.get_text(namespace, user["id"]) is not None:
                # Checked here: the store takes a record with the same id again as a write sent twice.
                raise ApiError.for_status(f"User {user['id']} is already a member of this workspace", 409)
            made.append(Insert(self.store, namespace, _member(user, workspace["id"], entry["role"], now)))
        if self.store.write(None, made) is not None:
            raise ApiError.for_status("The workspace's members changed under this request; retry", 409)
        return {}


def _pending(invite: Record) -> None:
    if invite["status"] != "pending":
        raise ApiError.for_status(f"The invite is {invite['status']}; only a pending invite can be used", 409)


def _member(user: Record, workspace_id: str, role: str, now: str) -> Record:
    """A membership as answers show it, kept under the user's id."""
    member: Record = {k: user[k] for k in ("id", "organisation_id", "first_name", "last_name", "email")}
    member |= {"slug": user["id"], "org_role": user["role"], "role": role, "status": "active"}
    return member | {"workspace_id": workspace_id, "created_at": now, "last_updated_at": now}
