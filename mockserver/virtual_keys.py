"""The virtual-key resource: slugs, masking, and each operation on validated requests.

Knows nothing of HTTP; the contract's rules, schema and prose, were checked before a request gets
here. Secrets are masked before anything is stored, so a raw provider secret never reaches the
store, a response or a log.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from mockserver.access import Workspace
from mockserver.errors import NotFound, ValidationFailed
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
MASK = "*****"
_SLUG_BASE_LENGTH = 15


def slug_for(name: str, suffix: str | None = None) -> str:
    """Portkey's slug: the name lower-cased, non-alphanumeric runs as `-`, 15 characters, a hex tag."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower())[:_SLUG_BASE_LENGTH].rstrip("-") or "vk"
    return f"{base}-{suffix or secrets.token_hex(3)}"


def mask_secret(secret: str) -> str:
    """`AIzaSy...0Pw` -> `AI*****0Pw`; a secret under 10 characters is masked whole."""
    return f"{secret[:2]}{MASK}{secret[-3:]}" if len(secret) >= 10 else MASK


def timestamp(moment: datetime) -> str:
    """Portkey's timestamp form: milliseconds and `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


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

    def create(self, workspace: Workspace, fields: dict[str, Any], slug: str | None = None) -> Record:
        """Store a new key from validated create `fields`; `slug` fixes the slug (seeding)."""
        record = {
            "id": str(uuid.uuid4()),
            "organisation_id": workspace.organisation_id,
            "workspace_id": workspace.workspace_id,
            "workspace_name": workspace.workspace_name,
            "name": fields["name"],
            "provider": fields["provider"],
            "note": fields.get("note"),
            "masked_api_key": mask_secret(fields["key"]) if fields.get("key") else None,
            "model_config": self._provider_config(fields),
            "usage_limits": fields.get("usage_limits"),
            "rate_limits": fields.get("rate_limits") or [],
            "secret_mappings": fields.get("secret_mappings") or [],
            "expires_at": fields.get("expires_at"),
            "created_at": timestamp(self.clock()),
            "last_reset_at": None,
        }
        for _ in range(8):
            record["slug"] = slug or slug_for(fields["name"])
            if self.store.insert(workspace.namespace, record):
                return record
            if slug:
                break
        raise ValidationFailed([Violation("body.slug", "is already taken in this workspace")])

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

    def page(self, workspace: Workspace, current_page: int, page_size: int) -> tuple[int, list[Record]]:
        return self.store.page(workspace.namespace, current_page * page_size, page_size)

    def page_text(self, workspace: Workspace, current_page: int, page_size: int) -> tuple[int, list[bytes]]:
        return self.store.page_text(workspace.namespace, current_page * page_size, page_size)

    def update(self, workspace: Workspace, slug: str, fields: dict[str, Any]) -> Record:
        """Apply a partial update; on any error nothing changes."""
        current = self.retrieve(workspace, slug)
        changes = {name: fields[name] for name in UPDATABLE_FIELDS if name in fields}
        if "key" in fields:
            changes["masked_api_key"] = mask_secret(fields["key"]) if fields["key"] else None
        if "deploymentConfig" in fields:
            changes["model_config"] = {
                **current["model_config"],
                "deploymentConfig": fields["deploymentConfig"],
            }
        updated = self.store.update(workspace.namespace, slug, changes)
        if updated is None:
            raise self._not_found(slug)
        return updated

    def delete(self, workspace: Workspace, slug: str) -> None:
        if not self.store.delete(workspace.namespace, slug):
            raise self._not_found(slug)

    def status(self, record: Record) -> str:
        """`expired` once `expires_at` has passed, else `active` (the mock meters no usage)."""
        expires = record.get("expires_at")
        if expires and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= self.clock():
            return "expired"
        return "active"

    def _provider_config(self, fields: dict[str, Any]) -> dict[str, Any]:
        config = {}
        for name, value in fields.items():
            if name in TOP_LEVEL_FIELDS:
                continue
            if name in self.secret_fields:
                if not isinstance(value, str):
                    continue  # a secret document (service-account JSON) is not kept at all
                value = mask_secret(value)
            config[name] = value
        return config

    def _not_found(self, slug: str) -> NotFound:
        shown = slug if len(slug) <= 100 else slug[:100] + "..."
        return NotFound(f"Virtual key not found: {shown}", self.not_found_status)
