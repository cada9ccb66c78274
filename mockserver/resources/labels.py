"""What is particular to labels, the names a prompt version is called by (`prompt@production`); the
engine serves their five operations from the marker.

- A label's name is one label's in its workspace (or among the organisation's own labels): a create
  or rename to a name taken there answers 400 naming `body.name`, the contract's state rule.
- A label made naming no workspace is the organisation's own, answered `is_universal: true`.
"""

from __future__ import annotations

import json

from mockserver import responses
from mockserver.contract.document import Contract
from mockserver.errors import ValidationFailed
from mockserver.resources import Call
from mockserver.resources.engine import DeclaredResource
from mockserver.state.records.base import Record
from mockserver.violations import Violation


class Labels:
    """Hooks the engine's labels: one name per workspace, and whether a label is universal."""

    def __init__(self, contract: Contract, engine: DeclaredResource) -> None:
        self.engine = engine
        create = contract.operations[engine.declaration.operations["create"]]
        self.taken_rule = create.state_rules["body.name"]
        engine.creating.append(self._made)
        engine.updating.append(self._renamed)

    def _made(self, call: Call, record: Record) -> None:
        record["is_universal"] = record.get("workspace_id") is None
        self._refuse_taken(call, record, str(record["name"]))

    def _renamed(self, call: Call, record: Record, planned: Record) -> None:
        if "name" in planned and planned["name"] != record.get("name"):
            self._refuse_taken(call, record, str(planned["name"]))

    def _refuse_taken(self, call: Call, record: Record, name: str) -> None:
        _, texts = self.engine.store.page_text(self.engine.namespace(call), 0, 2**31)
        for other in responses.each_readable(texts, json.loads):
            same_place = other.get("workspace_id") == record.get("workspace_id")
            if same_place and other.get("name") == name and other.get("id") != record.get("id"):
                raise ValidationFailed([Violation("body.name", self.taken_rule)])
