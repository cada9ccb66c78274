"""Providers: a workspace's handle on an integration, and the same records as virtual keys.

Portkey migrated virtual keys into providers keeping their slugs, and its Terraform provider calls
`/providers` an alias of `/virtual-keys`: so the engine serves `/providers` from the virtual-key
store (`records: keys` on both markers). This module adds what is particular: a create names an
integration enabled for the workspace, which gives the key its provider and secret, an update
changes only what a provider's body may, and the answers are the virtual key's with the workspace
and `object: provider`.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver import responses
from mockserver.resources import Call
from mockserver.resources.engine import DeclaredResource
from mockserver.resources.integrations import Integrations
from mockserver.resources.virtual_keys import VirtualKeys, key_record, only_changing
from mockserver.state.records.base import Record

PROVIDER = "provider"
"""The declared resource's name (`x-portkey-resource` on `/providers`)."""
UPDATABLE = ("name", "note", "usage_limits", "rate_limits", "expires_at")


class Providers:
    """The `/providers` view of the virtual-key records, checked against the integrations."""

    def __init__(self, engine: DeclaredResource, keys: VirtualKeys, integrations: Integrations) -> None:
        self.keys = keys
        self.integrations = integrations
        engine.creating.append(self._made)
        engine.updating.append(self._changed)
        engine.shown = self

    def retrieved(self, text: bytes) -> Any:
        record = json.loads(text)
        return responses.provider_retrieved(record, self.keys.status(record))

    def page(self, total: int, texts: list[bytes]) -> Any:
        def listed(text: bytes) -> Any:
            record = json.loads(text)
            return responses.provider_listed(record, self.keys.status(record))

        return responses.page(total, responses.each_readable(texts, listed))

    def _made(self, call: Call, record: Record) -> None:
        """A provider on an integration enabled for the workspace: its provider and masked secret."""
        workspace = call.in_workspace
        integration = self.integrations.enabled_for(workspace, record["integration_id"])
        record |= {
            "provider": integration["ai_provider_id"],
            "masked_api_key": integration["masked_key"],
            "integration_id": integration["slug"],
        }
        key_record(record, workspace)

    def _changed(self, call: Call, record: Record, changes: Record) -> None:
        only_changing(changes, UPDATABLE)
