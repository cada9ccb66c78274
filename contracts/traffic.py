"""`contracts check-traffic`: judge recorded traffic against a contract, ours or anyone's.

Traffic comes from a mock's or proxy's journal (a JSON file, or the running mock's URL) or from a
HAR file recorded by any other tool. Every request is judged by the mock's own `RequestJudge`; HAR
responses, which carry their bodies, are judged too. A foreign contract (Portkey's published spec,
say) is read as recorded traffic needs it: server URLs become path prefixes, operations without an
`operationId` are named `METHOD /path`, and operations without a JSON body are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from contracts.ledger import secret_paths
from contracts.report import curl_command, render_html
from mockserver.contract.document import Contract, ContractUnusable, snake_case
from mockserver.contract.exchange import ContractChecker, Exchange
from mockserver.contract.validation import IncomingRequest
from mockserver.contract.verdict import RequestJudge, RequestVerdict
from mockserver.control.token import TOKEN_VARIABLE
from mockserver.journal import is_secret_header
from mockserver.violations import Violation

DEFAULT_ORIGIN = "http://127.0.0.1:8787"
"""Where `mockserver serve` listens by default: the curl target for a journal read from a file."""
RESPONSE_EXCERPT_CHARS = 600
PLACEHOLDER = "<secret>"
PORTKEY_KEY = "x-portkey-api-key"


class UsageError(Exception):
    """The command cannot run: an unreadable source or contract (exit status 2)."""


@dataclass(frozen=True)
class Recorded:
    """One recorded request (and, from a HAR file, its response)."""

    label: str
    request: IncomingRequest
    bare_query: bool = False
    unreadable_body: bool = False
    """A body was sent but the journal did not keep it (it was not JSON, or over the size limit)."""
    response: Exchange | None = None
    origin: str = DEFAULT_ORIGIN
    """Where the request went (`http://host:port`), for a curl command that repeats it."""
    status: int | None = None
    """The status it was answered with, when the recording says (a journal does)."""
    journaled_response_violations: tuple[Violation, ...] = ()
    """What the validating proxy found wrong with the service's answer when it journaled it."""


@dataclass
class Judged:
    recorded: Recorded
    verdict: RequestVerdict
    violations: list[Violation]
    response_violations: list[Violation] = field(default_factory=list)

    @property
    def operation(self) -> str:
        return self.verdict.operation or "(no operation)"

    @property
    def conforms(self) -> bool:
        """The client kept to the contract (the request)."""
        return not self.violations

    @property
    def answered_off_contract(self) -> bool:
        """The service broke the contract (the response): its fault, not the client's."""
        return bool(self.response_violations)


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
        headers = dict(entry.get("headers") or {})
        body = entry.get("body")
        request = IncomingRequest(
            method=entry["method"],
            path=entry["path"],
            query=entry.get("query") or {},
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            content_type=headers.get("content-type"),
        )
        unreadable = body is None and (entry.get("body_bytes") or 0) > 0
        label = f"#{entry.get('seq', index)}"
        status = entry.get("status") if isinstance(entry.get("status"), int) else None
        answered = tuple(
            Violation(str(v.get("location", "response")), str(v.get("rule", "does not match the contract")))
            for v in entry.get("response_violations") or []
            if isinstance(v, dict)
        )
        recorded.append(
            Recorded(
                label,
                request,
                bool(entry.get("bare_query")),
                unreadable,
                origin=origin,
                status=status,
                journaled_response_violations=answered,
            )
        )
    return recorded


def from_har(document: dict[str, Any]) -> list[Recorded]:
    recorded = []
    for index, entry in enumerate(document["log"].get("entries", []), 1):
        har_request, har_response = entry["request"], entry.get("response") or {}
        url = urlsplit(har_request["url"])
        headers = {h["name"].lower(): h["value"] for h in har_request.get("headers", [])}
        body = (har_request.get("postData") or {}).get("text", "").encode()
        request = IncomingRequest(
            method=har_request["method"],
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=headers,
            body=body,
            content_type=headers.get("content-type") or (har_request.get("postData") or {}).get("mimeType"),
        )
        response = None
        content = har_response.get("content") or {}
        if har_response.get("status") and "text" in content:
            response = Exchange(
                method=request.method,
                path=request.path,
                query=request.query,
                status=har_response["status"],
                response_headers={h["name"]: h["value"] for h in har_response.get("headers", [])},
                response_body=content["text"].encode(),
            )
        bare = har_request["url"].endswith("?") and not url.query
        origin = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else DEFAULT_ORIGIN
        status = har_response.get("status") if isinstance(har_response.get("status"), int) else None
        recorded.append(Recorded(f"#{index}", request, bare, response=response, origin=origin, status=status))
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
        if (op := contract.operation_for(recorded.request.method, recorded.request.path)) is not None
    }
    return contract.only(targeted) if targeted else contract


def judge_traffic(traffic: list[Recorded], contract: Contract) -> list[Judged]:
    """Each request judged, and its response where recorded (a HAR file) or journaled (a proxy)."""
    judge = RequestJudge(contract)
    responses = ContractChecker(contract)
    judged = []
    for recorded in traffic:
        verdict = judge.judge(recorded.request, bare_query=recorded.bare_query)
        violations = list(verdict.violations)
        if recorded.unreadable_body:  # judged without its body, so what was said of the body is moot
            violations = [v for v in violations if v.location != "body"]
            violations.append(
                Violation("body", "was not kept by the journal (not JSON, or over the size limit)")
            )
        response_violations = list(recorded.journaled_response_violations)
        if recorded.response is not None and verdict.operation is not None:
            response_violations = responses.check_response(recorded.response)
        judged.append(Judged(recorded, verdict, violations, response_violations))
    return judged


def report(judged: list[Judged], source: str, contract: Contract) -> str:
    """A summary per operation, then every violation and warning, naming request, field and rule.

    What the client did wrong (the request) and what the service did wrong (the response) are
    reported apart: both break the contract, but they are different people's bugs.
    """
    lines = [f"{len(judged)} requests from {source}, judged against {contract.path}", ""]
    width = max([len(j.operation) for j in judged] + [len("operation")])
    lines.append(f"{'operation':<{width}}  requests  conform  violate  warnings  bad answers")
    totals: dict[str, Counter[str]] = {}
    for j in judged:
        counts = totals.setdefault(j.operation, Counter())
        counts["requests"] += 1
        counts["conform" if j.conforms else "violate"] += 1
        counts["warnings"] += len(j.verdict.warnings)
        counts["bad answers"] += j.answered_off_contract
    for operation, counts in sorted(totals.items()):
        lines.append(
            f"{operation:<{width}}  {counts['requests']:>8}  {counts['conform']:>7}"
            f"  {counts['violate']:>7}  {counts['warnings']:>8}  {counts['bad answers']:>11}"
        )
    failing = [j for j in judged if not j.conforms]
    if failing:
        lines += ["", "Requests that break the contract (the client's fault):"]
        for j in failing:
            lines.append(f"  {_describe(j)}")
            lines += [f"      {v}" for v in j.violations]
    off_contract = [j for j in judged if j.answered_off_contract]
    if off_contract:
        lines += ["", "Responses that break the contract (the service's fault):"]
        for j in off_contract:
            lines.append(f"  {_describe(j)}")
            lines += [f"      {v}" for v in j.response_violations]
    warned = [j for j in judged if j.verdict.warnings]
    if warned:
        lines += ["", "Warnings (the contract allows these):"]
        for j in warned:
            lines.append(f"  {_describe(j)}")
            lines += [f"      {w}" for w in j.verdict.warnings]
    lines += ["", f"{len(failing)} of {len(judged)} requests break the contract."]
    if off_contract:
        lines.append(f"{len(off_contract)} of {len(judged)} responses break the contract.")
    return "\n".join(lines)


def write_traffic_html(judged: list[Judged], source: str, contract: Contract, path: Path) -> None:
    """The judgement as one self-contained page: tables per check and operation, each failure in full."""
    operations: dict[str, Counter[str]] = {}
    checks = {name: Counter[str]() for name in ("request conforms", "response conforms")}
    for j in judged:
        counts = operations.setdefault(j.operation, Counter())
        counts["requests"] += 1
        counts["conform" if j.conforms else "violate"] += 1
        counts["warnings"] += len(j.verdict.warnings)
        checks["request conforms"]["failed" if j.violations else "passed"] += 1
        if j.recorded.response is not None or j.response_violations:
            checks["response conforms"]["failed" if j.response_violations else "passed"] += 1
    origins = sorted({j.recorded.origin for j in judged}) or [DEFAULT_ORIGIN]
    page = render_html(
        "traffic.html",
        judged=judged,
        source=source,
        contract_path=str(contract.path),
        run_id=uuid.uuid4().hex[:12],
        origin=", ".join(origins),
        checks={name: {"passed": c["passed"], "failed": c["failed"]} for name, c in checks.items() if c},
        operations={name: dict(counts) for name, counts in sorted(operations.items())},
        failures=[_shown_failure(j, contract) for j in judged if not j.conforms or j.answered_off_contract],
    )
    path.write_text(page, encoding="utf-8")


def _shown_failure(judged: Judged, contract: Contract) -> dict[str, Any]:
    """One failing request as the HTML report shows it: every secret a placeholder."""
    recorded, request, secret_fields = judged.recorded, judged.recorded.request, contract.secret_fields
    secrets = set(secret_fields) | {snake_case(name) for name in secret_fields}
    body_text, secret_values = None, []
    if request.body:
        try:
            body = json.loads(request.body)
            secret_values = _secret_values(body, secrets)
            body_text = json.dumps(secret_paths(body, frozenset(secrets)), ensure_ascii=False)
        except ValueError:
            body_text = "(a body that is not JSON)"
    headers = {
        name.lower(): PLACEHOLDER if is_secret_header(name) else value
        for name, value in request.headers.items()
    }
    secret_values += [value for name, value in request.headers.items() if is_secret_header(name)]
    url = recorded.origin + request.path
    if request.query:
        url += "?" + urlencode(request.query, doseq=True)
    elif recorded.bare_query:
        url += "?"
    shown_request = f"{request.method.upper()} {url}\n" + "".join(f"{n}: {v}\n" for n, v in headers.items())
    if body_text is not None:
        shown_request += f"\n{body_text}"
    return {
        "title": _describe(judged),
        "violations": judged.violations,
        "response_violations": judged.response_violations,
        "warnings": judged.verdict.warnings,
        "request": shown_request,
        "response": _redacted(_response_excerpt(recorded), secret_values),
        # A foreign contract may declare no API-key header: the curl then names Portkey's.
        "curl": curl_command(
            request.method, url, body_text if request.body else None, contract.api_key_header or PORTKEY_KEY
        ),
    }


def _response_excerpt(recorded: Recorded) -> str:
    if recorded.response is not None:
        text = recorded.response.response_body.decode("utf-8", "replace")
        if len(text) > RESPONSE_EXCERPT_CHARS:
            text = text[:RESPONSE_EXCERPT_CHARS] + " …"
        return f"{recorded.response.status}\n\n{text}"
    if recorded.status is not None:
        return f"{recorded.status} (the journal keeps no response bodies)"
    return "(not recorded)"


def _secret_values(body: Any, secrets: set[str]) -> list[str]:
    """Every string under a secret field of `body`, to be cut out of anything shown beside it."""
    found: list[str] = []
    if isinstance(body, dict):
        for name, value in body.items():
            if name in secrets:
                found += [v for v in _strings(value) if len(v) >= 4]
            else:
                found += _secret_values(value, secrets)
    elif isinstance(body, list):
        for item in body:
            found += _secret_values(item, secrets)
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for inner in value.values() for s in _strings(inner)]
    if isinstance(value, list):
        return [s for inner in value for s in _strings(inner)]
    return []


def _redacted(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, PLACEHOLDER)
    return text


def _describe(judged: Judged) -> str:
    request = judged.recorded.request
    query = "?" if judged.recorded.bare_query else ""
    if request.query:
        query = "?" + "&".join(request.query)
    target = judged.verdict.operation
    if target is None:
        nearest = judged.verdict.nearest_operation
        target = f"no operation; nearest: {nearest}" if nearest else "no operation"
    return f"{judged.recorded.label} {request.method.upper()} {request.path}{query} ({target})"


# -- command line --------------------------------------------------------------------------------


def add_check_traffic_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `check-traffic` to a command's subparsers; `args.run(args)` runs it."""
    parser = subparsers.add_parser(
        "check-traffic",
        help="judge recorded requests against a contract",
        description="Judge every request of a journal or HAR file against a contract. "
        "Exit status: 0 all conform, 1 a request or a recorded response breaks the contract, 2 bad usage.",
    )
    parser.add_argument(
        "source",
        help="a journal JSON file (GET /__mock/journal), a HAR file, or a running mock's or proxy's URL",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        help="OpenAPI contract to judge against (default: the project's openapi.yaml)",
    )
    parser.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"the control token of a mock started with one (env: {TOKEN_VARIABLE})",
    )
    parser.add_argument("--html", type=Path, metavar="PATH", help="also write a self-contained HTML report")
    parser.set_defaults(run=run_check_traffic)
    return parser


def run_check_traffic(args: argparse.Namespace) -> int:
    try:
        contract = load_contract(args.contract)
        traffic = load_traffic(args.source, args.control_token)
    except UsageError as error:
        print(f"contracts check-traffic: {error}", file=sys.stderr)
        return 2
    contract = for_traffic(contract, traffic)
    for warning in contract_warnings(contract):
        print(f"contracts check-traffic: warning: the contract: {warning}", file=sys.stderr)
    judged = judge_traffic(traffic, contract)
    print(report(judged, args.source, contract))
    if args.html:
        write_traffic_html(judged, args.source, contract, args.html)
    return 0 if all(j.conforms and not j.answered_off_contract for j in judged) else 1
