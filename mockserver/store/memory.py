"""The default store: process memory, guarded by one lock."""

from __future__ import annotations

import copy
import threading
from itertools import islice

from mockserver.store.base import Record


class MemoryStore:
    """Dicts kept in insertion order, so the newest record is last and a page reads from the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._namespaces: dict[str, dict[str, Record]] = {}

    def insert(self, namespace: str, record: Record) -> bool:
        with self._lock:
            records = self._namespaces.setdefault(namespace, {})
            if record["slug"] in records:
                return False
            records[record["slug"]] = copy.deepcopy(record)
            return True

    def get(self, namespace: str, slug: str) -> Record | None:
        with self._lock:
            record = self._namespaces.get(namespace, {}).get(slug)
            return copy.deepcopy(record) if record is not None else None

    def page(self, namespace: str, offset: int, limit: int) -> tuple[int, list[Record]]:
        with self._lock:
            records = self._namespaces.get(namespace, {})
            # islice takes indexes up to sys.maxsize only; any larger page reads past the end anyway.
            start, stop = min(offset, len(records)), min(offset + limit, len(records))
            chosen = islice(reversed(records.values()), start, stop)
            return len(records), [copy.deepcopy(r) for r in chosen]

    def update(self, namespace: str, slug: str, changes: Record) -> Record | None:
        with self._lock:
            record = self._namespaces.get(namespace, {}).get(slug)
            if record is None:
                return None
            record.update(copy.deepcopy(changes))
            return copy.deepcopy(record)

    def delete(self, namespace: str, slug: str) -> bool:
        with self._lock:
            return self._namespaces.get(namespace, {}).pop(slug, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._namespaces.clear()
