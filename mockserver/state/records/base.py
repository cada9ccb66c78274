"""The storage interface every backend implements."""

from __future__ import annotations

from typing import Any, Protocol

Record = dict[str, Any]


class Store(Protocol):
    """Records (JSON-able dicts with a `slug`) grouped by namespace (one workspace), newest last.

    Every method is atomic: concurrent callers never see a half-applied change.
    """

    def insert(self, namespace: str, record: Record) -> bool:
        """Add `record`; False (and nothing stored) if its slug is taken in the namespace."""
        ...

    def get(self, namespace: str, slug: str) -> Record | None: ...

    def get_text(self, namespace: str, slug: str) -> bytes | None:
        """The record as JSON text: what a reader that only re-encodes it needs (no decoding)."""
        ...

    def page(self, namespace: str, offset: int, limit: int) -> tuple[int, list[Record]]:
        """The total in the namespace and up to `limit` records from `offset`, newest first."""
        ...

    def page_text(self, namespace: str, offset: int, limit: int) -> tuple[int, list[bytes]]:
        """`page`, each record as JSON text."""
        ...

    def update(self, namespace: str, slug: str, changes: Record) -> Record | None:
        """Set the given top-level fields; the updated record, or None if there is none."""
        ...

    def delete(self, namespace: str, slug: str) -> bool: ...

    def namespaces(self) -> list[str]:
        """Every namespace holding at least one record, in no particular order (for the dashboard)."""
        ...

    def clear(self) -> None:
        """Forget every record of every namespace."""
        ...
