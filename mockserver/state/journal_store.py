"""Where the request journal is kept: process memory, or Redis to share it between processes.

Entries are plain JSON-able dicts (built, masked, by `mockserver.journal`), so a backend stores and
returns them as they are. The journal is bounded: past its limit the oldest entries are dropped,
so a long-running mock cannot grow forever.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from mockserver.state.fault_state import plan_key
from mockserver.state.trip import Rider

if TYPE_CHECKING:  # redis is imported only when a mock uses it (50 ms of start-up)
    from mockserver.state.redis_keys import RedisNamespace

Entry = dict[str, Any]

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

    def rider(self, entry: PendingEntry, not_found_status: int) -> Rider | None:
        """A rider that has the store's script append `entry` (mockserver/state/trip.py), or None."""
        ...

    def carried(self, entry: PendingEntry, status_field: str) -> tuple[tuple[str, str], str] | None:
        """This list's keys and `entry` as JSON text without `status_field`, for another list's
        rider to append in the same script (the audit log's entry rides with the journal's), or None."""
        ...


class MemoryJournal:
    """A journal in process memory: a bounded deque of numbered entries.

    It takes no lock: numbering (`itertools.count`) and appending to a deque are each atomic, and
    the entries are read from a copy sorted by number. A lock here cost a third of the mock's
    throughput under eight serving threads (see `mockserver.state.records.memory`).
    """

    def __init__(self, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError("the journal limit must be positive")
        self.limit = limit
        self._entries: deque[tuple[int, PendingEntry]] = deque(maxlen=limit)
        self._sequence = itertools.count(1)

    def append(self, entry: PendingEntry) -> None:
        self._entries.append((next(self._sequence), entry))

    def entries(self) -> list[Entry]:
        kept = sorted(self._kept(), key=_number)
        return [{"seq": seq, **built(entry)} for seq, entry in kept]

    def clear(self) -> None:
        self._sequence = itertools.count(1)
        self._entries.clear()

    def dropped(self) -> int:
        """Entries numbered but no longer kept: the newest number less the count kept."""
        kept = self._kept()
        return max(0, max(map(_number, kept), default=0) - len(kept))

    def _kept(self) -> list[tuple[int, PendingEntry]]:
        return list(self._entries)  # one call: a copy no append can change half-way

    def rider(self, entry: PendingEntry, not_found_status: int) -> Rider | None:
        return None  # an append here costs no trip

    def carried(self, entry: PendingEntry, status_field: str) -> tuple[tuple[str, str], str] | None:
        return None


def _number(numbered: tuple[int, PendingEntry]) -> int:
    return numbered[0]


class RedisJournal:
    """A journal shared by every process of one mock instance (its Redis key prefix).

    Entries are JSON in a list trimmed to the limit, next to a counter of all appends since the
    last clear. Appending is one transaction (count, push, trim), so the numbers follow from the
    two: the newest kept entry is number `count`, and `count - kept` were dropped. `section` names
    its keys: the audit log is a second such list (`audit`).
    """

    def __init__(self, keys: RedisNamespace, limit: int = 1000, section: str = "journal") -> None:
        if limit < 1:
            raise ValueError("the journal limit must be positive")
        self.limit = limit
        self._keys = keys
        self._section = section
        self._entries_key = keys.key(section, "entries")
        self._count_key = keys.key(section, "seq")
        from mockserver.state.outage import UNREACHABLE

        self._unreachable = UNREACHABLE

    def append(self, entry: PendingEntry) -> None:
        """Keep `entry`; while Redis is unreachable it is dropped (the store's watch logs that once)."""
        try:
            with self._keys.client.pipeline(transaction=True) as pipe:
                pipe.incr(self._count_key)
                pipe.rpush(self._entries_key, json.dumps(built(entry)))
                pipe.ltrim(self._entries_key, -self.limit, -1)
                pipe.execute()
        except self._unreachable as error:
            self._keys.watch.lost(error)

    def rider(self, entry: PendingEntry, not_found_status: int) -> Rider | None:
        fields = built(entry)
        del fields["status"]  # the script writes it first, from the operation's outcome
        keys = [plan_key(self._keys), self._entries_key, self._count_key]
        return Rider(keys, json.dumps(fields), self.limit, not_found_status)

    def carried(self, entry: PendingEntry, status_field: str) -> tuple[tuple[str, str], str] | None:
        fields = built(entry)
        del fields[status_field]  # the script writes it first, from the operation's outcome
        return (self._entries_key, self._count_key), json.dumps(fields)

    def entries(self) -> list[Entry]:
        appended, raw = self._read()
        first = appended - len(raw) + 1
        return [{"seq": first + index, **json.loads(item)} for index, item in enumerate(raw)]

    def clear(self) -> None:
        self._keys.clear(self._section)

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
