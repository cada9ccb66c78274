"""The baseline: the same routes, domain and store as the mock, with no contract validation.

What a hand-written Flask app over the same store would cost; the mock is measured against it.
Bodies are read with `request.get_json()` and passed to the domain unchecked: to the virtual keys'
domain module, and for configs to the resource engine's handlers, as the mock calls them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from mockserver import responses as wire
from mockserver.access import AccessPolicy
from mockserver.contract import Contract
from mockserver.contract.validation import ValidRequest
from mockserver.resources import Call
from mockserver.resources.engine import DeclaredResource
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.state.records import MemoryStore

SECRET_FIELDS = ("key", "azureEntraClientSecret", "awsSecretAccessKey", "vertexServiceAccountJson")


def create_baseline_app() -> Flask:
    app = Flask("baseline")
    app.json.sort_keys = False
    contract = Contract.load()
    policy = AccessPolicy(contract.require_api_key_header())
    keys = VirtualKeys(MemoryStore(), SECRET_FIELDS)
    _add_configs(app, contract, policy)

    def workspace() -> Any:
        return policy.authenticate(request.headers).workspace

    @app.get("/__mock/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    @app.get("/v1/virtual-keys")
    def list_keys() -> Any:
        page, size = int(request.args.get("current_page", 0)), int(request.args.get("page_size", 50))
        total, records = keys.page(workspace(), page, size)
        return jsonify(
            {"object": "list", "total": total, "data": [wire.listed(r, keys.status(r)) for r in records]}
        )

    @app.post("/v1/virtual-keys")
    def create() -> Any:
        record = keys.create(workspace(), request.get_json())
        return jsonify({"success": True, "data": {"slug": record["slug"]}})

    @app.get("/v1/virtual-keys/<slug>")
    def retrieve(slug: str) -> Any:
        record = keys.retrieve(workspace(), slug)
        return jsonify(wire.retrieved(record, keys.status(record)))

    @app.put("/v1/virtual-keys/<slug>")
    def update(slug: str) -> Any:
        keys.update(workspace(), slug, request.get_json())
        return jsonify({})

    @app.delete("/v1/virtual-keys/<slug>")
    def delete(slug: str) -> Any:
        keys.delete(workspace(), slug)
        return jsonify({})

    return app


def _add_configs(app: Flask, contract: Contract, policy: AccessPolicy) -> None:
    """Configs, served by the resource engine's handlers with an unchecked call (no validation)."""
    declaration = next(d for d in contract.resources if d.name == "config")
    handlers = DeclaredResource(declaration, MemoryStore()).handlers()
    ops = declaration.operations

    def call(kind: str, **path: str) -> Any:
        principal = policy.authenticate(request.headers)
        query = {name: int(value) for name, value in request.args.items() if value.isdigit()}
        body = request.get_json() if request.method in ("POST", "PUT") else None
        sent = ValidRequest(contract.operations[ops[kind]], path, query, body)
        return jsonify(handlers[ops[kind]](Call(sent, principal, principal.workspace)))

    app.add_url_rule("/v1/configs", "list_configs", lambda: call("list"), methods=["GET"])
    app.add_url_rule("/v1/configs", "create_config", lambda: call("create"), methods=["POST"])
    for kind, method in (("retrieve", "GET"), ("update", "PUT"), ("delete", "DELETE")):
        app.add_url_rule(
            "/v1/configs/<slug>",
            f"{kind}_config",
            lambda slug, kind=kind: call(kind, slug=slug),
            methods=[method],
        )
