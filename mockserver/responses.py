"""The real service's wire shapes for a stored key: retrieve (flat, masked) and list items.

Shapes follow recorded live responses: retrieve names the provider `ai_provider_name` and always
sends `key: ""`; list items name it `provider`, carry workspace fields and no key at all, and
show an empty `model_config` or `rate_limits` as null.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from mockserver.jsontext import compact
from mockserver.state.records.base import Record

log = logging.getLogger("mockserver")
T = TypeVar("T")
R = TypeVar("R")


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
            "integration_id": record.get("integration_id"),
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
            "integration_id": record.get("integration_id"),
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


def without_unset(answer: dict[str, Any], *names: str) -> dict[str, Any]:
    """`answer` without those of `names` that are unset (None): a text field Portkey's published read
    schema types as a plain string, not a nullable one, is left out rather than answered null."""
    for name in names:
        if answer.get(name) is None:
            answer.pop(name, None)
    return answer


def json_body(value: Any) -> bytes:
    """`value` as the body of a JSON answer, newline-terminated as `jsonify` ends it."""
    return compact(value).encode() + b"\n"


def created(slug: str) -> bytes:
    """A create's answer, `{"success": true, "data": {"slug": ...}}`, written directly as JSON."""
    return b'{"success":true,"data":{"slug":%b}}\n' % compact(slug).encode()


class ReadyAnswers:
    """The bytes of each stored record's retrieve answer and list item, made once and reused.

    Keyed by the record's stored JSON text, which changes whenever the record does: an update makes
    a new text and so new answers, and the old ones age out (the newest `limit` texts are kept).
    A record with `expires_at` is answered afresh each time, since its status changes with the clock.
    """

    def __init__(self, status: Callable[[Record], str], limit: int = 4096) -> None:
        self._status = status
        self._limit = limit
        self._lock = threading.Lock()
        self._answers: dict[bytes, tuple[bytes, bytes]] = {}

    def retrieved(self, text: bytes) -> bytes:
        return self._ready(text)[0]

    def listed(self, text: bytes) -> bytes:
        return self._ready(text)[1]

    def page(self, total: int, texts: list[bytes]) -> bytes:
        items = b",".join(each_readable(texts, lambda text: self._ready(text)[1]))
        return b'{"object":"list","total":%d,"data":[%b]}\n' % (total, items)

    def _ready(self, text: bytes) -> tuple[bytes, bytes]:
        answers = self._answers.get(text)
        if answers is not None:
            return answers
        record = json.loads(text)
        status = self._status(record)
        answers = (
            json_body(retrieved(record, status)),
            compact(listed(record, status)).encode(),
        )
        if record.get("expires_at") is None:
            with self._lock:
                if len(self._answers) >= self._limit:
                    del self._answers[next(iter(self._answers))]  # the oldest
                self._answers[text] = answers
        return answers


UNREADABLE = (ValueError, KeyError, TypeError, AttributeError)
"""What reading a stored record that is not what the mock writes raises (text that is not JSON, a
field missing, a date-time that is not one)."""


def page(total: int, data: list[Any]) -> dict[str, Any]:
    """Portkey's list page, `{object: list, total, data}`, for every list that answers one
    (`ReadyAnswers.page` writes the same as bytes)."""
    return {"object": "list", "total": total, "data": data}


def each_readable(records: Iterable[T], shown: Callable[[T], R]) -> list[R]:
    """`shown(record)` for each record; one that cannot be read is left out of the list with a log
    line, so one bad record never takes a whole list down (retrieving it still answers 500)."""
    items = []
    for record in records:
        try:
            items.append(shown(record))
        except UNREADABLE as error:
            log.error("left out of a list: a stored record that cannot be read (%s)", type(error).__name__)
    return items


def provider_retrieved(record: Record, status: str) -> dict[str, Any]:
    """A key as `GET /providers/{slug}` answers it: the virtual-key detail with the workspace and
    `object: provider` (Portkey's spec; no live capture exists, see docs/model-catalog.md)."""
    return {**retrieved(record, status), "workspace_id": record["workspace_id"], "object": "provider"}


def provider_listed(record: Record, status: str) -> dict[str, Any]:
    """A key as `GET /providers` lists it: the virtual-key list item with `object: provider`."""
    return {**listed(record, status), "object": "provider"}
