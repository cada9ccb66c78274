"""The default store: process memory.

Each record is kept as its compact JSON text. Decoding it is how a caller gets its own copy (about
three times cheaper than `copy.deepcopy` of the dict), and the text takes about half the memory of
the dict it came from, which matters with a hundred thousand keys stored.

Reads and inserts take no lock: each is one call into a dict (`get`, `setdefault`, a slice of its
values) that runs without letting go of the GIL, so it is atomic. A lock there cost a third of the
mock's throughput under eight serving threads: a thread that lost the GIL while holding it made the
others queue on it, one hand-over of the GIL each (docs/performance.md). An update, a delete or a
write, which read and then write, take the lock (a write across two stores takes both, in a fixed
order); a write's parts are each one step, so a reader that takes no lock may see one record of a
write a moment before the other, never half a record, and nothing of a write that is refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import islice

from mockserver.jsontext import compact
from mockserver.state.records.base import Conflict, Insert, Record, Update


def _pack(record: Record) -> bytes:
    return compact(record).encode("ascii")


class MemoryStore:
    """Records kept in insertion order, so the newest record is last and a page reads from the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._namespaces: dict[str, dict[str, bytes]] = {}

    def insert(self, namespace: str, record: Record) -> bool:
        packed = _pack(record)
        records = self._namespaces.setdefault(namespace, {})
        return records.setdefault(record["slug"], packed) is packed

    def get(self, namespace: str, slug: str) -> Record | None:
        packed = self.get_text(namespace, slug)
        return json.loads(packed) if packed is not None else None

    def get_text(self, namespace: str, slug: str) -> bytes | None:
        return self._namespaces.get(namespace, {}).get(slug)

    def page(self, namespace: str, offset: int, limit: int) -> tuple[int, list[Record]]:
        total, chosen = self.page_text(namespace, offset, limit)
        return total, [json.loads(packed) for packed in chosen]

    def page_text(self, namespace: str, offset: int, limit: int) -> tuple[int, list[bytes]]:
        records = self._namespaces.get(namespace, {})
        total = len(records)
        # islice takes indexes up to sys.maxsize only; any larger page reads past the end anyway.
        chosen = list(islice(reversed(records.values()), min(offset, total), min(offset + limit, total)))
        return total, chosen

    def update(self, namespace: str, slug: str, changes: Record) -> Record | None:
        with self._lock:
            records = self._namespaces.get(namespace, {})
            packed = records.get(slug)
            if packed is None:
                return None
            record = json.loads(packed)
            record.update(changes)
            records[slug] = _pack(record)
        return record  # decoded above: the caller's own copy, not the stored text

    def write(self, update: Update | None, inserts: Sequence[Insert] = ()) -> Conflict | None:
        targets = [(_memory(insert.store), insert) for insert in inserts]
        stores = {id(store): store for store in [self, *(store for store, _ in targets)]}
        with ExitStack() as held:
            for store in sorted(stores.values(), key=id):  # one order for every writer: no deadlock
                held.enter_context(store._lock)
            if update is not None and self.get_text(update.namespace, update.slug) != update.seen:
                return Conflict()
            there, planned = set(), set()
            for index, (store, insert) in enumerate(targets):
                place = (id(store), insert.namespace, insert.record["slug"])
                if place in planned:  # the same slug twice in one write
                    return Conflict(index)
                planned.add(place)
                stored = store.get_text(insert.namespace, insert.record["slug"])
                if stored is not None:
                    if "id" not in insert.record or json.loads(stored).get("id") != insert.record["id"]:
                        return Conflict(index)
                    there.add(index)  # made already, as a Redis store sees a write sent twice
            made: list[tuple[dict[str, bytes], str]] = []
            for index, (store, insert) in enumerate(targets):
                if index in there:
                    continue
                records = store._namespaces.setdefault(insert.namespace, {})
                packed, slug = _pack(insert.record), insert.record["slug"]
                if records.setdefault(slug, packed) is not packed:  # an insert (lock-free) came first
                    for where, mine in made:
                        del where[mine]
                    return Conflict(index)
                made.append((records, slug))
            if update is not None:
                record = json.loads(update.seen)
                record.update(update.changes)
                self._namespaces[update.namespace][update.slug] = _pack(record)
        return None

    def delete(self, namespace: str, slug: str) -> bool:
        with self._lock:
            return self._namespaces.get(namespace, {}).pop(slug, None) is not None

    def namespaces(self) -> list[str]:
        return [name for name, records in list(self._namespaces.items()) if records]

    def clear(self) -> None:
        with self._lock:
            self._namespaces.clear()


def _memory(store: object) -> MemoryStore:
    """A store a memory write reaches into: another memory store (a write never spans two kinds)."""
    if not isinstance(store, MemoryStore):
        raise TypeError("a memory store writes together only with another memory store")
    return store
