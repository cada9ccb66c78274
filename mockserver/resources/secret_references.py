"""Secret references' rules on other resources; the engine serves their own operations.

- A secret mapping (`secret_mappings[].secret_reference_id`, of a virtual key, an integration or any
  operation whose body has them) names a secret reference of the caller's organisation, by id or
  slug, that the workspace acted in may use (`allow_all_workspaces`, or among `allowed_workspaces`);
  else 400 naming `body.secret_mappings`, the contract's state rule.
- A secret reference some mapping names is not deleted: 400, as Portkey's published spec documents
  ("in use by integrations or virtual keys"). The check reads the mappings first, so a mapping
  made at the same moment as the delete can slip through: the mock does not lock across resources.
- Sending `allowed_workspaces` turns `allow_all_workspaces` off; turning it on empties them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mockserver.contract.document import Contract
from mockserver.errors import ValidationFailed
from mockserver.resources import Around, Call, Handler
from mockserver.resources.engine import DeclaredResource
from mockserver.state.records.base import Record, Store
from mockserver.state.trip import apart
from mockserver.violations import Violation

FIELD = "secret_mappings"


class SecretReferences:
    """The rules secret references set on virtual keys, integrations and their own deletes."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self, contract: Contract, references: DeclaredResource, keys: Store, integrations: Store
    ) -> None:
        self.references = references
        self.keys = keys
        self.integrations = integrations
        self.mapping = {
            op.operation_id: op.state_rules[f"body.{FIELD}"]
            for op in contract.operations.values()
            if f"body.{FIELD}" in op.state_rules
        }
        """operationId -> the rule its mappings keep (`x-portkey-state-rule` on `secret_mappings`)."""
        delete = references.declaration.operations["delete"]
        parameter = f"path.{references.declaration.item_parameter}"
        self.in_use = contract.operations[delete].state_rules[parameter]

    def handlers(self) -> Mapping[str, Handler]:
        return {}

    def around(self) -> Mapping[str, Around]:
        ops = self.references.declaration.operations
        arounds: dict[str, Around] = {operation: self._mappings_resolve for operation in self.mapping}
        arounds[ops["create"]] = arounds[ops["update"]] = self._workspaces
        arounds[ops["delete"]] = self._unused
        return arounds

    def _mappings_resolve(self, call: Call, handler: Handler) -> Any:
        mappings = call.body.get(FIELD)
        if isinstance(mappings, list) and mappings:
            with apart():
                usable = self._usable(call)
            if any(mapping.get("secret_reference_id") not in usable for mapping in mappings):
                rule = self.mapping[call.request.operation.operation_id]
                raise ValidationFailed([Violation(f"body.{FIELD}", rule)])
        return handler(call)

    def _usable(self, call: Call) -> set[str]:
        """The ids and slugs of the secret references the call's workspace may use."""
        organisation = call.principal.organisation_id
        namespace = self.references.namespace_in(organisation)
        _, texts = self.references.store.page_text(namespace, 0, 2**31)
        workspace = call.workspace.workspace_id if call.workspace else None
        usable: set[str] = set()
        for text in texts:
            record = json.loads(text)
            allowed = record.get("allowed_workspaces") or []
            if workspace is None or record.get("allow_all_workspaces") or workspace in allowed:
                usable |= {record["id"], record["slug"]}
        return usable

    def _unused(self, call: Call, handler: Handler) -> Any:
        record = self.references.find_for(call)[0]
        names = {record["id"], record["slug"]}
        with apart():
            mapped = self._mapped_names(call.principal.organisation_id)
        if names & mapped:
            where = f"path.{self.references.declaration.item_parameter}"
            raise ValidationFailed([Violation(where, self.in_use)])
        return handler(call)

    def _mapped_names(self, organisation: str) -> set[str]:
        """Every `secret_reference_id` a virtual key or integration of the organisation maps."""
        records: list[Record] = list(self.integrations.page(organisation, 0, 2**31)[1])
        for namespace in self.keys.namespaces():
            if namespace.startswith(f"{organisation}/"):
                records += self.keys.page(namespace, 0, 2**31)[1]
        return {
            str(mapping.get("secret_reference_id"))
            for record in records
            for mapping in record.get(FIELD) or []
            if isinstance(mapping, dict)
        }

    def _workspaces(self, call: Call, handler: Handler) -> Any:
        body = call.body
        if "allowed_workspaces" in body:
            body = {**body, "allow_all_workspaces": False}
        elif body.get("allow_all_workspaces") is True:
            body = {**body, "allowed_workspaces": []}
        if body is not call.body:
            call = replace(call, request=replace(call.request, body=body))
        return handler(call)
