"""Keeps schemathesis safe to point at staging, and shows the run every exchange it makes.

Schemathesis calls `before_call` before each request it sends: there the request is counted
against the budget, a write aimed at a record the run does not own is sent to an id nobody has,
created keys get the run's name prefix, secrets are replaced by canaries and bodies keep the
rules the contract states in prose. `after_call` hands each answered exchange to the run's checks.
The probes schemathesis's own checks send go straight through its transport, which counts them too.
Both hooks are registered once per process and act only for schemas attached to a run.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import schemathesis
from schemathesis.transport.requests import RequestsTransport

from contracts.strategies import breaks_contract, keep_required_parts, keep_service_rules
from contracts.verify.run import VerifyRun
from mockserver.contract.exchange import Exchange

_RUNS: dict[int, VerifyRun] = {}
_LOCK = threading.Lock()
_NAME_LIMIT = 255
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "QUERY"})
"""Methods that do not change anything on the server (RFC 9110, section 9.2.1)."""


class ReadOnlyViolation(Exception):
    """A read-only run was about to send a request that may write."""


def attach(schema: Any, run: VerifyRun) -> None:
    with _LOCK:
        _RUNS[id(schema)] = run


def detach(schema: Any) -> None:
    with _LOCK:
        _RUNS.pop(id(schema), None)


def _run_for(case: Any) -> VerifyRun | None:
    with _LOCK:
        return _RUNS.get(id(case.operation.schema))


@schemathesis.hook("before_call")
def _before_call(context: Any, case: Any, kwargs: Any) -> None:
    run = _run_for(case)
    if run is not None:
        make_safe(run, case)


@schemathesis.hook("after_call")
def _after_call(context: Any, case: Any, response: Any) -> None:
    run = _run_for(case)
    if run is not None:
        phase = case.meta.phase.name.value if case.meta is not None else "schemathesis"
        run.observe(Exchange.from_requests(response), phase)


def _counted(send: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the transport's `send`: schemathesis's checks send probes of their own (the request again
    without its API key, say) straight through it, past `before_call`, and each must count as sent."""

    @functools.wraps(send)
    def send_counted(transport: Any, case: Any, *args: Any, **kwargs: Any) -> Any:
        run = _run_for(case)
        if run is not None:
            run.count_probe(case.id)
        return send(transport, case, *args, **kwargs)

    return send_counted


RequestsTransport.send = _counted(RequestsTransport.send)  # type: ignore[method-assign]


def make_safe(run: VerifyRun, case: Any) -> None:
    """Count `case` against the budget and rewrite it so it cannot touch what the run does not own."""
    run.budget.take()
    run.sent_case_ids.add(case.id)
    ledger = run.ledger
    method = case.method.upper()
    if run.read_only and method not in SAFE_METHODS:
        raise ReadOnlyViolation(f"{method} {case.operation.path} refused: the run is read-only")
    operation, _ = ledger.classify(method, run.contract_base + case.operation.path)
    parameters = case.path_parameters if case.path_parameters is not None else {}
    # Any write to a record, in the contract or not (PATCH probes), reaches only what the run made:
    # a key's slug, an MCP server's id, a workspace member's ids (an example's value may be real).
    foreign = [
        name
        for name in _naming_records(run, case.operation)
        if name in parameters and not ledger.owns(parameters[name])
    ]
    if method not in SAFE_METHODS and foreign:
        parameters.update(dict.fromkeys(foreign, ledger.absent_slug))
        case.path_parameters = parameters
        run.redirected_case_ids.add(case.id)
    meant_valid = case.meta is None or case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE
    if operation in WRITES_WITH_BODIES and isinstance(case.body, dict):
        own = ledger.own_key((case.path_parameters or {}).get("slug"))
        kept = safe_body(run, operation, case.body, own.provider if own else None)
        if not meant_valid:
            kept = _still_invalid(run, case, kept)
        case.body.clear()
        case.body.update(kept)
    if meant_valid:
        keep_required_parts(case)  # a request meant to be valid sends the part its operation requires


def _naming_records(run: VerifyRun, operation: Any) -> list[str]:
    """The path parameters of a schemathesis `operation` that name a record: all but those whose
    schema lists its values (an API key's `type`), which name a kind of thing."""
    return [
        parameter.name
        for parameter in operation.path_parameters
        if not run.contract.resolve(parameter.definition.get("schema") or {}).get("enum")
    ]


WRITES_WITH_BODIES = frozenset(
    {
        "createVirtualKey",
        "updateVirtualKey",
        "createProvider",
        "updateProvider",
        "createIntegration",
        "updateIntegration",
        "updateIntegrationWorkspaces",
        "updateIntegrationModels",
    }
)
"""Writes whose bodies are made safe: names prefixed, slugs the run's, secrets canaries, no side effects."""


NOT_A_FIELD = "contracts_verify_not_a_field"
"""Added to a body meant to be invalid whose breaks the guard removed (no write body allows it)."""


def _still_invalid(run: VerifyRun, case: Any, kept: dict[str, Any]) -> dict[str, Any]:
    """`kept`, broken again if it was broken as generated and the guard's edits mended it (a name cut
    to its limit, a wrong `workspace_id` or a field of another provider dropped): schemathesis still
    expects it refused, and a field no write body allows keeps it so."""
    operation = run.contract.operation_for(case.method, run.contract_base + case.operation.path)
    if operation is None or breaks_contract(operation.operation_id, kept, run.contract):
        return kept
    if not breaks_contract(operation.operation_id, case.body, run.contract):
        return kept  # it was not the body that made it invalid
    return {**kept, NOT_A_FIELD: True}


def safe_body(
    run: VerifyRun, operation: str, body: dict[str, Any], provider: Any = None, *, keep_rules: bool = True
) -> dict[str, Any]:
    """A create or update body made safe to send: prefixed name, canary secrets, prose rules kept.

    `provider` is that of the key an update is for: deployments, an Azure notion, go to Azure keys only.
    `keep_rules=False` leaves a body that deliberately breaks a prose rule broken.
    """
    ledger = run.ledger
    body = {name: value for name, value in body.items() if name != "workspace_id"}  # stay in own workspace
    secrets = run.contract.body_secrets.get(operation, run.contract.secret_fields)  # its own secrets
    body = _canaries(run, body, secrets)
    given = body.get("name")
    if operation.startswith("create") and isinstance(given, str) and not given.startswith(ledger.name_prefix):
        body["name"] = (ledger.name_prefix + given)[:_NAME_LIMIT]  # a retried request keeps one prefix
    own_slug = isinstance(body.get("slug"), str) and body["slug"].startswith(
        f"contracts-verify-{ledger.run_id}-"
    )
    if operation in ("createProvider", "createIntegration") and "slug" in body and not own_slug:
        body["slug"] = ledger.own_slug("slug")
    if operation in ("createIntegration", "updateIntegrationWorkspaces"):
        # A default provider would be a key the run did not ask for, in a workspace it may not own.
        body.pop("default_provider_slug", None)
        body["create_default_provider"] = False
        grants = body.get("workspaces")
        for grant in grants if isinstance(grants, list) else ():  # a body meant to be invalid: anything
            if isinstance(grant, dict):
                grant.pop("default_provider_slug", None)
                grant["create_default_provider"] = False
    if operation == "updateVirtualKey" and provider != "azure-openai":
        body.pop("deploymentConfig", None)
    body = keep_service_rules(body) if keep_rules else body
    return _own_secret_mappings(run, body)


def _own_secret_mappings(run: VerifyRun, body: dict[str, Any]) -> dict[str, Any]:
    """Every secret mapping names the run's own secret reference; without one the body sends none,
    so the run never points at a secret it did not create."""
    mappings = body.get("secret_mappings")
    if not isinstance(mappings, list):
        return body
    own = run.ledger.secret_reference
    if own is None:
        return {name: value for name, value in body.items() if name != "secret_mappings"}
    for mapping in mappings:
        if isinstance(mapping, dict) and isinstance(mapping.get("secret_reference_id"), str):
            mapping["secret_reference_id"] = own[0]
    return body


def _canaries(run: VerifyRun, value: Any, secrets: frozenset[str]) -> Any:
    """`value` with every secret field (of `secrets`), at any depth, replaced by a fresh canary."""
    if isinstance(value, list):
        return [_canaries(run, item, secrets) for item in value]
    if not isinstance(value, dict):
        return value
    replaced = {}
    for name, inner in value.items():
        if name in secrets and isinstance(inner, str) and inner:
            inner = run.ledger.canary()
        elif name in secrets and isinstance(inner, dict):
            inner = {"type": "service_account", "private_key": run.ledger.canary()}
        else:
            inner = _canaries(run, inner, secrets)
        replaced[name] = inner
    return replaced
