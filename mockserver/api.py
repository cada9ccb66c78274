"""The API plane: route, judge, fault, authenticate, validate, call the domain, answer.

Routes are derived from the contract's operations (`contract/routing.py`); each operationId's
handler comes from the domain module of its resource (`mockserver.resources`). Every path outside
the control plane (`/__mock/`) is served here, as a plain WSGI app on `mockserver.wsgi`, with no
Flask in between: Flask's request machinery was half of an API request's cost (docs/performance.md).
`app.MockApp` puts this plane in front and mounts the control plane's Flask app under `/__mock`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from mockserver.access import ANONYMOUS, AccessPolicy, Principal, Workspace
from mockserver.contract.document import Contract, Operation
from mockserver.contract.exchange import Exchange, ExchangeVerdict
from mockserver.contract.validation import IncomingRequest, RequestValidator
from mockserver.contract.verdict import RequestJudge, RequestVerdict
from mockserver.errors import ApiError, BodyRefused, ValidationFailed, envelope, no_such_route
from mockserver.faults.apply import apply_fault
from mockserver.faults.plan import NO_FAULT, Faults
from mockserver.journal import entry_for
from mockserver.resources import Call, Resource, handler_table, riding_operations
from mockserver.resources.audit_logs import WRITES, AuditLogs, Write
from mockserver.responses import json_body
from mockserver.state.journal_store import Journal
from mockserver.state.trip import RIDER, PlanIsSet, Rider
from mockserver.violations import Violation
from mockserver.wsgi import (
    Environ,
    ErrorAnswers,
    StartResponse,
    answer,
    bare_query,
    header_pairs,
    incoming,
    origin_of,
    path_of,
    query_of,
)

if TYPE_CHECKING:  # redis is imported only when a mock uses it
    from mockserver.state.outage import StoreWatch


@dataclass
class InFlight:
    """A request being answered: what the pipeline learnt of it so far, for its journal entry."""

    environ: Environ
    sent: IncomingRequest | None = None
    verdict: RequestVerdict | None = None
    rider: Rider | None = None
    principal: Principal | None = None
    """Who sent it, once known: a write with a known caller goes in the audit log."""
    workspace: Workspace | None = None
    placed: bool = False
    """Whether `workspace` was decided (None then means no workspace: an organisation-level call)."""
    _headers: list[tuple[str, str]] | None = None

    def headers(self) -> list[tuple[str, str]]:
        """Its headers as (name, value) pairs, read from the environ once for the journal entry
        and the audit log's entry alike."""
        if self._headers is None:
            self._headers = header_pairs(self.environ)
        return self._headers


class ApiPlane:
    """The WSGI app serving every operation of a contract with the handler a resource declares for
    it: each request is judged and journaled, then any fault applies, then auth, validation and
    the domain.

    `rides`: the store and journal are in one Redis, so a request can ride its store operation's
    trip (the operations a resource lists in its `riding`). `errors`: what any exception answers.
    `watch`: the shared store's watch, told when each request begins and ends (one wait per request).
    `audit`: where every answered write whose caller is known is recorded (`GET /audit-logs`).
    """

    def __init__(
        self,
        contract: Contract,
        validator: RequestValidator,
        policy: AccessPolicy,
        resources: Iterable[Resource],
        journal: Journal | None = None,
        faults: Faults | None = None,
        rides: bool = False,
        not_found_status: int = 404,
        errors: ErrorAnswers | None = None,
        watch: StoreWatch | None = None,
        audit: AuditLogs | None = None,
    ) -> None:
        self.contract = contract
        self.audit = audit
        self.watch = watch
        self.policy = policy
        self.journal = journal
        self.faults = faults
        self.not_found_status = not_found_status
        self.errors = errors or ErrorAnswers()
        self.judge = RequestJudge(contract, validator)
        self.routes = contract.routes
        self._max_body_bytes = validator.max_body_bytes
        self._handlers = handler_table(contract, resources)
        self._riders = riding_operations(resources) if rides else frozenset()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        served = InFlight(environ)
        headers: dict[str, str] | None = None
        if self.watch is not None:
            self.watch.begin()
        try:
            status, body = 200, self._serve(served)
        except Exception as error:
            refused = self.errors(error)
            if isinstance(error, ValidationFailed) and served.verdict is not None:
                served.verdict = served.verdict.refused_by(error.violations)
            status, body, headers = refused.status, json_body(envelope(refused)), refused.headers
        if self.watch is None:
            self._record(served, status)
            self._audit(served, status)
        else:  # one wait per request for a Redis that hangs: none for the journal after a failed call
            if not self.watch.failed():
                self._record(served, status)
                self._audit(served, status)
            self.watch.finish()
        return answer(environ, start_response, status, body, headers)

    def _serve(self, served: InFlight) -> bytes:
        """One request; with Redis, in one trip to it (mockserver/state/trip.py) unless a plan is set."""
        environ = served.environ
        method = environ["REQUEST_METHOD"]
        path = path_of(environ)
        routed = self.routes.match("GET" if method == "HEAD" else method, path)
        if routed is None:
            raise no_such_route(self.routes.allowed(path))
        operation, path_params = routed
        sent = served.sent = incoming(environ, path_params, self._max_body_bytes)
        served.verdict = self.judge.judge(sent, bare_query=bare_query(environ), operation=operation)
        if operation.operation_id not in self._riders:
            return self._pipeline(served, operation, riding=False)
        try:
            return self._pipeline(served, operation, riding=True)
        except PlanIsSet:
            return self._pipeline(served, operation, riding=False)

    def _pipeline(self, served: InFlight, operation: Operation, riding: bool) -> bytes:
        """The pipeline of one judged API request, in the order Portkey answers: a fault, auth (401),
        rate limit (429), scope (403), the contract (400), the workspace, and the domain."""
        environ, sent, verdict = served.environ, served.sent, served.verdict
        assert sent is not None and verdict is not None
        faults = self.faults
        fault = faults.for_request(operation.operation_id, sent.headers, riding) if faults else NO_FAULT
        faulted = apply_fault(fault, environ)
        if faulted is not None:
            return faulted
        with self._riding_along(served, verdict) if riding else nullcontext():
            if operation.public:  # no key asked for, so none to limit or scope, and no workspace
                principal, valid, workspace = ANONYMOUS, verdict.accepted(), None
            else:
                principal = served.principal = self.policy.authenticate(sent.headers)
                if faults is not None:
                    faults.check_rate_limit(principal.api_key, fault.rate_limits)
                self.policy.require(principal, operation.scopes)
                valid = verdict.accepted()
                workspace = served.workspace = self.policy.workspace_of(principal, valid)
                served.placed = True
                if served.rider is not None and self.audit is not None and sent.method in WRITES:
                    self.audit.carry(self._write(served, 0), served.rider)
            result = self._handlers[operation.operation_id](
                Call(valid, principal, workspace, origin_of(environ))
            )
        return result if type(result) is bytes else json_body(result)

    @contextmanager
    def _riding_along(self, served: InFlight, verdict: RequestVerdict) -> Iterator[None]:
        """Hands the store the request's journal entry and the claim that no fault plan is set; an
        error answered before a script checked that claim checks it here, so a fault comes first."""
        assert self.journal is not None and self.faults is not None
        entry = journal_entry(served, verdict, 0, self.contract.secret_fields)
        rider = served.rider = self.journal.rider(entry, self.not_found_status)
        token = RIDER.set(rider)
        try:
            yield
        except ApiError:
            if rider is not None and not rider.journaled and self.faults.plan_is_set():
                raise PlanIsSet() from None
            raise
        finally:
            RIDER.reset(token)

    def _record(self, served: InFlight, status: int) -> None:
        """Journal every API request, answered or not (unless its store trip appended it already)."""
        if self.journal is None or (served.rider is not None and served.rider.journaled):
            return
        verdict = served.verdict or self._judge_unserved(served)
        entry = journal_entry(served, verdict, status, self.contract.secret_fields)
        try:
            self.journal.append(entry)
        except self.errors.unreachable as error:
            self.errors(error)  # noted as an outage; the answer has been decided already

    def _audit(self, served: InFlight, status: int) -> None:
        """Record an answered write in the audit log, once its caller is known (not a 401), unless
        its store trip appended it already."""
        principal, sent = served.principal, served.sent
        if self.audit is None or principal is None or sent is None or sent.method not in WRITES:
            return
        rider = served.rider
        if rider is not None and rider.journaled and rider.audit_entry:
            return
        try:
            self.audit.record(self._write(served, status))
        except self.errors.unreachable as error:
            self.errors(error)  # noted as an outage; the answer has been decided already

    def _write(self, served: InFlight, status: int) -> Write:
        """The audit log's view of an answered write (`status` 0: the store script writes it)."""
        principal, verdict, sent = served.principal, served.verdict, served.sent
        assert principal is not None and sent is not None
        assert verdict is not None and verdict.operation is not None  # a known caller: routed, judged
        environ = served.environ
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        client_ip = forwarded.split(",")[0].strip() if forwarded else environ.get("REMOTE_ADDR", "")
        workspace = served.workspace if served.placed else principal.workspace  # refused first: the key's
        return Write(
            sent.method,
            sent.path,
            sent.query,
            served.headers(),
            verdict.body,
            verdict.operation,
            principal,
            workspace,
            status,
            client_ip,
        )

    def _judge_unserved(self, served: InFlight) -> RequestVerdict:
        """The verdict on a request no route served, or whose body the server did not read whole."""
        environ = served.environ
        try:
            sent = served.sent or incoming(environ, {}, self._max_body_bytes)
            return self.judge.judge(sent, bare_query=bare_query(environ))
        except BodyRefused as error:
            operation = self.contract.operation_for(environ["REQUEST_METHOD"], path_of(environ))
            where, _, rule = error.message.partition(": ")
            return RequestVerdict(
                operation=operation.operation_id if operation else None,
                nearest_operation=None,
                violations=(Violation(where, rule),),
                warnings=(),
                body=None,
                bare_query=bare_query(environ),
            )


def journal_entry(
    served: InFlight,
    verdict: RequestVerdict,
    status: int,
    secret_fields: frozenset[str],
) -> Callable[[], dict[str, Any]]:
    """The journal entry for a request answered with `status`, built when it is read.

    On every request's path, so it only captures: what `incoming()` already read (`sent`) is
    reused, the rest comes from the WSGI environ directly; the exchange, masking and formatting
    wait for a reader.
    """
    environ, sent = served.environ, served.sent
    method = environ["REQUEST_METHOD"]
    return partial(
        _answered_entry,
        verdict,
        status,
        method,
        sent if sent is not None else IncomingRequest(method, path_of(environ), query_of(environ)),
        headers=served.headers(),
        now=datetime.now(UTC),
        body_size=int(environ.get("CONTENT_LENGTH") or 0),
        secret_fields=secret_fields,
    )


def _answered_entry(
    verdict: RequestVerdict, status: int, method: str, sent: IncomingRequest, **captured: Any
) -> dict[str, Any]:
    """The mock's exchange as its journal keeps it: the method as the client sent it (HEAD stays
    HEAD), the status; the mock does not judge its own answers."""
    request = sent if sent.method == method else replace(sent, method=method)
    return entry_for(ExchangeVerdict(Exchange(request, status), verdict), **captured)
