"""What is particular to collections, the folders of Portkey's prompt library; the engine serves
their five operations from the marker.

- A parent (`parent_collection_id`, by id or slug) is a collection of the same workspace, kept by
  its id; else 400 naming the field, the contract's state rule.
- A read tells what a collection holds, computed from the records when it is read: each list item's
  `collection_details` (its child collections and prompts, and when each last changed) and a
  retrieve's `child_collections`.
- A collection that holds others, or prompts, is not deleted: 400, the contract's state rule on its path
  parameter. The check reads the children first, so a child made at the same moment can slip
  through, as for secret references: the mock does not lock across records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockserver import responses
from mockserver.contract.document import Contract
from mockserver.errors import NotFound, ValidationFailed
from mockserver.resources import Around, Call, Handler
from mockserver.resources.engine import DeclaredResource
from mockserver.state.records.base import Record
from mockserver.violations import Violation

PARENT = "parent_collection_id"
IN = "collection_id"
"""The field of a prompt naming the collection it is in."""


class Collections:
    """Hooks the engine's collections: parents on create, what reads compute, the delete rule."""

    riding: frozenset[str] = frozenset()

    def __init__(self, contract: Contract, engine: DeclaredResource) -> None:
        self.engine = engine
        ops = engine.declaration.operations
        self.parent_rule = contract.operations[ops["create"]].state_rules[f"body.{PARENT}"]
        self.in_use_at = f"path.{engine.declaration.item_parameter}"
        self.in_use = contract.operations[ops["delete"]].state_rules[self.in_use_at]
        engine.creating.append(self._parent)
        engine.shown = self
        self.prompts: DeclaredResource | None = None
        """The prompts, whose records name their collection (set when the contract declares them)."""

    def handlers(self) -> Mapping[str, Handler]:
        return {}

    def around(self) -> Mapping[str, Around]:
        return {self.engine.declaration.operations["delete"]: self._empty}

    # -- the engine's hooks

    def _parent(self, call: Call, record: Record) -> None:
        ref = record.get(PARENT)
        if ref is None:
            return
        try:
            parent = self.engine.find(self.engine.namespace(call), str(ref))[0]
        except NotFound:
            parent = None
        if parent is None or parent.get("workspace_id") != record.get("workspace_id"):
            raise ValidationFailed([Violation(f"body.{PARENT}", self.parent_rule)])
        record[PARENT] = parent["id"]

    def _empty(self, call: Call, handler: Handler) -> Any:
        record = self.engine.find_for(call)[0]
        held = [*self._organisation(record), *self._prompts(record)]
        if any(other.get(PARENT) == record["id"] or other.get(IN) == record["id"] for other in held):
            raise ValidationFailed([Violation(self.in_use_at, self.in_use)])
        return handler(call)

    # -- reads (engine.Shown)

    def retrieved(self, text: bytes) -> Any:
        record = json.loads(text)
        everything, prompts = self._organisation(record), self._prompts(record)
        children = [
            {
                "id": child["id"],
                "name": child.get("name"),
                "last_updated_at": child.get("last_updated_at"),
                "collection_details": _details(child, everything, prompts),
            }
            for child in everything
            if child.get(PARENT) == record["id"]
        ]
        return {**record, "child_collections": children}

    def page(self, total: int, texts: list[bytes]) -> Any:
        records = responses.each_readable(texts, json.loads)
        everything = self._organisation(records[0]) if records else []
        prompts = self._prompts(records[0]) if records else []
        data = [{**record, "collection_details": _details(record, everything, prompts)} for record in records]
        return responses.page(total, data)

    def _organisation(self, record: Record) -> list[Record]:
        """Every collection of `record`'s organisation (they are kept in one namespace)."""
        namespace = self.engine.namespace_in(str(record.get("organisation_id")))
        _, texts = self.engine.store.page_text(namespace, 0, 2**31)
        return responses.each_readable(texts, json.loads)

    def _prompts(self, record: Record) -> list[Record]:
        """Every prompt of `record`'s organisation (none if the contract declares no prompts)."""
        if self.prompts is None:
            return []
        namespace = self.prompts.namespace_in(str(record.get("organisation_id")))
        _, texts = self.prompts.store.page_text(namespace, 0, 2**31)
        return responses.each_readable(texts, json.loads)


def _details(record: Record, everything: list[Record], prompts: list[Record]) -> dict[str, Any]:
    """What a collection holds: its child collections and its prompts, with when each last changed."""
    children = [other for other in everything if other.get(PARENT) == record["id"]]
    held = [prompt for prompt in prompts if prompt.get(IN) == record["id"]]
    return {
        "child_collections_count": len(children),
        "prompts_count": len(held),
        "child_collections_last_updated_at": _last(children),
        "prompts_last_updated_at": _last(held),
    }


def _last(records: list[Record]) -> str | None:
    return max((str(r.get("last_updated_at")) for r in records), default=None)
