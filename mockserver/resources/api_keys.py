"""Portkey API keys: what the resource engine cannot say about them, and the keys as callers.

The engine serves their CRUD from the contract (`x-portkey-resource` on `/api-keys`). This module
adds what is particular: a create makes a key value, shown once, and checks the key's type against
its workspace and user; `rotate` replaces the value; and a key made this way is a working API key
of the mock, with its scopes and workspace (`principal_of`, asked by `access.AccessPolicy`).

A value is never stored: the key record keeps its masked form and its SHA-256, and a lookup record
(`api-key.values`, by that hash) points at the key record. A caller presenting a value is found
through both; a rotated-away value still points at its key, whose hash no longer matches, and a
deleted key's value points at nothing. So rotate is one write and delete the engine's own.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mockserver.access import ISSUED_PREFIX, Principal, Workspace
from mockserver.contract.date_times import timestamp
from mockserver.contract.secrets import mask_secret
from mockserver.errors import ApiError, Forbidden, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.engine import WRITE_ATTEMPTS, DeclaredResource
from mockserver.state.records.base import Insert, Record, Store, Update
from mockserver.state.trip import RIDER
from mockserver.violations import Violation

API_KEY = "api-key"
"""The declared resource's name (`x-portkey-resource` on `/api-keys`)."""
ROTATE = "rotateApiKey"
VALUES = "api-key.values"
"""The namespace of the lookup records, one per value ever issued, kept by the value's hash."""
HASHED = "key_sha256"
"""The key record's private field: the hash of its current value."""


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ApiKeys:
    """Creates' particulars (`made`), `rotate`, and the issued keys as callers (`principal_of`)."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self, store: Store, rotate_operation: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.rotate_operation = rotate_operation
        self.clock = clock
        self.engine: DeclaredResource | None = None
        """The engine's API-key resource, set once the app has built it (rotate finds keys through it)."""

    def handlers(self) -> dict[str, Handler]:
        return {self.rotate_operation: self._rotate}

    def made(self, call: Call, record: Record) -> tuple[list[Insert], Record]:
        """A new key: its type checked against the caller and workspace (the contract checks it
        against the user: `x-portkey-requires-when`); its value made."""
        kind, sub_kind = call.request.path_params["type"], call.request.path_params["sub-type"]
        if kind == "organisation" and not call.principal.may_choose_workspace:
            raise Forbidden("A workspace API key cannot create organisation API keys")
        if kind == "workspace" and call.workspace is None:
            rule = "is required for a workspace API key"
            raise ValidationFailed([Violation("body.workspace_id", rule)])
        record.pop("sub-type", None)  # the SDKs repeat the path in the body; the path decides
        if sub_kind == "service":
            record.pop("user_id", None)
        workspace = call.workspace if kind == "workspace" else None
        value = _new_value()
        record |= {
            "type": f"{kind}-{sub_kind}",
            "workspace_id": workspace.workspace_id if workspace else None,
            "key": mask_secret(value),
            HASHED: hashed(value),
        }
        return [self._pointer(value, record)], {"key": value, "object": API_KEY}

    def taken(self, index: int) -> ApiError:
        """A new value whose pointer is taken: two random values alike, which does not happen."""
        return ApiError("A new key's value was already in use; retry", 503, headers={"Retry-After": "1"})

    def _rotate(self, call: Call) -> Any:
        """A new value for the key; the old one is refused from now on (no transition period)."""
        assert self.engine is not None
        for _ in range(WRITE_ATTEMPTS):
            record, text, namespace = self.engine.find_for(call)
            value = _new_value()
            now = timestamp(self.clock())
            changes = {"key": mask_secret(value), HASHED: hashed(value), "last_updated_at": now}
            conflict = self.store.write(
                Update(namespace, record["slug"], text, changes), [self._pointer(value, record)]
            )
            if conflict is None:
                return {"id": record["id"], "key": value, "key_transition_expires_at": now}
        raise ApiError("The key kept changing under this request; retry", 503, headers={"Retry-After": "1"})

    def principal_of(self, api_key: str) -> Principal | None:
        """The caller an issued value names, or None: never issued, rotated away, deleted or expired.

        Two reads outside the request's ride to Redis: the request's own store call keeps its
        plan check and journal entry (mockserver/state/trip.py)."""
        token = RIDER.set(None)
        try:
            digest = hashed(api_key)
            pointer = self.store.get(VALUES, digest)
            if pointer is None:
                return None
            text = self.store.get_text(f"{API_KEY}/{pointer['organisation_id']}", pointer["id"])
        finally:
            RIDER.reset(token)
        record = json.loads(text) if text is not None else None
        if record is None or record.get(HASHED) != digest:
            return None
        expires = record.get("expires_at")  # kept in one form, so the text orders as the time
        if expires is not None and expires <= timestamp(self.clock()):
            return None
        organisation, workspace_id = record["organisation_id"], record.get("workspace_id")
        workspace = Workspace(organisation, workspace_id, workspace_id) if workspace_id else None
        scopes = frozenset(record.get("scopes") or ())
        return Principal(
            organisation, workspace, scopes, may_choose_workspace=workspace is None, api_key=api_key
        )

    def _pointer(self, value: str, record: Record) -> Insert:
        pointer = {"slug": hashed(value), "id": record["id"], "organisation_id": record["organisation_id"]}
        return Insert(self.store, VALUES, pointer)


def _new_value() -> str:
    return ISSUED_PREFIX + secrets.token_urlsafe(24)
