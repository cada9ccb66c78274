"""The storage interface every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Record = dict[str, Any]


@dataclass(frozen=True)
class Update:
    """A change of one record, to be made only if the record is still the text it was read as: a
    change planned from a record that another request has changed since is refused, not made."""

    namespace: str
    slug: str
    seen: bytes
    """The record's JSON text as read (`get_text`)."""
    changes: Record
    """The top-level fields to set."""


@dataclass(frozen=True)
class Insert:
    """A new record for `store` (this store, or another of the same kind: the virtual keys beside
    the integrations), made together with the rest of a `write`."""

    store: Store
    namespace: str
    record: Record


@dataclass(frozen=True)
class Conflict:
    """Why a `write` changed nothing: the updated record is no longer as read (or is gone), or,
    when `taken` is set, that insert's slug is in use."""

    taken: int | None = None


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

    def write(self, update: Update | None, inserts: Sequence[Insert] = ()) -> Conflict | None:
        """Make `update` (of a record of this store) and every insert at once, or nothing: None
        when made, else why not. A write that the store sends again after its connection broke
        (its inserts are there, by id) is made once."""
        ...

    def delete(self, namespace: str, slug: str) -> bool: ...

    def namespaces(self) -> list[str]:
        """Every namespace holding at least one record, in no particular order (for the dashboard)."""
        ...

    def clear(self) -> None:
        """Forget every record of every namespace."""
        ...
