"""Seeding: virtual keys preloaded from a file or `POST /__mock/seed`, each validated as a create
request of the API key that owns it, so a seeded key is one the API itself could have made."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mockserver.access import AccessPolicy, Principal, Workspace
from mockserver.contract.document import Contract
from mockserver.contract.validation import IncomingRequest, RequestValidator
from mockserver.errors import ValidationFailed
from mockserver.resources import Call
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.violations import Violation


class Seeder:
    """Preloads virtual keys, each validated as a create request of the API key that owns it."""

    def __init__(
        self, contract: Contract, validator: RequestValidator, policy: AccessPolicy, keys: VirtualKeys
    ) -> None:
        self.operation = contract.operations["createVirtualKey"]
        self.validator, self.policy, self.keys = validator, policy, keys

    def seed(self, document: dict[str, Any]) -> list[str]:
        """Load `{"workspaces": [{"api_key", "workspace_id"?, "virtual_keys": [...]}]}`; the slugs."""
        slugs = []
        for w_index, entry in enumerate(document.get("workspaces", [])):
            principal = self.policy.principal_of(entry.get("api_key"))
            workspace = self.policy.workspace_for(
                principal, entry.get("workspace_id"), f"workspaces[{w_index}]"
            )
            for k_index, fields in enumerate(entry.get("virtual_keys", [])):
                where = f"workspaces[{w_index}].virtual_keys[{k_index}]"
                slugs.append(self._seed_one(principal, workspace, dict(fields), where))
        return slugs

    def seed_file(self, path: Path) -> list[str]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            return self.seed(json.loads(text))
        import yaml  # 20 ms to import: only for a YAML seed file

        return self.seed(yaml.safe_load(text) or {})

    def _seed_one(
        self, principal: Principal, workspace: Workspace, fields: dict[str, Any], where: str
    ) -> str:
        slug = fields.pop("slug", None)
        body = json.dumps(fields).encode()
        checked = self.validator.check(
            self.operation,
            IncomingRequest("POST", self.operation.path, body=body, content_type="application/json"),
        )
        if checked.violations:
            raise _located(checked.violations, where)
        try:
            created = self.keys.engine.create(Call(checked.request, principal, workspace), slug=slug)
        except ValidationFailed as refused:  # a slug taken: named where the seed document has it
            raise _located(refused.violations, where) from None
        return str(created["data"]["slug"])


def _located(violations: Iterable[Violation], where: str) -> ValidationFailed:
    """The violations of a create body, each placed in the seed document (`workspaces[0].virtual_keys[1]`)."""
    return ValidationFailed([Violation(v.location.replace("body", where, 1), v.rule) for v in violations])
