"""`contracts check-traffic`: judge recorded traffic against a contract, ours or anyone's.

Traffic comes from a mock's or proxy's journal (a JSON file, or the running mock's URL) or from a
HAR file recorded by any other tool. Every request is judged by the mock's own `RequestJudge`; HAR
responses, which carry their bodies, are judged too. A foreign contract (Portkey's published spec,
say) is read as recorded traffic needs it: server URLs become path prefixes, operations without an
`operationId` are named `METHOD /path`, and operations without a JSON body are left out.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.redaction import (
    readable_json,
    redact,
    redact_headers,
    redacted_json,
    secret_header_values,
    secret_values,
)
from contracts.reporting import curl_command, render_html, response_excerpt, shown_url
from mockserver.contract.document import Contract, ContractUnusable, snake_case
from mockserver.contract.exchange import Exchange, ExchangeJudge, ExchangeVerdict
from mockserver.contract.secrets import HEADER_VALUE_FIELDS
from mockserver.control.token import TOKEN_VARIABLE
from mockserver.violations import Violation

DEFAULT_ORIGIN = "http://127.0.0.1:8787"
"""Where `mockserver serve` listens by default: the curl target for a journal read from a file."""
PORTKEY_KEY = "x-portkey-api-key"


class UsageError(Exception):
    """The command cannot run: an unreadable source or contract (exit status 2)."""


@dataclass(frozen=True)
class Recorded:
    """One exchange as a recording holds it: its label there, and where the request went."""

    label: str
    exchange: Exchange
    origin: str = DEFAULT_ORIGIN
    """Where the request went (`http://host:port`), for a curl command that repeats it."""
    journaled_response_violations: tuple[Violation, ...] | None = None
    """What the validating proxy found wrong with the service's answer when it journaled it."""


# -- reading traffic -----------------------------------------------------------------------------


def load_traffic(source: str, control_token: str | None = None) -> list[Recorded]:
    """Requests from a journal file, a HAR file, or a running mock's URL (its journal).

    `control_token` is sent as `Authorization: Bearer <token>` to a mock whose control plane is locked.
    """
    if source.startswith(("http://", "https://")):
        root = source.rstrip("/").removesuffix("/v1").removesuffix("/__mock/journal")
        headers = {"Authorization": f"Bearer {control_token}"} if control_token else {}
        try:
            response = httpx.get(f"{root}/__mock/journal", headers=headers, timeout=30)
            if response.status_code == 401:
                raise UsageError(
                    f"{root}/__mock/journal wants a control token: pass --control-token "
                    f"or set {TOKEN_VARIABLE}"
                )
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise UsageError(f"cannot read the journal at {root}/__mock/journal: {exc}") from None
        if isinstance(document, dict) and isinstance(document.get("entries"), list):
            return from_journal(document["entries"], origin=root)
    else:
        try:
            document = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {source}: {exc}") from None
    if isinstance(document, dict) and isinstance(document.get("log"), dict):
        return from_har(document)
    if isinstance(document, dict) and isinstance(document.get("entries"), list):
        return from_journal(document["entries"])
    if isinstance(document, list):
        return from_journal(document)
    raise UsageError(f"{source} is neither a journal (GET /__mock/journal) nor a HAR file")


def from_journal(entries: list[dict[str, Any]], origin: str = DEFAULT_ORIGIN) -> list[Recorded]:
    recorded = []
    for index, entry in enumerate(entries, 1):
        journaled = entry.get("response_violations")
        answered = None
        if isinstance(journaled, list):
            answered = tuple(
                Violation(
                    str(v.get("location", "response")), str(v.get("rule", "does not match the contract"))
                )
                for v in journaled
                if isinstance(v, dict)
            )
        label = f"#{entry.get('seq', index)}"
        recorded.append(Recorded(label, Exchange.from_journal(entry), origin, answered))
    return recorded


def from_har(document: dict[str, Any]) -> list[Recorded]:
    recorded = []
    for index, entry in enumerate(document["log"].get("entries", []), 1):
        url = urlsplit(entry["request"]["url"])
        origin = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else DEFAULT_ORIGIN
        recorded.append(Recorded(f"#{index}", Exchange.from_har(entry), origin))
    return recorded


# -- reading a contract --------------------------------------------------------------------------


def load_contract(path: Path | None) -> Contract:
    """The contract at `path` (ours if None), any vendor's document read as `Contract` reads it."""
    try:
        return Contract(path)
    except ContractUnusable as exc:
        raise UsageError(str(exc)) from None


def contract_warnings(contract: Contract) -> list[str]:
    """The document's own problems, once each: reported, never held against the traffic."""
    return [f"{problem}" for problem in contract.problems]


# -- judging and reporting -----------------------------------------------------------------------


def for_traffic(contract: Contract, traffic: list[Recorded]) -> Contract:
    """`contract` cut down to the operations the traffic targets: the rest is never compiled."""
    targeted = {
        op.operation_id
        for recorded in traffic
        if (op := contract.operation_for(recorded.exchange.request.method, recorded.exchange.request.path))
        is not None
    }
    return contract.only(targeted) if targeted else contract


def judge_traffic(traffic: list[Recorded], contract: Contract) -> list[tuple[Recorded, ExchangeVerdict]]:
    """Each exchange judged; a response the recording kept no body of keeps the proxy's verdict."""
    judge = ExchangeJudge(contract)
    judged = []
    for recorded in traffic:
        verdict = judge.judge(recorded.exchange)
        if verdict.response_violations is None and recorded.journaled_response_violations is not None:
            verdict = replace(verdict, response_violations=recorded.journaled_response_violations)
        judged.append((recorded, verdict))
    return judged


def report(judged: list[tuple[Recorded, ExchangeVerdict]], source: str, contract: Contract) -> str:
    """A summary per operation, then every violation and warning, naming request, field and rule.

    What the client did wrong (the request) and what the service did wrong (the response) are
    reported apart: both break the contract, but they are different people's bugs.
    """
    lines = [f"{len(judged)} requests from {source}, judged against {contract.path}", ""]
    width = max([len(_operation(v)) for _, v in judged] + [len("operation")])
    lines.append(f"{'operation':<{width}}  requests  conform  violate  warnings  bad answers")
    totals: dict[str, Counter[str]] = {}
    for _, verdict in judged:
        counts = totals.setdefault(_operation(verdict), Counter())
        counts["requests"] += 1
        counts["conform" if verdict.client_conforms else "violate"] += 1
        counts["warnings"] += len(verdict.request_verdict.warnings)
        counts["bad answers"] += not verdict.service_conforms
    for operation, counts in sorted(totals.items()):
        lines.append(
            f"{operation:<{width}}  {counts['requests']:>8}  {counts['conform']:>7}"
            f"  {counts['violate']:>7}  {counts['warnings']:>8}  {counts['bad answers']:>11}"
        )
    failing = [(r, v) for r, v in judged if not v.client_conforms]
    if failing:
        lines += ["", "Requests that break the contract (the client's fault):"]
        for recorded, verdict in failing:
            lines.append(f"  {_describe(recorded, verdict)}")
            lines += [f"      {v}" for v in verdict.request_verdict.violations]
    off_contract = [(r, v) for r, v in judged if not v.service_conforms]
    if off_contract:
        lines += ["", "Responses that break the contract (the service's fault):"]
        for recorded, verdict in off_contract:
            lines.append(f"  {_describe(recorded, verdict)}")
            lines += [f"      {v}" for v in verdict.response_violations or ()]
    warned = [(r, v) for r, v in judged if v.request_verdict.warnings]
    if warned:
        lines += ["", "Warnings (the contract allows these):"]
        for recorded, verdict in warned:
            lines.append(f"  {_describe(recorded, verdict)}")
            lines += [f"      {w}" for w in verdict.request_verdict.warnings]
    lines += ["", f"{len(failing)} of {len(judged)} requests break the contract."]
    if off_contract:
        lines.append(f"{len(off_contract)} of {len(judged)} responses break the contract.")
    return "\n".join(lines)


def write_traffic_html(
    judged: list[tuple[Recorded, ExchangeVerdict]], source: str, contract: Contract, path: Path
) -> None:
    """The judgement as one self-contained page: tables per check and operation, each failure in full."""
    operations: dict[str, Counter[str]] = {}
    checks = {name: Counter[str]() for name in ("request conforms", "response conforms")}
    for _, verdict in judged:
        counts = operations.setdefault(_operation(verdict), Counter())
        counts["requests"] += 1
        counts["conform" if verdict.client_conforms else "violate"] += 1
        counts["warnings"] += len(verdict.request_verdict.warnings)
        checks["request conforms"]["passed" if verdict.client_conforms else "failed"] += 1
        if verdict.response_violations is not None:
            checks["response conforms"]["passed" if verdict.service_conforms else "failed"] += 1
    origins = sorted({recorded.origin for recorded, _ in judged}) or [DEFAULT_ORIGIN]
    page = render_html(
        "traffic.html",
        judged=judged,
        source=source,
        contract_path=str(contract.path),
        run_id=uuid.uuid4().hex[:12],
        origin=", ".join(origins),
        checks={name: {"passed": c["passed"], "failed": c["failed"]} for name, c in checks.items() if c},
        operations={name: dict(counts) for name, counts in sorted(operations.items())},
        failures=[_shown_failure(r, v, contract) for r, v in judged if not v.conforms],
    )
    path.write_text(page, encoding="utf-8")


def _shown_failure(recorded: Recorded, verdict: ExchangeVerdict, contract: Contract) -> dict[str, Any]:
    """One failing request as the HTML report shows it: every secret a placeholder."""
    request = recorded.exchange.request
    secret_fields = (
        contract.secret_fields | {snake_case(name) for name in contract.secret_fields} | HEADER_VALUE_FIELDS
    )
    body_text, secrets = None, secret_header_values(request.headers)
    if request.body:
        try:
            body_text = redacted_json(request.body, secret_fields)
            secrets += secret_values(readable_json(request.body), secret_fields)
        except ValueError:
            body_text = "(a body that is not JSON, or nested too deeply)"
    url = shown_url(recorded.origin, request.path, request.query, recorded.exchange.bare_query)
    headers = redact_headers(request.headers)
    shown_request = f"{request.method.upper()} {url}\n" + "".join(f"{n}: {v}\n" for n, v in headers.items())
    if body_text is not None:
        shown_request += f"\n{body_text}"
    return {
        "title": _describe(recorded, verdict),
        "violations": verdict.request_verdict.violations,
        "response_violations": verdict.response_violations or (),
        "warnings": verdict.request_verdict.warnings,
        "request": shown_request,
        "response": redact(response_excerpt(recorded.exchange), secrets),
        # A foreign contract may declare no API-key header: the curl then names Portkey's.
        "curl": curl_command(request.method, url, body_text, contract.api_key_header or PORTKEY_KEY),
    }


def _operation(verdict: ExchangeVerdict) -> str:
    return verdict.request_verdict.operation or "(no operation)"


def _describe(recorded: Recorded, verdict: ExchangeVerdict) -> str:
    exchange = recorded.exchange
    request = exchange.request
    query = "?" if exchange.bare_query else ""
    if request.query:
        query = "?" + "&".join(request.query)
    target = verdict.request_verdict.operation
    if target is None:
        nearest = verdict.request_verdict.nearest_operation
        target = f"no operation; nearest: {nearest}" if nearest else "no operation"
    return f"{recorded.label} {request.method.upper()} {request.path}{query} ({target})"
