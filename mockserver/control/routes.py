"""The mock's own control plane under `/__mock/`, outside `/v1` so it never collides with the API."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, jsonify, request

from mockserver.access import AccessPolicy
from mockserver.contract.document import Contract
from mockserver.contract.validation import IncomingRequest, RequestValidator, decode_json_object
from mockserver.errors import ValidationFailed
from mockserver.faults.plan import Faults
from mockserver.journal import Journal
from mockserver.violations import Violation
from mockserver.virtual_keys import VirtualKeys


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
            principal = self.policy.authenticate(entry.get("api_key"))
            workspace = self.policy.workspace_for(
                principal, entry.get("workspace_id"), f"workspaces[{w_index}]"
            )
            for k_index, fields in enumerate(entry.get("virtual_keys", [])):
                slugs.append(
                    self._seed_one(workspace, dict(fields), f"workspaces[{w_index}].virtual_keys[{k_index}]")
                )
        return slugs

    def seed_file(self, path: Path) -> list[str]:
        text = path.read_text(encoding="utf-8")
        return self.seed(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text) or {})

    def _seed_one(self, workspace: Any, fields: dict[str, Any], where: str) -> str:
        slug = fields.pop("slug", None)
        body = json.dumps(fields).encode()
        checked = self.validator.check(
            self.operation,
            IncomingRequest("POST", self.operation.path, body=body, content_type="application/json"),
        )
        if checked.violations:
            raise ValidationFailed(
                [Violation(v.location.replace("body", where, 1), v.rule) for v in checked.violations]
            )
        fields = {k: v for k, v in (checked.request.body or {}).items() if k != "workspace_id"}
        return self.keys.create(workspace, fields, slug=slug)["slug"]


def control_blueprint(
    seeder: Seeder,
    resets: Iterable[Callable[[], None]],
    faults: Faults | None = None,
    accepts_any_key: bool = False,
) -> Blueprint:
    blueprint = Blueprint("control", __name__, url_prefix="/__mock")
    reset_all = list(resets)
    auth = "any-key" if accepts_any_key else "keys-file"

    @blueprint.get("/health")
    def health() -> Any:
        # The process id tells the workers of `serve --workers N` apart; `auth` tells a contract
        # checker that an unknown API key is accepted here by design (no keys file).
        return jsonify({"status": "ok", "pid": os.getpid(), "auth": auth})

    @blueprint.post("/reset")
    def reset() -> Any:
        for clear in reset_all:
            clear()
        return jsonify({"reset": True})

    @blueprint.post("/seed")
    def seed() -> Any:
        slugs = seeder.seed(decode_json_object(request.get_data()))
        return jsonify({"slugs": slugs})

    if faults is not None:
        _add_fault_routes(blueprint, faults)
    return blueprint


def journal_blueprint(journal: Journal) -> Blueprint:
    """`GET /__mock/journal` reads the request journal, `DELETE /__mock/journal` empties it."""
    blueprint = Blueprint("journal", __name__, url_prefix="/__mock")

    @blueprint.get("/journal")
    def read() -> Any:
        return jsonify({"limit": journal.limit, "dropped": journal.dropped(), "entries": journal.entries()})

    @blueprint.delete("/journal")
    def clear() -> Any:
        journal.clear()
        return jsonify({"cleared": True})

    return blueprint


def _add_fault_routes(blueprint: Blueprint, faults: Faults) -> None:
    @blueprint.get("/faults")
    def fault_plan() -> Any:
        return jsonify(faults.plan())

    @blueprint.put("/faults")
    def set_fault_plan() -> Any:
        return jsonify(faults.set_plan(decode_json_object(request.get_data())))

    @blueprint.delete("/faults")
    def clear_faults() -> Any:
        faults.clear()
        return jsonify(faults.plan())
