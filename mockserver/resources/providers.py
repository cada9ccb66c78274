"""Providers: a workspace's handle on an integration, and the same records as virtual keys.

Portkey migrated virtual keys into providers keeping their slugs, and its Terraform provider calls
`/providers` an alias of `/virtual-keys`: so this is a second view on `VirtualKeys`' store, with
its own request fields (`integration_id` instead of a provider and a secret) and its own answers.
"""

from __future__ import annotations

from typing import Any

from mockserver import responses
from mockserver.resources import Call, Handler
from mockserver.resources.integrations import Integrations
from mockserver.resources.virtual_keys import VirtualKeys

UPDATABLE = ("name", "note", "usage_limits", "rate_limits", "expires_at")


class Providers:
    """The `/providers` view of the virtual-key records, checked against the integrations."""

    riding: frozenset[str] = frozenset()  # each reads before it writes, or reads two stores

    def __init__(self, keys: VirtualKeys, integrations: Integrations) -> None:
        self.keys = keys
        self.integrations = integrations

    def handlers(self) -> dict[str, Handler]:
        return {
            "listProviders": self._list,
            "createProvider": self._create,
            "retrieveProvider": self._retrieve,
            "updateProvider": self._update,
            "deleteProvider": self._delete,
        }

    def _list(self, call: Call) -> Any:
        query = call.request.query
        total, records = self.keys.page(
            call.in_workspace, query.get("current_page", 0), query.get("page_size", 50)
        )
        data = responses.each_readable(records, lambda r: responses.provider_listed(r, self.keys.status(r)))
        return {"object": "list", "total": total, "data": data}

    def _create(self, call: Call) -> Any:
        """A provider on an integration enabled for the workspace; the slug from the body or the name."""
        fields = call.body
        workspace = call.in_workspace
        integration = self.integrations.enabled_for(workspace, fields["integration_id"])
        record = self.keys.new_record(
            workspace,
            name=fields["name"],
            provider=integration["ai_provider_id"],
            note=fields.get("note"),
            masked_api_key=integration["masked_key"],
            usage_limits=fields.get("usage_limits"),
            rate_limits=fields.get("rate_limits"),
            expires_at=fields.get("expires_at"),
            integration_id=integration["slug"],
        )
        record = self.keys.insert(workspace, record, fields.get("slug"), taken_status=409)
        return {"id": record["id"], "slug": record["slug"]}

    def _retrieve(self, call: Call) -> Any:
        record = self.keys.find(call.in_workspace, call.slug)
        return responses.provider_retrieved(record, self.keys.status(record))

    def _update(self, call: Call) -> Any:
        workspace = call.in_workspace
        record = self.keys.find(workspace, call.slug)
        changes = {name: call.body[name] for name in UPDATABLE if name in call.body}
        self.keys.update(workspace, record["slug"], changes)
        return {"id": record["id"], "slug": record["slug"]}

    def _delete(self, call: Call) -> Any:
        workspace = call.in_workspace
        self.keys.delete(workspace, self.keys.find(workspace, call.slug)["slug"])
        return {}
