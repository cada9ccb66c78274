"""The Flask application factory: builds each layer once and wires them together, nothing else."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from mockserver.access import AccessPolicy
from mockserver.config import MockConfig
from mockserver.contract.document import Contract
from mockserver.contract.validation import RequestValidator
from mockserver.control.dashboard import dashboard_blueprint
from mockserver.control.routes import control_blueprint, journal_blueprint, store_blueprint
from mockserver.control.seeding import Seeder
from mockserver.control.token import require_control_token
from mockserver.errors import ApiError, PayloadTooLarge, envelope
from mockserver.faults.connection import ConnectionFaults
from mockserver.faults.plan import Faults
from mockserver.resources.integrations import Integrations
from mockserver.resources.providers import Providers
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.routes import ApiRoutes, Planes
from mockserver.state import State
from mockserver.state.records import Store

if TYPE_CHECKING:  # redis is imported only when a mock uses it (50 ms of start-up)
    from mockserver.state.outage import StoreWatch

log = logging.getLogger("mockserver")


def create_app(
    config: MockConfig | None = None,
    *,
    store: Store | None = None,
    rate_limit_clock: Callable[[], float] = time.time,
) -> Flask:
    """A mock of the virtual-keys, providers and integrations API; with no arguments, the project's
    contract and an empty store.

    The Flask app serves the control plane; every other path goes to the API's own WSGI app
    (`routes.ApiRoutes`), which the Flask app's `wsgi_app` hands requests to.

    With `config.store_url` set, records and faults live in Redis under `config.redis_prefix`;
    a `store` passed in replaces the records store either way. `rate_limit_clock` (seconds since
    the epoch) places requests in rate-limit windows: a test passes a fixed one.
    """
    config = config or MockConfig()
    contract = Contract.load(config.contract_path)
    state = State.build(config.store_url, config.redis_prefix, config.journal_limit, store)
    faults = Faults(
        contract, state.faults, clock=rate_limit_clock, connection_faults=config.connection_faults
    )
    validator = RequestValidator(contract, config.max_body_bytes, strict=config.strict)
    api_key_header = contract.require_api_key_header()
    policy = AccessPolicy(api_key_header)
    if config.keys_path:
        policy = AccessPolicy.from_file(api_key_header, config.keys_path)
    keys = VirtualKeys(state.records, contract.secret_fields, config.not_found_status)
    integrations = Integrations(state.integrations, keys, policy, contract.secret_fields)
    resources = (keys, Providers(keys, integrations), integrations)
    seeder = Seeder(contract, validator, policy, keys)

    api = ApiRoutes(
        contract,
        validator,
        policy,
        resources,
        state.journal,
        faults,
        state.rides,
        config.not_found_status,
        state.watch,
    )
    app = Flask("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the service's field order
    any_key = config.keys_path is None
    app.register_blueprint(
        control_blueprint(seeder, state.reset, faults, accepts_any_key=any_key, store=state.watch)
    )
    app.register_blueprint(journal_blueprint(state.journal))
    app.register_blueprint(store_blueprint(keys, policy, state.integrations))
    app.register_blueprint(dashboard_blueprint(contract.secret_fields, config.journal_limit))
    if config.control_token:
        require_control_token(app, config.control_token)
    app.wsgi_app = ConnectionFaults(Planes(api, app.wsgi_app))  # type: ignore[method-assign]
    _register_error_handlers(app, config)
    if state.watch is not None:
        _register_outage_handlers(app, state.watch)
    if config.seed_path:
        seeder.seed_file(config.seed_path)
    if config.fault_plan is not None:
        faults.set_plan(config.fault_plan)
    return app


def _register_outage_handlers(app: Flask, watch: StoreWatch) -> None:
    """Redis unreachable: 503 AB04 with `Retry-After`, one log line; back: noticed by the next API
    request or health check that reaches it."""
    from mockserver.state.outage import UNREACHABLE

    def store_unreachable(error: Exception) -> tuple[Response, int, dict[str, str]]:
        answer = watch.lost(error)
        return jsonify(envelope(answer)), answer.status, answer.headers

    for kind in UNREACHABLE:
        app.register_error_handler(kind, store_unreachable)


_HTTP_MESSAGES = {404: "No such endpoint", 405: "Method not allowed on this endpoint"}


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
            mapped: ApiError = PayloadTooLarge(config.max_body_bytes)
        else:
            mapped = ApiError.for_status(_HTTP_MESSAGES.get(status, error.name), status)
        return jsonify(envelope(mapped)), status, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        # The exception type only: its text or traceback may quote a request value.
        log.error("internal error: %s", type(error).__name__)
        return jsonify(envelope(ApiError("Internal error"))), 500
