"""The Flask application factory: builds each layer once and wires them together, nothing else."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from mockserver.access import AccessPolicy
from mockserver.config import MockConfig
from mockserver.contract.document import Contract
from mockserver.contract.validation import RequestValidator
from mockserver.control.routes import Seeder, control_blueprint, journal_blueprint
from mockserver.errors import ApiError, PayloadTooLarge, envelope
from mockserver.faults.connection import ConnectionFaults
from mockserver.faults.plan import Faults
from mockserver.journal import MemoryJournal, RedisJournal
from mockserver.routes import api_blueprint
from mockserver.state.faults import FaultState, MemoryFaultState, RedisFaultState
from mockserver.state.records import MemoryStore, Store
from mockserver.state.records.redis import RedisStore
from mockserver.state.redis_keys import RedisNamespace, connect
from mockserver.virtual_keys import VirtualKeys

log = logging.getLogger("mockserver")


def create_app(config: MockConfig | None = None, *, store: Store | None = None) -> Flask:
    """A mock of the virtual-keys API; with no arguments, the project's contract and an empty store.

    With `config.store_url` set, records and faults live in Redis under `config.redis_prefix`;
    a `store` passed in replaces the records store either way.
    """
    config = config or MockConfig()
    contract = Contract.load(config.contract_path)
    shared = RedisNamespace(connect(config.store_url), config.redis_prefix) if config.store_url else None
    if store is None:
        store = RedisStore(shared) if shared else MemoryStore()
    fault_state: FaultState = RedisFaultState(shared) if shared else MemoryFaultState()
    faults = Faults(contract, fault_state, connection_faults=config.connection_faults)
    validator = RequestValidator(contract, config.max_body_bytes, strict=config.strict)
    policy = AccessPolicy.from_file(config.keys_path) if config.keys_path else AccessPolicy()
    keys = VirtualKeys(store, contract.secret_fields, config.not_found_status)
    seeder = Seeder(contract, validator, policy, keys)
    journal = RedisJournal(shared, config.journal_limit) if shared else MemoryJournal(config.journal_limit)

    app = Flask("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # keep the real service's field order
    app.extensions["mockserver"] = {
        "contract": contract,
        "store": store,
        "keys": keys,
        "seeder": seeder,
        "faults": faults,
        "journal": journal,
    }
    app.register_blueprint(api_blueprint(contract, validator, policy, keys, journal, faults))
    resets = [store.clear, journal.clear, faults.clear]
    any_key = config.keys_path is None
    app.register_blueprint(control_blueprint(seeder, resets, faults, accepts_any_key=any_key))
    app.register_blueprint(journal_blueprint(journal))
    app.wsgi_app = ConnectionFaults(app.wsgi_app)  # type: ignore[method-assign]
    _register_error_handlers(app, config)
    if config.seed_path:
        seeder.seed_file(config.seed_path)
    if config.fault_plan is not None:
        faults.set_plan(config.fault_plan)
    return app


def _register_error_handlers(app: Flask, config: MockConfig) -> None:
    """Every error, expected or not, leaves as Portkey's JSON envelope."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> tuple[Response, int, dict[str, str]]:
        return jsonify(envelope(error)), error.status, error.headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int, dict[str, str]]:
        status = error.code or 500
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if status == 413:
            mapped = PayloadTooLarge(config.max_body_bytes)
        elif status == 404:
            mapped = ApiError("No such endpoint", 404, "AB08")
        elif status == 405:
            mapped = ApiError("Method not allowed on this endpoint", 405, "AB01")
        else:
            mapped = ApiError(error.name, status, "AB01" if status < 500 else "AB04")
        return jsonify(envelope(mapped)), status, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        # The exception type only: its text or traceback may quote a request value.
        log.error("internal error: %s", type(error).__name__)
        return jsonify(envelope(ApiError("Internal error"))), 500
