"""The request journal: what clients sent to `/v1`, with the contract's verdict on each request.

Entries are plain JSON-able dicts, built by `entry_for` with every secret already masked, so any
backend (memory here, a shared one elsewhere) stores and returns them as they are. The journal is
bounded: past its limit the oldest entries are dropped, so a long-running mock cannot grow forever.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from mockserver.contract.document import snake_case
from mockserver.contract.verdict import RequestVerdict
from mockserver.state.redis_keys import RedisNamespace
from mockserver.violations import Violation
from mockserver.virtual_keys import MASK, mask_secret, timestamp

Entry = dict[str, Any]

SECRET_HEADER_WORDS = frozenset({"key", "secret", "token", "authorization", "cookie", "password"})
"""A header with one of these words in its name is masked (`x-portkey-api-key`, `Authorization`)."""


PendingEntry = Entry | Callable[[], Entry]
"""An entry, or a function that builds it: the request path only captures what it saw, and the
masking and formatting are done when the entry is read (memory) or leaves the process (Redis)."""


def built(entry: PendingEntry) -> Entry:
    return entry() if callable(entry) else entry


class Journal(Protocol):
    """Where journal entries are kept; every method is safe to call from many threads."""

    limit: int

    def append(self, entry: PendingEntry) -> None:
        """Keep `entry`, dropping the oldest one if the journal is full."""
        ...

    def entries(self) -> list[Entry]:
        """Every kept entry, oldest first."""
        ...

    def clear(self) -> None:
        """Forget every entry; numbering starts again at 1."""
        ...

    def dropped(self) -> int:
        """How many entries were dropped for lack of room since the last clear."""
        ...


class MemoryJournal:
    """A journal in process memory: a bounded deque under one lock."""

    def __init__(self, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError("the journal limit must be positive")
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: deque[tuple[int, PendingEntry]] = deque(maxlen=limit)
        self._dropped = 0
        self._sequence = itertools.count(1)

    def append(self, entry: PendingEntry) -> None:
        with self._lock:
            if len(self._entries) == self.limit:
                self._dropped += 1
            self._entries.append((next(self._sequence), entry))

    def entries(self) -> list[Entry]:
        with self._lock:
            kept = list(self._entries)
        return [{"seq": seq, **built(entry)} for seq, entry in kept]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._dropped = 0
            self._sequence = itertools.count(1)

    def dropped(self) -> int:
        with self._lock:
            return self._dropped


class RedisJournal:
    """A journal shared by every process of one mock instance (its Redis key prefix).

    Entries are JSON in a list trimmed to the limit, next to a counter of all appends since the
    last clear. Appending is one transaction (count, push, trim), so the numbers follow from the
    two: the newest kept entry is number `count`, and `count - kept` were dropped.
    """

    def __init__(self, keys: RedisNamespace, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError("the journal limit must be positive")
        self.limit = limit
        self._keys = keys
        self._entries_key = keys.key("journal", "entries")
        self._count_key = keys.key("journal", "seq")

    def append(self, entry: PendingEntry) -> None:
        with self._keys.client.pipeline(transaction=True) as pipe:
            pipe.incr(self._count_key)
            pipe.rpush(self._entries_key, json.dumps(built(entry)))
            pipe.ltrim(self._entries_key, -self.limit, -1)
            pipe.execute()

    def entries(self) -> list[Entry]:
        appended, raw = self._read()
        first = appended - len(raw) + 1
        return [{"seq": first + index, **json.loads(item)} for index, item in enumerate(raw)]

    def clear(self) -> None:
        self._keys.clear("journal")

    def dropped(self) -> int:
        with self._keys.client.pipeline(transaction=True) as pipe:
            pipe.get(self._count_key)
            pipe.llen(self._entries_key)
            appended, kept = pipe.execute()
        return max(0, int(appended or 0) - int(kept))

    def _read(self) -> tuple[int, list[bytes]]:
        with self._keys.client.pipeline(transaction=True) as pipe:
            pipe.get(self._count_key)
            pipe.lrange(self._entries_key, 0, -1)
            appended, raw = pipe.execute()
        return int(appended or 0), raw


def entry_for(
    verdict: RequestVerdict,
    *,
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body_size: int,
    status: int,
    secret_fields: Iterable[str],
    source: str = "mock",
    response_violations: list[Violation] | None = None,
    now: datetime | None = None,
) -> Entry:
    """One journal entry; headers and body are masked here, before anything keeps them."""
    return {
        "time": timestamp(now or datetime.now(UTC)),
        "source": source,
        "method": method.upper(),
        "path": path,
        "query": {name: list(values) for name, values in query.items()},
        "bare_query": verdict.bare_query,
        "headers": mask_headers(headers),
        "body": mask_body(verdict.body, secret_fields),
        "body_bytes": body_size,
        "operation": verdict.operation,
        "nearest_operation": verdict.nearest_operation,
        "status": status,
        "valid": not verdict.violations,
        "violations": [v.as_dict() for v in verdict.violations],
        "warnings": [w.as_dict() for w in verdict.warnings],
        "response_violations": (
            None if response_violations is None else [v.as_dict() for v in response_violations]
        ),
    }


def mask_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers (a mapping or name-value pairs) with every credential masked; names lower-cased."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {name.lower(): mask_secret(value) if _is_secret_header(name) else value for name, value in pairs}


def mask_body(body: Any, secret_fields: Iterable[str]) -> Any:
    """The body with each secret field masked in place, in both spellings, keeping its JSON type.

    A masked string stays a string and a masked document stays an object with the same keys, so a
    journaled body can be judged against the contract again (`contracts check-traffic`).
    """
    if not isinstance(body, dict):
        return body
    secrets = set(secret_fields)
    secrets |= {snake_case(name) for name in secrets}
    return {name: _masked(value) if name in secrets else value for name, value in body.items()}


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secret(value) if value else value
    if isinstance(value, dict):
        return {name: _masked(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_masked(inner) for inner in value]
    return MASK if value is not None else None


@functools.lru_cache(maxsize=512)
def _is_secret_header(name: str) -> bool:
    return not SECRET_HEADER_WORDS.isdisjoint(re.split(r"[-_]", name.lower()))
