"""The app factory: builds each layer once and wires them into one WSGI app, nothing else."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from mockserver.access import SCOPES, AccessPolicy
from mockserver.api import ApiPlane
from mockserver.config import MockConfig
from mockserver.contract.adapt import ContractUnusable
from mockserver.contract.document import Contract
from mockserver.contract.validation import RequestValidator
from mockserver.control import HEALTH_PATH, ControlParts, health, is_control_path
from mockserver.control.seeding import Seeder
from mockserver.faults.connection import ConnectionFaults
from mockserver.faults.plan import Faults
from mockserver.resources import Resource
from mockserver.resources.analytics import Analytics
from mockserver.resources.api_keys import API_KEY, ROTATE, ApiKeys
from mockserver.resources.audit_logs import AuditLogs
from mockserver.resources.collections import Collections
from mockserver.resources.engine import declared_resources
from mockserver.resources.integrations import INTEGRATION, Integrations
from mockserver.resources.labels import Labels
from mockserver.resources.log_exports import LogExports
from mockserver.resources.logs import Logs
from mockserver.resources.mcp import MCP_INTEGRATION, MCP_SERVER, McpIntegrations, McpServers
from mockserver.resources.model_pricing import ModelPricing
from mockserver.resources.people import People
from mockserver.resources.prompts import Prompts
from mockserver.resources.providers import PROVIDER, Providers
from mockserver.resources.scim import ScimMappings
from mockserver.resources.secret_references import SecretReferences
from mockserver.resources.usage_limits import UsageLimitEntities
from mockserver.resources.virtual_keys import VIRTUAL_KEY, VirtualKeys
from mockserver.responses import json_body
from mockserver.state import State
from mockserver.state.records import Store
from mockserver.wsgi import JSON_TYPE, Environ, ErrorAnswers, HeaderView, StartResponse, WsgiApp, status_line

if TYPE_CHECKING:  # redis is imported only when a mock uses it (50 ms of start-up)
    from flask import Flask  # Flask only when the control plane is built (control/plane.py)
    from werkzeug.test import Client

    from mockserver.state.outage import StoreWatch


class MockApp:
    """What `create_app` returns: one WSGI app whose outer layer is the API's own dispatcher, with
    the control plane's Flask app mounted under `/__mock` (as moto puts its dispatcher in front of
    its Flask apps).

    An API request (any path outside `/__mock`) runs `api.ApiPlane` and no Flask code; a control
    request runs Flask, its blueprints and its hooks. To act on every request, wrap this app in
    WSGI middleware (docs/mock.md); a hook added to `control` sees control requests only.

    The Flask app is built on the first control request other than `GET /__mock/health`, or when
    `control` is first read: until then the readiness probe is answered here, as Flask would
    answer it, so a mock answers without having imported Flask (docs/performance.md).
    """

    def __init__(
        self,
        api: WsgiApp,
        control: ControlParts,
        contract: Contract,
        state: State,
        max_body_bytes: int | None,
        faults: Faults,
    ) -> None:
        self.api = api
        self.max_body_bytes = max_body_bytes
        """The largest body taken (`--max-body-bytes`); the servers enforce it while reading."""
        self._control_parts = control
        self._control: Flask | None = None
        self._building = threading.Lock()  # two first control requests on two threads build it once
        self.contract = contract
        self.state = state
        """What the mock remembers: records, integrations, journal, fault state (`State.reset()`)."""
        self.faults = faults
        self._waits_on_state = not state.in_memory

    @property
    def control(self) -> Flask:
        """The control plane: a Flask app serving `/__mock/...` only, built when first needed."""
        if self._control is None:
            with self._building:
                if self._control is None:
                    self._control = self._control_parts.build()
        return self._control

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # A store that came back is noticed by the next API request that reaches it, or by health.
        path = environ.get("PATH_INFO") or ""
        if not is_control_path(path):
            return self.api(environ, start_response)
        if self._control is None and path == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            return self._health(start_response)
        return self.control(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        """`GET /__mock/health` as the control plane answers it (`control.health`, jsonify's bytes)."""
        parts = self._control_parts
        status, body = health(parts.state.watch, parts.accepts_any_key)
        answer = json_body(body)
        start_response(
            status_line(status), [("Content-Type", JSON_TYPE), ("Content-Length", str(len(answer)))]
        )
        return [answer]

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
        from werkzeug.test import Client  # werkzeug (150 ms) only for a test, off the serve path

        return Client(self)


def create_app(
    config: MockConfig | None = None,
    *,
    store: Store | None = None,
    rate_limit_clock: Callable[[], float] = time.time,
    clock: Callable[[], datetime] | None = None,
) -> MockApp:
    """A mock of the virtual-keys, providers and integrations API and of every resource the contract
    declares; with no arguments, the project's contract and an empty store.

    Every path outside `/__mock` goes to the API's own WSGI app (`api.ApiPlane`), the rest to
    the control plane's Flask app (`MockApp`).

    With `config.store_url` set, records and faults live in Redis under `config.redis_prefix`;
    a `store` passed in replaces the records store either way. `rate_limit_clock` (seconds since
    the epoch) places requests in rate-limit windows: a test passes a fixed one. `clock` (an aware
    datetime) is the time records are stamped with and states computed from (a logs export
    succeeds once it passes the export's start); the system's when not given, a test's to move.
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
    api_keys = ApiKeys(state.resources, ROTATE)
    particulars = {API_KEY: api_keys}
    declared = declared_resources(
        contract.resources, state.store_of, config.not_found_status, particulars, clock
    )
    named = {resource.declaration.name: resource for resource in declared}
    if VIRTUAL_KEY not in named:
        raise ContractUnusable(
            f"{contract.path} declares no virtual keys (`x-portkey-resource` named {VIRTUAL_KEY}): the mock "
            "serves its own openapi.yaml, or a contract made from it"
        )
    keys = VirtualKeys(named[VIRTUAL_KEY])
    resources: list[Resource] = [*declared]
    if INTEGRATION in named:
        integrations = Integrations(named[INTEGRATION], keys, policy, contract.secret_fields)
        resources.append(integrations)  # the grants and models; the engine serves the rest
        if PROVIDER in named:
            Providers(named[PROVIDER], keys, integrations)  # hooks the engine's providers
    api_keys.engine = next((d for d in declared if d.declaration.name == API_KEY), None)
    if api_keys.engine is not None:  # a contract without API keys issues none
        policy.issued = api_keys.principal_of
        resources.append(api_keys)
    people = People.joining(declared)
    if people is not None:
        resources.append(people)
    ScimMappings.joining(declared)  # hooks the engine's mappings, if the contract has them
    if "policy_usage_limits" in named and "listUsageLimitsPolicyEntities" in contract.operations:
        resources.append(UsageLimitEntities(named["policy_usage_limits"], config.not_found_status))
    if "secret-reference" in named:
        references = named["secret-reference"]
        resources.append(SecretReferences(contract, references, state.records, state.integrations))
    collections = Collections(contract, named["collection"]) if "collection" in named else None
    if collections is not None:
        resources.append(collections)
    if "label" in named:
        Labels(contract, named["label"])  # hooks the engine's labels
    if "prompt" in named:
        resources.append(
            Prompts(
                contract, named["prompt"], named.get("partial"), named.get("collection"), named.get("label")
            )
        )
        if collections is not None:
            collections.prompts = named["prompt"]
    logs = Logs(state.resources, config.journal_limit, config.not_found_status)
    if clock is not None:
        logs.clock = clock
    resources.append(logs)
    resources.append(Analytics(logs))  # graphs, summary and groups computed from the logs
    exports = LogExports(contract, named["export"], logs) if "export" in named else None
    if exports is not None:
        resources.append(exports)  # start, cancel, download; the engine serves the rest
    if MCP_INTEGRATION in named:
        resources.append(McpIntegrations(contract, named[MCP_INTEGRATION], policy))
        if MCP_SERVER in named:
            resources.append(
                McpServers(contract, named[MCP_SERVER], named[MCP_INTEGRATION], named.get("user"))
            )
    resources.append(ModelPricing(config.pricing_dir))
    audit = None
    if "listAuditLogs" in contract.operations:  # a contract without it keeps no audit log
        audit = AuditLogs(contract, state.audit)
        if clock is not None:
            audit.clock = clock
        resources.append(audit)
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
        audit,
    )
    if config.seed_path:
        seeder.seed_file(config.seed_path)
    if config.fault_plan is not None:
        faults.set_plan(config.fault_plan)
    control = ControlParts(
        seeder=seeder,
        state=state,
        faults=faults,
        keys=keys,
        declared=declared,
        policy=policy,
        people=people,
        errors=errors,
        secret_fields=contract.secret_fields,
        max_body_bytes=config.max_body_bytes,
        journal_limit=config.journal_limit,
        accepts_any_key=config.keys_path is None,
        control_token=config.control_token,
        log_exports=exports,
        logs=logs,
    )
    return MockApp(ConnectionFaults(api), control, contract, state, config.max_body_bytes, faults)


def _error_answers(watch: StoreWatch | None) -> ErrorAnswers:
    """What an exception answers on either plane; with Redis, its outage is a 503 AB04."""
    if watch is None:
        return ErrorAnswers()
    from mockserver.state.outage import UNREACHABLE

    return ErrorAnswers(UNREACHABLE, watch.lost)
