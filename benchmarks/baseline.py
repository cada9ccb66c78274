"""The baseline: the same routes, domain and store as the mock, with no contract validation.

What a hand-written Flask app over the same store would cost; the mock is measured against it.
Bodies are read with `request.get_json()` and passed unchecked to the resource engine's handlers
(with the virtual keys' domain module hooked in), as the mock calls them; a key's retrieve and list
are read from the store and answered with `jsonify`, as a hand-written app would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request

from mockserver import responses as wire
from mockserver.access import AccessPolicy
from mockserver.contract import Contract
from mockserver.contract.validation import ValidRequest
from mockserver.resources import Call
from mockserver.resources.engine import DeclaredResource
from mockserver.resources.virtual_keys import VIRTUAL_KEY, VirtualKeys
from mockserver.state.records import MemoryStore


def create_baseline_app() -> Flask:
    app = Flask("baseline")
    app.json.sort_keys = False
    contract = Contract.load()
    policy = AccessPolicy(contract.require_api_key_header())
    declared = {d.name: d for d in contract.resources}
    engine = DeclaredResource(declared[VIRTUAL_KEY], MemoryStore())
    keys = VirtualKeys(engine)
    keys_call = _unchecked(contract, policy, engine)
    _add_configs(app, contract, policy)

    def workspace() -> Any:
        return policy.authenticate(request.headers).workspace

    @app.get("/__mock/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    @app.get("/v1/virtual-keys")
    def list_keys() -> Any:
        page, size = int(request.args.get("current_page", 0)), int(request.args.get("page_size", 50))
        total, records = keys.store.page(workspace().namespace, page * size, size)
        return jsonify(
            {"object": "list", "total": total, "data": [wire.listed(r, keys.status(r)) for r in records]}
        )

    @app.post("/v1/virtual-keys")
    def create() -> Any:
        return keys_call("create")

    @app.get("/v1/virtual-keys/<slug>")
    def retrieve(slug: str) -> Any:
        record = keys.store.get(workspace().namespace, slug)
        if record is None:
            return jsonify({"success": False}), 404
        return jsonify(wire.retrieved(record, keys.status(record)))

    @app.put("/v1/virtual-keys/<slug>")
    def update(slug: str) -> Any:
        return keys_call("update", slug=slug)

    @app.delete("/v1/virtual-keys/<slug>")
    def delete(slug: str) -> Any:
        return keys_call("delete", slug=slug)

    return app


def _unchecked(contract: Contract, policy: AccessPolicy, engine: DeclaredResource) -> Callable[..., Any]:
    """A declared resource's engine handlers, called with an unchecked call (no validation)."""
    handlers = engine.handlers()
    ops = engine.declaration.operations

    def call(kind: str, **path: str) -> Any:
        principal = policy.authenticate(request.headers)
        query = {name: int(value) for name, value in request.args.items() if value.isdigit()}
        body = request.get_json() if request.method in ("POST", "PUT") else None
        sent = ValidRequest(contract.operations[ops[kind]], path, query, body)
        return jsonify(handlers[ops[kind]](Call(sent, principal, principal.workspace)))

    return call


def _add_configs(app: Flask, contract: Contract, policy: AccessPolicy) -> None:
    """Configs, served by the resource engine's handlers with an unchecked call (no validation)."""
    declaration = next(d for d in contract.resources if d.name == "config")
    call = _unchecked(contract, policy, DeclaredResource(declaration, MemoryStore()))

    app.add_url_rule("/v1/configs", "list_configs", lambda: call("list"), methods=["GET"])
    app.add_url_rule("/v1/configs", "create_config", lambda: call("create"), methods=["POST"])
    for kind, method in (("retrieve", "GET"), ("update", "PUT"), ("delete", "DELETE")):
        app.add_url_rule(
            "/v1/configs/<slug>",
            f"{kind}_config",
            lambda slug, kind=kind: call(kind, slug=slug),
            methods=[method],
        )
