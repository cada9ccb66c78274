"""`contracts verify`: does a service (staging, a self-hosted control plane, the mock) keep to the contract?

Schemathesis runs its examples, coverage, fuzzing and stateful phases with all its checks; the run's
own lifecycle phase then walks each provider case through its life in order. Every exchange is
judged by `contracts.checks` too. Whatever happens, the keys the run created are deleted at the end.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
import schemathesis
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for
from schemathesis.schemas import BaseSchema

from contracts.strategies import PROVIDER_CASES
from contracts.verify import guard
from contracts.verify.declared import run_declared_lifecycles
from contracts.verify.ledger import lifecycle_resources
from contracts.verify.lifecycle import Client, run_lifecycle
from contracts.verify.logs import WRITES, run_logs_lifecycle
from contracts.verify.mcp import run_mcp_lifecycle
from contracts.verify.prompts import run_prompt_lifecycle
from contracts.verify.report import VerifyResult, write_html, write_json, write_junit, write_terminal
from contracts.verify.run import (
    PERMANENT_WRITES_OPTION,
    PHASES,
    SAMPLED_PHASES,
    SCHEMATHESIS_PHASES,
    Budget,
    BudgetExhausted,
    ContractNotForVerify,
    ServiceUnreachable,
    VerifyRun,
    contract_to_verify,
    read_contract,
    sampled_reads,
    untested_note,
)
from mockserver.contract.document import Contract, ContractUnusable
from mockserver.contract.exchange import Exchange

PROBES_PER_SCENARIO = 3
"""Requests schemathesis's checks may add to one of its own (auth probes, a control request)."""
RESOURCE_CHECKS = frozenset({"ensure_resource_availability", "use_after_free"})
"""Schemathesis checks that judge which slug a write reached; moot for writes the guard redirected."""
ACCEPTANCE_CHECK = "positive_data_acceptance"
"""Schemathesis's check that a request meant to be valid is accepted; a stated state rule excepted."""
FREED_CHECK = "use_after_free"
"""Schemathesis's check that a deleted resource answers 404; a DELETE of named items excepted."""
_PROGRESS = {Status.SUCCESS: ".", Status.FAILURE: "F", Status.ERROR: "E", Status.SKIP: "s"}


@dataclass(frozen=True)
class VerifyOptions:
    base_url: str
    api_key: str
    second_api_key: str | None = None
    max_examples: int = 20
    seed: int | None = None
    workers: int = 1
    read_only: bool = False
    max_requests: int | None = None
    phases: tuple[str, ...] = PHASES
    provider_cases: tuple[str, ...] = tuple(PROVIDER_CASES)
    junit_xml: Path | None = None
    json_report: Path | None = None
    html_report: Path | None = None
    contract_path: Path | None = None
    request_timeout: float = 30.0
    permanent_writes: bool = False
    """Also drive what cannot be deleted afterwards (`logs.py`): a service you own, never shared staging."""


def verify(options: VerifyOptions, out: TextIO | None = None) -> VerifyResult:
    """Run every enabled phase against `options.base_url`; raises `ServiceUnreachable` before any write."""
    out = out or sys.stdout
    try:
        whole = read_contract(options.contract_path)
        permanent = WRITES if options.permanent_writes and not options.read_only else ()
        contract = contract_to_verify(whole, permanent)
    except ContractUnusable as unusable:
        raise ContractNotForVerify(str(unusable)) from None
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    budget = Budget(options.max_requests)
    run = VerifyRun(options.base_url, contract, budget, seed, options.read_only, permanent)
    client = Client(run, options.request_timeout)
    print(f"contracts verify {run.base_url} (run {run.ledger.run_id}, seed {seed})", file=out, flush=True)
    for problem in contract.problems:
        print(f"warning: the contract: {problem}", file=out, flush=True)
    untested = untested_note(whole, permanent)
    if untested:
        run.result.notes.append(untested)
    if options.permanent_writes and options.read_only:
        run.result.notes.append(
            f"{PERMANENT_WRITES_OPTION} ignored: the run is read-only, nothing is written"
        )
    try:
        _preflight(client, options)
        _learn_auth_mode(run, client)
        if set(options.phases) & set(SCHEMATHESIS_PHASES):
            _schemathesis_phases(run, options, out)
        if "lifecycle" in options.phases and not run.result.interrupted:
            print("phase lifecycle", file=out, flush=True)
            run_lifecycle(
                run,
                client,
                options.api_key,
                options.second_api_key,
                options.read_only,
                out,
                options.provider_cases,
            )
            if not options.read_only:
                run_declared_lifecycles(run, client, options.api_key, options.second_api_key, out)
                run_prompt_lifecycle(run, client, options.api_key, out)
                run_mcp_lifecycle(run, client, options.api_key, out)
                if run.permanent_writes:
                    run_logs_lifecycle(run, client, options.api_key, out)
    except BudgetExhausted as spent:
        _note_once(run, f"stopped early: {spent}")  # schemathesis's phases may have said it already
    except httpx.TransportError as error:
        run.result.errors.append(f"the service stopped answering ({type(error).__name__})")
    except KeyboardInterrupt:
        run.result.interrupted = True
    finally:
        _clean_up(run, client, out)
        client.close()
    write_terminal(run.result, out)
    if options.junit_xml:
        write_junit(run.result, options.junit_xml)
    if options.json_report:
        write_json(run.result, options.json_report)
    if options.html_report:
        write_html(run.result, options.html_report)
    return run.result


def _preflight(client: Client, options: VerifyOptions) -> None:
    """One list call per API key: is anything there, and does it take the key?"""
    for key in filter(None, (options.api_key, options.second_api_key)):
        try:
            seen = client.send("GET", "/virtual-keys", key)
        except httpx.TransportError as error:
            raise ServiceUnreachable(
                f"{client.run.base_url} is unreachable ({type(error).__name__})"
            ) from None
        status = seen.exchange.status
        if status == 401:
            raise ServiceUnreachable("the service refused the API key (401)")
        if status == 404:
            raise ServiceUnreachable(
                f"{client.run.base_url}/virtual-keys answers 404: is the base URL right?"
            )


def _learn_auth_mode(run: VerifyRun, client: Client) -> None:
    """Ask whether the service is a Portkey mock that accepts any API key by design (no keys file).

    Only such a mock answers `/__mock/health` with `"auth": "any-key"`; for it an unknown key is not
    a defect, so the unknown-key probes are skipped and the report says so. A missing API key must
    still be refused. Any other answer (a real service has no `/__mock`) keeps every auth check.
    """
    root = run.base_url.removesuffix(run.contract_base)  # the mock serves /v1 and /__mock side by side
    run.budget.take()  # the service receives it
    try:
        answer = client.http.get(f"{root}/__mock/health")
        says = answer.json().get("auth") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        says = None
    if says == "any-key":
        run.accepts_any_key = True
        run.result.notes.append(
            "the service is a Portkey mock that accepts any API key by design (its /__mock/health says "
            "so): unknown-key probes were skipped; requests without a key were still checked"
        )


def _schemathesis_phases(run: VerifyRun, options: VerifyOptions, out: TextIO) -> None:
    phases: dict[str, Any] = {name: {"enabled": name in options.phases} for name in SCHEMATHESIS_PHASES}
    checks: dict[str, Any] = {}
    if run.accepts_any_key:
        checks["ignored_auth"] = {"enabled": False}  # it sends made-up keys; the lifecycle sends none
    if options.read_only:
        # Sending a read endpoint another method (PUT, DELETE, PATCH) could write: safe methods only.
        phases["coverage"]["unexpected-methods"] = ["options", "query", "trace"]
        checks["unsupported_method"] = {"enabled": False}
    config = schemathesis.Config.from_dict(
        {
            "seed": run.result.seed,
            "base-url": run.base_url,
            "headers": {run.api_key_header: options.api_key},
            "workers": options.workers,
            "rate-limit": "auto",  # on a 429, wait as long as Retry-After says, then retry
            "request-timeout": options.request_timeout,
            # No example database: examples a past run saved would be replayed first, so one seed
            # would not repeat a run.
            "generation": {"max-examples": options.max_examples, "mode": "all", "database": "none"},
            "phases": phases,
            "checks": checks,
            "operations": _sampled(run),
        }
    )
    schema: BaseSchema = schemathesis.openapi.from_dict(run.contract.document, config=config)
    scenarios = left_to_the_lifecycle(run.contract, run.permanent_writes)
    if scenarios:
        schema = schema.exclude(operation_id=scenarios)
    if options.read_only:  # an exclude: schemathesis joins includes by "or" once `operations` are set
        writes = {op.method.upper() for op in run.contract.operations.values()} - guard.SAFE_METHODS
        schema = schema.exclude(method=sorted(writes))
    guard.attach(schema, run)
    run.budget.headroom = PROBES_PER_SCENARIO * options.workers
    stream = engine_for(schema).execute()
    try:
        for event in stream:
            _on_event(event, run, out, stream)
    except KeyboardInterrupt:
        stream.stop()
        run.result.interrupted = True
    finally:
        guard.detach(schema)
        run.budget.headroom = 0


def left_to_the_lifecycle(contract: Contract, permanent_writes: Collection[str] = ()) -> list[str]:
    """The operationIds schemathesis never sends, the run's own scenarios drive them: declared
    resources' writes (the guard cannot yet keep one to a record the run made: an id it read from a
    list, say) and the permanent writes (the scenario marks them with the run id). A declared
    resource's reads are safe on any service: schemathesis tests them as any other."""
    methods = {op.operation_id: op.method.upper() for op in contract.operations.values()}
    declared = {op for resource in lifecycle_resources(contract) for op in resource.operations.values()}
    return sorted({op for op in declared if methods[op] not in guard.SAFE_METHODS} | set(permanent_writes))


def _sampled(run: VerifyRun) -> list[dict[str, Any]]:
    """Schemathesis's settings for the reads it tests in `SAMPLED_PHASES` only."""
    reads = sorted(sampled_reads(run.contract))
    if not reads:
        return []
    off = {name: {"enabled": False} for name in SCHEMATHESIS_PHASES if name not in SAMPLED_PHASES}
    return [{"include-operation-id": reads, "phases": off}]


def _on_event(event: Any, run: VerifyRun, out: TextIO, stream: Any) -> None:
    if isinstance(event, events.PhaseStarted) and event.phase.is_enabled:
        print(f"phase {event.phase.name.value} ", end="", file=out, flush=True)
    elif isinstance(event, events.PhaseFinished) and event.phase.is_enabled:
        print(file=out, flush=True)
        _charge_probes(event, run)
    elif isinstance(event, events.ScenarioFinished):
        failed = _schemathesis_checks(event, run)  # a failure of schemathesis's may have been set aside
        mark = "F" if failed else "." if event.status == Status.FAILURE else _PROGRESS.get(event.status, "?")
        print(mark, end="", file=out, flush=True)
    elif isinstance(event, events.NonFatalError):
        spent = event.value if isinstance(event.value, BudgetExhausted) else event.value.__cause__
        if isinstance(spent, BudgetExhausted):  # raised in the guard, wrapped by schemathesis
            _note_once(run, f"stopped early: {spent}")
            stream.stop()
        else:  # with what raised, so a hook's or the service's error can be acted on
            raised = spent or event.value
            detail = f"{type(raised).__name__}: {str(raised)[:300]}"
            run.result.errors.append(run.ledger.redact(f"{event.label}: {event.info.title} ({detail})"))
    elif isinstance(event, events.FatalError):
        run.result.errors.append(run.ledger.redact(f"schemathesis stopped: {type(event.exception).__name__}"))
    elif isinstance(event, events.Interrupted) and not run.budget.exhausted:
        run.result.interrupted = True  # by the user, not by the budget


def _charge_probes(event: Any, run: VerifyRun) -> None:
    """The probing phase's requests (what the server supports) count against the budget too."""
    payload = event.payload.ok() if hasattr(event.payload, "ok") else None
    sent = [probe for probe in getattr(payload, "probes", []) if probe.request is not None]
    run.budget.charge(len(sent))
    for _ in sent:
        run.result.requests["(schemathesis probing)"] += 1


def _schemathesis_checks(event: Any, run: VerifyRun) -> bool:
    """What schemathesis's own checks found in one scenario, counted as passes and findings; any failure?"""
    recorder = event.recorder
    failed = False
    probes = [i for case_id, i in recorder.interactions.items() if case_id not in run.sent_case_ids]
    uncounted = [c for c in recorder.interactions if c not in run.sent_case_ids | run.probe_case_ids]
    run.budget.charge(len(uncounted))  # sent some other way than the transport: counted late
    for interaction in probes:
        if interaction.response is not None:
            run.observe(Exchange.from_requests(interaction.response), event.phase.value)
    for case_id, nodes in recorder.checks.items():
        case_node = recorder.cases.get(case_id)
        label = case_node.value.operation.label if case_node else "unknown operation"
        redirected = case_id in run.redirected_case_ids
        for node in nodes:
            if redirected and node.name in RESOURCE_CHECKS:
                continue  # the guard chose the slug: its 404 says nothing about the created resource
            if node.status == Status.SUCCESS:
                run.count_pass(node.name)
            elif node.status == Status.FAILURE and node.failure_info is not None:
                exchange = _exchange_of(recorder.interactions.get(case_id))
                if _expected_by_contract(run, node, exchange):
                    run.count_pass(node.name)
                    continue
                failure = node.failure_info.failure
                message = f"{failure.title}: {failure.message}".strip().rstrip(":")
                run.add_failure(node.name, label, " ".join(message.split()), event.phase.value, exchange)
                failed = True
    return failed


def _expected_by_contract(run: VerifyRun, node: Any, exchange: Exchange | None) -> bool:
    """Whether what a schemathesis check calls a failure is what the contract says happens: a 400
    naming a stated state rule, or a read after a DELETE that removed only the items it named."""
    if node.name == ACCEPTANCE_CHECK:
        return _refused_by_state_rule(run, exchange)
    if node.name == FREED_CHECK and node.failure_info is not None:
        method, _, path = str(getattr(node.failure_info.failure, "free", "")).partition(" ")
        deleted = run.contract.operation_for(method, run.contract_base + path)
        return deleted is not None and deleted.deletes_named_items
    return False


def _refused_by_state_rule(run: VerifyRun, exchange: Exchange | None) -> bool:
    """Whether `exchange` is a 400 that names only rules the contract states its operation may break
    for what the service holds (`x-portkey-state-rule`): the answer a valid request gets when, say,
    the integration it names is not enabled for the workspace. Any other 400 is not."""
    if exchange is None or exchange.status != 400:
        return False
    sent = run.normalise(exchange).request
    operation = run.contract.operation_for(sent.method, sent.path)
    if operation is None or not operation.state_rules:
        return False
    try:
        message = json.loads(exchange.response_body or b"")["data"]["message"]
    except (ValueError, TypeError, KeyError):
        return False
    if not isinstance(message, str):
        return False
    rest = message  # the envelope's message is its violations, `location: rule`, joined by "; "
    for location, rule in operation.state_rules.items():
        rest = rest.replace(f"{location}: {rule}", "")
    return rest != message and not rest.strip("; ")


def _exchange_of(interaction: Any) -> Exchange | None:
    """The recorded request of a schemathesis case, with its response when it got one."""
    if interaction is None:
        return None
    if interaction.response is not None:
        return Exchange.from_requests(interaction.response)
    request = interaction.request
    return Exchange.from_url(request.method, request.uri, body=request.body or b"")


def _note_once(run: VerifyRun, note: str) -> None:
    if note not in run.result.notes:
        run.result.notes.append(note)


def _clean_up(run: VerifyRun, client: Client, out: TextIO) -> None:
    """Delete every key (and provider) the run created and did not delete, with the API key that
    created it, then every integration, then every record of a declared resource, then the secret
    reference the run's mappings named."""
    _clean_up_keys(run, client, out)
    _clean_up_integrations(run, client, out)
    _clean_up_records(run, client, out)
    own = run.ledger.secret_reference  # last: what mapped it is gone
    if own is not None:
        _delete_each(run, client, out, "/secret-references", [own], "secret reference(s)")


def _clean_up_keys(run: VerifyRun, client: Client, out: TextIO) -> None:
    owned = [(key.slug, key.api_key) for key in run.ledger.alive()]
    _delete_each(run, client, out, "/virtual-keys", owned, "key(s)")


def _clean_up_integrations(run: VerifyRun, client: Client, out: TextIO) -> None:
    """Delete every integration the run created (with it go the grants the run gave it)."""
    owned = [(own.slug, own.api_key) for own in run.ledger.alive_integrations()]
    _delete_each(run, client, out, "/integrations", owned, "integration(s)")


def _clean_up_records(run: VerifyRun, client: Client, out: TextIO) -> None:
    """Delete every record of a declared resource the run created, through its own item path, newest
    first (what depends on a record, a prompt on its collection, was made after it)."""
    by_collection: dict[str, list[tuple[str, str | None]]] = {}
    for own in reversed(run.ledger.alive_records()):  # newest first: a prompt before its collection
        if "delete" not in own.resource.operations:
            made = own.resource.name
            _note_once(run, f"clean-up cannot delete the {made} it made: its contract has no delete")
            continue
        item = run.contract.operations[own.resource.operations["delete"]].template
        collection = item.rsplit("/", 1)[0]
        by_collection.setdefault(collection, []).append((own.ref, own.api_key))
    for collection, owned in by_collection.items():
        _delete_each(run, client, out, collection, owned, f"record(s) of {collection}")


def _delete_each(
    run: VerifyRun,
    client: Client,
    out: TextIO,
    collection: str,
    owned: list[tuple[str, str | None]],
    noun: str,
) -> None:
    """DELETE each (slug, API key) under `collection`; say how many went, and note the ones that stayed."""
    if not owned:
        return
    left = []
    for slug, api_key in owned:
        try:
            response = client.raw("DELETE", f"{collection}/{slug}", api_key)
        except httpx.TransportError:
            left.append(slug)
            continue
        if response.status_code not in (200, 204, 404):
            left.append(slug)
    print(f"clean-up: deleted {len(owned) - len(left)} {noun} the run created", file=out, flush=True)
    if left:
        run.result.notes.append(f"clean-up could not delete {len(left)} {noun}: {', '.join(left)}")
