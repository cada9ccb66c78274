"""HTTP in and out for `/v1`: authenticate, validate against the contract, call the domain, answer.

Routes are derived from the contract's operations; each operationId's handler comes from the domain
module of its resource (`mockserver.resources`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from functools import partial
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from mockserver.access import AccessPolicy
from mockserver.contract.document import Contract, Operation
from mockserver.contract.validation import IncomingRequest, RequestValidator
from mockserver.contract.verdict import RequestJudge, RequestVerdict
from mockserver.errors import ApiError, PayloadTooLarge
from mockserver.faults.apply import apply_fault
from mockserver.faults.plan import NO_FAULT, Faults
from mockserver.journal import entry_for
from mockserver.resources import Call, Resource, handler_table, riding_operations
from mockserver.state.journal import Journal
from mockserver.state.trip import RIDER, PlanIsSet
from mockserver.violations import Violation


def api_blueprint(
    contract: Contract,
    validator: RequestValidator,
    policy: AccessPolicy,
    resources: Iterable[Resource],
    journal: Journal | None = None,
    faults: Faults | None = None,
    rides: bool = False,
    not_found_status: int = 404,
) -> Blueprint:
    """A blueprint serving every operation of `contract` with the handler a resource declares for
    it: each request is judged and journaled, then any fault applies, then auth, validation and the
    domain.

    `rides`: the store and journal are in one Redis, so a request can ride its store operation's trip
    (the operations a resource lists in its `riding`).
    """
    handlers = handler_table(contract, resources)
    riders = riding_operations(resources)
    blueprint = Blueprint("api", __name__)
    judge = RequestJudge(contract, validator)

    def serve(operation: Operation, **path_params: str) -> Response:
        """One request; with Redis, in one trip to it (mockserver/state/trip.py) unless a plan is set."""
        if not rides or operation.operation_id not in riders:
            return serve_once(operation, path_params, riding=False)
        try:
            return serve_once(operation, path_params, riding=True)
        except PlanIsSet:
            return serve_once(operation, path_params, riding=False)

    def serve_once(operation: Operation, path_params: dict[str, str], riding: bool) -> Response:
        """The pipeline of one API request, in the order Portkey answers: judged and journaled
        first, then a fault, auth (401), rate limit (429), scope (403), the contract (400), the
        workspace, and the domain."""
        sent = g.incoming = incoming(path_params)
        verdict = g.verdict = judge.judge(sent, bare_query=bare_query(), operation=operation)
        fault = faults.for_request(operation.operation_id, sent.headers, riding) if faults else NO_FAULT
        faulted = apply_fault(fault)
        if faulted is not None:
            return faulted
        with riding_along(verdict) if riding else nullcontext():
            principal = policy.authenticate(sent.headers)
            if faults is not None:
                faults.check_rate_limit(principal.api_key, fault.rate_limits)
            policy.require(principal, operation.scopes)
            valid = verdict.accepted()
            workspace = policy.workspace_of(principal, valid)
            answer = handlers[operation.operation_id](Call(valid, principal, workspace))
        return Response(answer, mimetype="application/json") if type(answer) is bytes else jsonify(answer)

    @contextmanager
    def riding_along(verdict: RequestVerdict) -> Iterator[None]:
        """Hands the store the request's journal entry and the claim that no fault plan is set; an
        error answered before a script checked that claim checks it here, so a fault comes first."""
        assert journal is not None and faults is not None
        entry = journal_entry(verdict, 0, contract.secret_fields)
        rider = g.rider = journal.rider(entry, not_found_status)
        token = RIDER.set(rider)
        try:
            yield
        except ApiError:
            if rider is not None and not rider.journaled and faults.plan_is_set():
                raise PlanIsSet() from None
            raise
        finally:
            RIDER.reset(token)

    for operation in contract.operations.values():
        blueprint.add_url_rule(
            _flask_rule(operation.path),
            endpoint=operation.operation_id,
            view_func=_bind(serve, operation),
            methods=[operation.method.upper()],
            provide_automatic_options=False,  # an OPTIONS answer would not be JSON: 405 instead
        )

    if journal is not None:

        @blueprint.after_app_request
        def record(response: Response) -> Response:
            """Journal every API request, answered or not; the control plane is not journaled."""
            if request.path.startswith(CONTROL_PREFIX):
                return response
            rider = g.get("rider")
            if rider is not None and rider.journaled:  # appended in the store operation's trip
                return response
            verdict: RequestVerdict | None = g.get("verdict")
            if verdict is None:  # no route matched, or the body was too large to read
                verdict = _judge_unserved(judge)
            journal.append(journal_entry(verdict, response.status_code, contract.secret_fields))
            return response

    return blueprint


CONTROL_PREFIX = "/__mock"


def incoming(path_params: dict[str, str]) -> IncomingRequest:
    """The current Flask request as the validator sees it.

    On every request's path, so it reads the WSGI environ once and parses only what is there:
    no query string, no body, and headers only when someone asks for them.
    """
    environ = request.environ
    has_body = bool(environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING"))
    try:
        body = request.get_data(cache=True) if has_body else b""
    except RequestEntityTooLarge:
        raise PayloadTooLarge(request.max_content_length or 0) from None
    method = environ["REQUEST_METHOD"]
    return IncomingRequest(
        method="GET" if method == "HEAD" else method,  # HEAD is GET without a body
        path=request.path,
        query=request.args.to_dict(flat=False) if environ.get("QUERY_STRING") else {},
        headers=HeaderView(request.headers),
        body=body,
        content_type=environ.get("CONTENT_TYPE"),
        path_params=path_params,
    )


def bare_query() -> bool:
    """Whether the request's URL ended in a `?` with nothing after it (the Python SDK's `list()`)."""
    raw_uri = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or ""
    return raw_uri.endswith("?") and raw_uri.count("?") == 1


def journal_entry(
    verdict: RequestVerdict,
    status: int,
    secret_fields: frozenset[str],
    source: str = "mock",
    response_violations: list[Violation] | None = None,
) -> Callable[[], dict[str, Any]]:
    """The journal entry for the current request, answered with `status`, built when it is read.

    On every request's path, so it only captures: what `incoming()` already read is reused, the
    rest comes from the WSGI environ directly; masking and formatting wait for a reader.
    """
    sent: IncomingRequest | None = g.get("incoming")
    environ = request.environ
    return partial(
        entry_for,
        verdict,
        method=environ["REQUEST_METHOD"],
        path=request.path,
        query=sent.query if sent is not None else request.args.to_dict(flat=False),
        headers=_header_pairs(environ),
        now=datetime.now(UTC),
        body_size=int(environ.get("CONTENT_LENGTH") or 0),
        status=status,
        secret_fields=secret_fields,
        source=source,
        response_violations=response_violations,
    )


def _header_pairs(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request's headers as (name, value) pairs, read straight from the WSGI environ."""
    pairs = [(name[5:].replace("_", "-"), value) for name, value in environ.items() if name[:5] == "HTTP_"]
    pairs += [(name.replace("_", "-"), environ[name]) for name in _BODY_HEADERS if environ.get(name)]
    return pairs


_BODY_HEADERS = ("CONTENT_TYPE", "CONTENT_LENGTH")


def _judge_unserved(judge: RequestJudge) -> RequestVerdict:
    try:
        return judge.judge(incoming({}), bare_query=bare_query())
    except PayloadTooLarge as error:
        operation = judge.contract.operation_for(request.method, request.path)
        where, _, rule = error.message.partition(": ")
        return RequestVerdict(
            operation.operation_id if operation else None,
            None,
            (Violation(where, rule),),
            (),
            None,
            bare_query(),
        )


class HeaderView(Mapping[str, str]):
    """A request's headers as a read-only mapping, read from the WSGI environ only when asked.

    Copying every header into a dict cost a third of the validator's share of a request.
    """

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        value = self._headers.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers.keys())

    def __len__(self) -> int:
        return len(self._headers)


def _bind(serve: Callable[..., Response], operation: Operation) -> Callable[..., Response]:
    def view(**path_params: str) -> Response:
        return serve(operation, **path_params)

    return view


def _flask_rule(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", r"<\1>", template)
