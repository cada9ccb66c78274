"""The app factory: builds each layer once and wires them into one WSGI app, nothing else."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response
from werkzeug.test import Client

from mockserver.access import SCOPES, AccessPolicy
from mockserver.api import ApiPlane
from mockserver.config import MockConfig
from mockserver.contract.document import Contract
from mockserver.contract.validation import RequestValidator
from mockserver.control import is_control_path
from mockserver.control.dashboard import dashboard_blueprint
from mockserver.control.routes import (
    control_blueprint,
    invites_blueprint,
    journal_blueprint,
    store_blueprint,
)
from mockserver.control.seeding import Seeder
from mockserver.control.token import require_control_token
from mockserver.errors import envelope
from mockserver.faults.connection import ConnectionFaults
from mockserver.faults.plan import Faults
from mockserver.jsontext import FlaskJson
from mockserver.resources import Resource
from mockserver.resources.api_keys import API_KEY, ROTATE, ApiKeys
from mockserver.resources.engine import declared_resources
from mockserver.resources.integrations import Integrations
from mockserver.resources.people import People
from mockserver.resources.providers import Providers
from mockserver.resources.scim import ScimMappings
from mockserver.resources.secret_references import SecretReferences
from mockserver.resources.usage_limits import UsageLimitEntities
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.responses import json_body
from mockserver.state import State
from mockserver.state.records import Store
from mockserver.wsgi import JSON_TYPE, Environ, ErrorAnswers, HeaderView, StartResponse, WsgiApp

if TYPE_CHECKING:  # redis is imported only when a mock uses it (50 ms of start-up)
    from mockserver.state.outage import StoreWatch


class MockApp:
    """What `create_app` returns: one WSGI app whose outer layer is the API's own dispatcher, with
    the control plane's Flask app mounted under `/__mock` (as moto puts its dispatcher in front of
    its Flask apps).

    An API request (any path outside `/__mock`) runs `api.ApiPlane` and no Flask code; a control
    request runs Flask, its blueprints and its hooks. To act on every request, wrap this app in
    WSGI middleware (docs/mock.md); a hook added to `control` sees control requests only.
    """

    def __init__(
        self,
        api: WsgiApp,
        control: Flask,
        contract: Contract,
        state: State,
        max_body_bytes: int | None,
        faults: Faults,
    ) -> None:
        self.api = api
        self.max_body_bytes = max_body_bytes
        """The largest body taken (`--max-body-bytes`); the servers enforce it while reading."""
        self.control = control
        """The control plane: a Flask app serving `/__mock/...` only."""
        self.contract = contract
        self.state = state
        """What the mock remembers: records, integrations, journal, fault state (`State.reset()`)."""
        self.faults = faults
        self._waits_on_state = not state.in_memory

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # A store that came back is noticed by the next API request that reaches it, or by health.
        if is_control_path(environ.get("PATH_INFO") or ""):
            return self.control(environ, start_response)
        return self.api(environ, start_response)

    def may_block(self, environ: Environ) -> bool:
        """Whether answering this request may wait rather than compute: on I/O (a store outside this
        process; the control plane, which reads files and pings Redis) or on a fault that delays
        it or breaks its connection. Nothing else in the mock waits, so a server with an event
        loop runs every other request inline and only these on its threads (serving/granian.py),
        and one delayed request or slow Redis call holds one thread, never the other clients."""
        if self._waits_on_state or is_control_path(environ.get("PATH_INFO") or ""):
            return True
        return self.faults.may_hold(HeaderView(environ))

    def test_client(self) -> Client:
        """A client calling this app in process, no server (werkzeug's, as Flask's test client is)."""
        return Client(self)


def create_app(
    config: MockConfig | None = None,
    *,
    store: Store | None = None,
    rate_limit_clock: Callable[[], float] = time.time,
) -> MockApp:
    """A mock of the virtual-keys, providers and integrations API and of every resource the contract
    declares; with no arguments, the project's contract and an empty store.

    Every path outside `/__mock` goes to the API's own WSGI app (`api.ApiPlane`), the rest to
    the control plane's Flask app (`MockApp`).

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
    scopes = SCOPES | contract.scopes
    policy = AccessPolicy(api_key_header, scopes=scopes)
    if config.keys_path:
        policy = AccessPolicy.from_file(api_key_header, config.keys_path, scopes)
    keys = VirtualKeys(state.records, contract.secret_fields, config.not_found_status)
    integrations = Integrations(state.integrations, keys, policy, contract.secret_fields)
    api_keys = ApiKeys(state.resources, ROTATE)
    particulars = {API_KEY: api_keys}
    declared = declared_resources(contract.resources, state.resources, config.not_found_status, particulars)
    resources: list[Resource] = [keys, Providers(keys, integrations), integrations, *declared]
    api_keys.engine = next((d for d in declared if d.declaration.name == API_KEY), None)
    if api_keys.engine is not None:  # a contract without API keys issues none
        policy.issued = api_keys.principal_of
        resources.append(api_keys)
    people = People.joining(declared)
    if people is not None:
        resources.append(people)
    scim = ScimMappings.joining(declared)
    if scim is not None:
        resources.append(scim)
    named = {resource.declaration.name: resource for resource in declared}
    if "policy_usage_limits" in named and "listUsageLimitsPolicyEntities" in contract.operations:
        resources.append(UsageLimitEntities(named["policy_usage_limits"], config.not_found_status))
    if "secret-reference" in named:
        references = named["secret-reference"]
        resources.append(SecretReferences(contract, references, state.records, state.integrations))
    seeder = Seeder(contract, validator, policy, keys)

    errors = _error_answers(state.watch)
    api = ApiPlane(
        contract,
        validator,
        policy,
        resources,
        state.journal,
        faults,
        state.rides,
        config.not_found_status,
        errors,
        state.watch,
    )
    app = Flask("mockserver")
    app.json = FlaskJson(app)  # strict JSON, in the service's field order
    any_key = config.keys_path is None
    app.register_blueprint(
        control_blueprint(
            seeder,
            state.reset,
            config.max_body_bytes,
            faults,
            accepts_any_key=any_key,
            store=state.watch,
        )
    )
    app.register_blueprint(journal_blueprint(state.journal))
    app.register_blueprint(store_blueprint(keys, policy, state.integrations))
    if people is not None:
        app.register_blueprint(invites_blueprint(people, policy, config.max_body_bytes))
    app.register_blueprint(dashboard_blueprint(contract.secret_fields, config.journal_limit))
    if config.control_token:
        require_control_token(app, config.control_token)
    _answer_errors(app, errors)
    if config.seed_path:
        seeder.seed_file(config.seed_path)
    if config.fault_plan is not None:
        faults.set_plan(config.fault_plan)
    return MockApp(ConnectionFaults(api), app, contract, state, config.max_body_bytes, faults)


def _error_answers(watch: StoreWatch | None) -> ErrorAnswers:
    """What an exception answers on either plane; with Redis, its outage is a 503 AB04."""
    if watch is None:
        return ErrorAnswers()
    from mockserver.state.outage import UNREACHABLE

    return ErrorAnswers(UNREACHABLE, watch.lost)


def _answer_errors(app: Flask, errors: ErrorAnswers) -> None:
    """Every error of the control plane, expected or not, leaves as the API's would."""

    @app.errorhandler(Exception)
    def refused(error: Exception) -> Response:
        answer = errors(error)
        return Response(json_body(envelope(answer)), answer.status, answer.headers, content_type=JSON_TYPE)
