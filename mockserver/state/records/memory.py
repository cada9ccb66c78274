"""The default store: process memory.

Each record is kept as its compact JSON text. Decoding it is how a caller gets its own copy (about
three times cheaper than `copy.deepcopy` of the dict), and the text takes about half the memory of
the dict it came from, which matters with a hundred thousand keys stored.

Reads and inserts take no lock: each is one call into a dict (`get`, `setdefault`, a slice of its
values) that runs without letting go of the GIL, so it is atomic. A lock there cost a third of the
mock's throughput under eight serving threads: a thread that lost the GIL while holding it made the
others queue on it, one hand-over of the GIL each (docs/performance.md). An update or a delete,
which reads and then writes, takes the lock.
"""

from __future__ import annotations

import json
import threading
from itertools import islice

from mockserver.jsontext import compact
from mockserver.state.records.base import Record


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

    def delete(self, namespace: str, slug: str) -> bool:
        with self._lock:
            return self._namespaces.get(namespace, {}).pop(slug, None) is not None

    def namespaces(self) -> list[str]:
        return [name for name, records in list(self._namespaces.items()) if records]

    def clear(self) -> None:
        with self._lock:
            self._namespaces.clear()
