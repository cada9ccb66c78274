"""The real service's wire shapes for a stored key: retrieve (flat, masked) and list items.

Shapes follow recorded live responses: retrieve names the provider `ai_provider_name` and always
sends `key: ""`; list items name it `provider`, carry workspace fields and no key at all, and
show an empty `model_config` or `rate_limits` as null.
"""

from __future__ import annotations

from typing import Any

from mockserver.state.records.base import Record


def retrieved(record: Record, status: str) -> dict[str, Any]:
    return _with_mappings(
        record,
        {
            "id": record["id"],
            "ai_provider_name": record["provider"],
            "model_config": record["model_config"],
            "key": "",
            "masked_api_key": record["masked_api_key"],
            "slug": record["slug"],
            "name": record["name"],
            "usage_limits": record["usage_limits"],
            "status": status,
            "note": record["note"],
            "created_at": record["created_at"],
            "expires_at": record["expires_at"],
            "last_reset_at": record["last_reset_at"],
            "rate_limits": record["rate_limits"],
            "integration_id": None,
            "tags": None,
            "object": "virtual-key",
        },
    )


def listed(record: Record, status: str) -> dict[str, Any]:
    return _with_mappings(
        record,
        {
            "id": record["id"],
            "organisation_id": record["organisation_id"],
            "workspace_id": record["workspace_id"],
            "workspace_name": record["workspace_name"],
            "name": record["name"],
            "note": record["note"],
            "status": status,
            "usage_limits": record["usage_limits"],
            "reset_usage": None,
            "created_at": record["created_at"],
            "slug": record["slug"],
            "model_config": record["model_config"] or None,
            "rate_limits": record["rate_limits"] or None,
            "expires_at": record["expires_at"],
            "last_reset_at": record["last_reset_at"],
            "integration_id": None,
            "tags": None,
            "provider": record["provider"],
            "object": "virtual-key",
        },
    )


def _with_mappings(record: Record, answer: dict[str, Any]) -> dict[str, Any]:
    """`secret_mappings` (Portkey's published key schema has it) only when the key has some, as the
    live recordings of keys without mappings show none."""
    if record.get("secret_mappings"):
        answer["secret_mappings"] = record["secret_mappings"]
    return answer
