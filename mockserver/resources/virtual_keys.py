"""The virtual-key resource: slugs, masking, and each operation on validated requests.

Knows nothing of HTTP; the contract's rules, schema and prose, were checked before a request gets
here. Secrets are masked before anything is stored, so a raw provider secret never reaches the
store, a response or a log.
"""

from __future__ import annotations

import os
import random
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from mockserver import responses
from mockserver.access import Workspace
from mockserver.contract import date_times
from mockserver.contract.date_times import timestamp
from mockserver.contract.secrets import HEADER_VALUE_FIELDS, mask_secret, masked_header_values
from mockserver.errors import ApiError, NotFound, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.state.records.base import Record, Store
from mockserver.violations import Violation

TOP_LEVEL_FIELDS = frozenset(
    {
        "name",
        "provider",
        "key",
        "note",
        "workspace_id",
        "usage_limits",
        "rate_limits",
        "expires_at",
        "secret_mappings",
    }
)
"""Create fields kept on the key itself; every other create field is provider config (`model_config`)."""

UPDATABLE_FIELDS = ("name", "note", "usage_limits", "rate_limits", "expires_at", "secret_mappings")
_SLUG_BASE_LENGTH = 15


def slug_for(
    name: str, suffix: str | None = None, *, prefix: str = "", length: int = _SLUG_BASE_LENGTH
) -> str:
    """Portkey's slug: `prefix`, the name lower-cased, non-alphanumeric runs as `-`, `length`
    characters (15 for a virtual key), a hex tag."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower())[:length].rstrip("-") or "vk"
    return f"{prefix}{base}-{suffix or f'{_random.getrandbits(24):06x}'}"


def kept_rate_limits(value: Any) -> list[Any]:
    """`rate_limits` as a key or provider keeps and answers them: an array. One rate-limit object
    sent (the contract's `SentRateLimits` takes it with a warning) is kept as a one-item array, and
    none as an empty one: the rule for every operation that writes these records."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def new_id() -> str:
    """A random UUID (version 4) for a new record."""
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


_random = random.Random()
"""Where slugs and ids come from. Not `os.urandom`: it lets go of the GIL for its system call, and
with eight serving threads waiting to get it back that cost a create a quarter of its throughput
(docs/performance.md); an id must be unique, not unguessable. Not the shared `random` either: a
test that seeds it (hypothesis does) would make the mock repeat slugs. Seeded from the OS here and
again in every forked worker."""
os.register_at_fork(after_in_child=_random.seed)


def _now() -> datetime:
    return datetime.now(UTC)


class VirtualKeys:
    """The operations on virtual keys of one store, with the service's rules."""

    def __init__(
        self,
        store: Store,
        secret_fields: Iterable[str],
        not_found_status: int = 404,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.secret_fields = frozenset(secret_fields) - {"key"}
        self.not_found_status = not_found_status
        self.clock = clock
        self.ready = responses.ReadyAnswers(self.status)
        """Retrieve answers and list items as bytes, made once per stored version of a key."""

    def handlers(self) -> dict[str, Handler]:
        """The `/virtual-keys` operations this resource serves (see `mockserver.resources`)."""
        return {
            "listVirtualKeys": self._list,
            "createVirtualKey": self._create,
            "retrieveVirtualKey": self._retrieve,
            "updateVirtualKey": self._update,
            "deleteVirtualKey": self._delete,
        }

    riding = frozenset({"retrieveVirtualKey", "listVirtualKeys", "createVirtualKey"})
    """Operations whose store call is one riding script (mockserver/state/trip.py); update and delete
    read before they write, so they read the plan and append the journal entry on their own."""

    def _list(self, call: Call) -> Any:
        query = call.request.query
        page, size = query.get("current_page", 0), query.get("page_size", 50)
        return self.ready.page(*self.page_text(call.in_workspace, page, size))

    def _retrieve(self, call: Call) -> Any:
        return self.ready.retrieved(self.retrieve_text(call.in_workspace, call.slug))

    def _create(self, call: Call) -> Any:
        fields = {name: value for name, value in call.body.items() if name != "workspace_id"}
        return responses.created(self.create(call.in_workspace, fields)["slug"])

    def _update(self, call: Call) -> Any:
        self.update(call.in_workspace, call.slug, call.body)
        return {}

    def _delete(self, call: Call) -> Any:
        self.delete(call.in_workspace, call.slug)
        return {}

    def create(self, workspace: Workspace, fields: dict[str, Any], slug: str | None = None) -> Record:
        """Store a new key from validated create `fields`; `slug` fixes the slug (seeding)."""
        record = self.new_record(
            workspace,
            name=fields["name"],
            provider=fields["provider"],
            note=fields.get("note"),
            masked_api_key=mask_secret(fields["key"]) if fields.get("key") else None,
            model_config=self._provider_config(fields),
            usage_limits=fields.get("usage_limits"),
            rate_limits=fields.get("rate_limits"),
            secret_mappings=fields.get("secret_mappings") or [],
            expires_at=fields.get("expires_at"),
        )
        return self.insert(workspace, record, slug)

    def new_record(self, workspace: Workspace, **fields: Any) -> Record:
        """A key record in `workspace` (no slug yet); `fields` set the rest, e.g. a provider's
        `integration_id`."""
        record: Record = {
            "id": new_id(),
            "organisation_id": workspace.organisation_id,
            "workspace_id": workspace.workspace_id,
            "workspace_name": workspace.workspace_name,
            "note": None,
            "masked_api_key": None,
            "model_config": {},
            "usage_limits": None,
            "rate_limits": [],
            "secret_mappings": [],
            "expires_at": None,
            "created_at": timestamp(self.clock()),
            "last_reset_at": None,
            "integration_id": None,
        }
        record.update(fields)
        record["rate_limits"] = kept_rate_limits(record["rate_limits"])
        return record

    def insert(
        self,
        workspace: Workspace,
        record: Record,
        slug: str | None = None,
        where: str = "body.slug",
        taken_status: int = 400,
    ) -> Record:
        """Store `record` under `slug`, or under a fresh slug from its name; `taken_status` (400, or
        409 where a client chose the slug) if `slug` is taken."""
        for _ in range(8):
            record["slug"] = slug or slug_for(record["name"])
            if self.store.insert(workspace.namespace, record):
                return record
            if slug:
                break
        if taken_status != 400:
            raise ApiError.for_status(f"{where}: is already taken in this workspace", taken_status)
        raise ValidationFailed([Violation(where, "is already taken in this workspace")])

    def retrieve(self, workspace: Workspace, slug: str) -> Record:
        record = self.store.get(workspace.namespace, slug)
        if record is None:
            raise self._not_found(slug)
        return record

    def retrieve_text(self, workspace: Workspace, slug: str) -> bytes:
        """`retrieve`, the record as its stored JSON text (for answers made ready from it)."""
        text = self.store.get_text(workspace.namespace, slug)
        if text is None:
            raise self._not_found(slug)
        return text

    def find(self, workspace: Workspace, ref: str) -> Record:
        """A record by slug, or by id (`/providers/{id}` works live): ids are scanned, slugs looked up."""
        record = self.store.get(workspace.namespace, ref)
        if record is None and _looks_like_uuid(ref):
            _, records = self.store.page(workspace.namespace, 0, 2**31)
            record = next((r for r in records if r["id"] == ref), None)
        if record is None:
            raise self._not_found(ref)
        return record

    def page(self, workspace: Workspace, current_page: int, page_size: int) -> tuple[int, list[Record]]:
        return self.store.page(workspace.namespace, current_page * page_size, page_size)

    def page_text(self, workspace: Workspace, current_page: int, page_size: int) -> tuple[int, list[bytes]]:
        return self.store.page_text(workspace.namespace, current_page * page_size, page_size)

    def update(self, workspace: Workspace, slug: str, fields: dict[str, Any]) -> Record:
        """Apply a partial update; on any error nothing changes."""
        current = self.retrieve(workspace, slug)
        changes = {name: fields[name] for name in UPDATABLE_FIELDS if name in fields}
        if "rate_limits" in changes:
            changes["rate_limits"] = kept_rate_limits(changes["rate_limits"])
        if "key" in fields:
            changes["masked_api_key"] = mask_secret(fields["key"]) if fields["key"] else None
        if "deploymentConfig" in fields:
            changes["model_config"] = {
                **current["model_config"],
                "deploymentConfig": fields["deploymentConfig"],
            }
        updated = self.store.update(workspace.namespace, current["slug"], changes)
        if updated is None:
            raise self._not_found(slug)
        return updated

    def delete(self, workspace: Workspace, slug: str) -> None:
        if not self.store.delete(workspace.namespace, slug):
            raise self._not_found(slug)

    def status(self, record: Record) -> str:
        """`expired` once `expires_at` has passed, else `active` (the mock meters no usage); a
        `ValueError` if `expires_at` cannot be read (the lists leave such a record out)."""
        expires = record.get("expires_at")
        if not expires:
            return "active"
        moment = date_times.parse(expires)  # any RFC 3339 form: records kept before normalising
        if moment is None:
            raise ValueError("expires_at is not a date-time")
        return "expired" if moment <= self.clock() else "active"

    def _provider_config(self, fields: dict[str, Any]) -> dict[str, Any]:
        config = {}
        for name, value in fields.items():
            if name in TOP_LEVEL_FIELDS:
                continue
            if name in self.secret_fields:
                if not isinstance(value, str):
                    continue  # a secret document (service-account JSON) is not kept at all
                value = mask_secret(value)
            elif name in HEADER_VALUE_FIELDS:
                value = masked_header_values(value)
            config[name] = value
        return config

    def _not_found(self, slug: str) -> NotFound:
        shown = slug if len(slug) <= 100 else slug[:100] + "..."
        return NotFound(f"Virtual key not found: {shown}", self.not_found_status)


def _looks_like_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
