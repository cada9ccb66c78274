"""The baseline: the same routes, domain and store as the mock, with no contract validation.

What a hand-written Flask app over the same store would cost; the mock is measured against it.
Bodies are read with `request.get_json()` and passed to the domain unchecked.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from mockserver import responses as wire
from mockserver.access import AccessPolicy
from mockserver.contract import Contract
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.state.records import MemoryStore

SECRET_FIELDS = ("key", "azureEntraClientSecret", "awsSecretAccessKey", "vertexServiceAccountJson")


def create_baseline_app() -> Flask:
    app = Flask("baseline")
    app.json.sort_keys = False
    policy = AccessPolicy(Contract.load().require_api_key_header())
    keys = VirtualKeys(MemoryStore(), SECRET_FIELDS)

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
