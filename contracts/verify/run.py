"""One verify run's shared state: its ledger, its request budget, and the result it builds.

Every exchange, from schemathesis or from the run's own lifecycle phase, is judged here by the
checks of `contracts.checks` and then recorded in the ledger, under one lock (workers are threads).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from contracts.redaction import redacted_json
from contracts.reporting import curl_command, response_excerpt, shown_url
from contracts.verify.checks import run_checks
from contracts.verify.ledger import ROLES, Ledger, Observation, role_of
from contracts.verify.report import Finding, VerifyResult
from mockserver.contract.document import Contract, default_contract_path
from mockserver.contract.exchange import Exchange
from mockserver.contract.validation import IncomingRequest, header

SCHEMATHESIS_PHASES = ("examples", "coverage", "fuzzing", "stateful")
PHASES = (*SCHEMATHESIS_PHASES, "lifecycle")
PERMANENT_WRITES_OPTION = "--permanent-writes"
"""The option that lets a run make what nothing can undo (`logs.py`), for a service you own."""


class ServiceUnreachable(Exception):
    """The service cannot be tested at all: no answer, or the API key is refused."""


class ContractNotForVerify(Exception):
    """The contract cannot drive a run: unusable, or without the five virtual-keys operations."""


def read_contract(path: Path | None = None) -> Contract:
    """The contract at `path` (the project's by default) for one run, with objects of its own.

    The file is read and adapted once per process while it is unchanged (the suite runs verify
    dozens of times in one process, and reading `openapi.yaml` costs more than copying it), then
    copied: no run shares a schema that another run, schemathesis or a mock in the same process
    could change. `ContractUnusable` if it cannot be read.
    """
    where = Path(path) if path else default_contract_path()
    try:
        stat = where.stat()
    except OSError:
        return Contract(where)  # raises ContractUnusable, saying why
    read = _read_once(str(where.resolve()), stat.st_mtime_ns, stat.st_size)
    contract = Contract(where, document=copy.deepcopy(read.document))
    contract.left_out = list(read.left_out)
    return contract


@lru_cache(maxsize=4)
def _read_once(path: str, mtime_ns: int, size: int) -> Contract:
    """The contract at `path` as read once; `mtime_ns` and `size` read it again once it changes."""
    return Contract(path)


def contract_to_verify(contract: Contract, permanent_writes: Collection[str] = ()) -> Contract:
    """`contract` cut down to the operations `verify` tests: the five of virtual keys, the Model
    Catalog's (providers, integrations) that it has, every operation of the resources it declares
    (`x-portkey-resource`) and those beneath their paths (a prompt's versions, an API key's rotate),
    the admin reads beside them (`sampled_reads`) and the `permanent_writes` the run may make; a
    vendor's whole API document is mostly other APIs. `ContractNotForVerify` if one of the five is
    missing."""
    found = {role_of(op): op.operation_id for op in contract.operations.values() if role_of(op)}
    missing = [f"{method.upper()} {path}" for (method, path), role in ROLES.items() if role not in found]
    if missing:
        raise ContractNotForVerify(f"{contract.path} has no operation for {', '.join(missing)}")
    return contract.only(_driven(contract) | sampled_reads(contract) | set(permanent_writes))


def sampled_reads(contract: Contract) -> set[str]:
    """The admin reads no lifecycle drives: analytics, the audit log, a log by id.

    Admin means guarded by an API key's scope (`x-portkey-scope`), which a vendor's other APIs
    and the keyless model pricing are not. Schemathesis tests them in its examples and fuzzing
    phases only (`SAMPLED_PHASES`): its coverage phase, every boundary of analytics' 25 query
    parameters on each of 21 operations, took a seed-7 run from 6,233 requests to 18,513.
    """
    driven = _driven(contract)
    return {
        op.operation_id
        for op in contract.operations.values()
        if op.method == "get" and op.scopes and op.operation_id not in driven
    }


SAMPLED_PHASES = ("examples", "fuzzing")
"""The schemathesis phases that test `sampled_reads`."""


def left_out_of_verify(contract: Contract, permanent_writes: Collection[str] = ()) -> list[str]:
    """What of `contract` no phase tests, as `METHOD /path`: writes beside the declared resources
    (a log's insert, feedback), which nothing can undo on a real service, unless the run may make
    them (`permanent_writes`), and keyless reads."""
    kept = _driven(contract) | sampled_reads(contract) | set(permanent_writes)
    return [
        f"{op.method.upper()} {op.template}"
        for op in contract.operations.values()
        if op.operation_id not in kept and (op.scopes or op.public)
    ]


def untested_note(contract: Contract, permanent_writes: Collection[str] = ()) -> str | None:
    """The report's note on what no phase tests (`left_out_of_verify`) and why, then how many
    operations no scope marks as the admin API's (a vendor's whole document: its other APIs);
    None if nothing."""
    untested = left_out_of_verify(contract, permanent_writes)
    keyless = {f"{op.method.upper()} {op.template}" for op in contract.operations.values() if op.public}
    why = []
    if set(untested) - keyless:
        why.append(
            "a write no lifecycle drives cannot be undone on a real service: pass "
            f"{PERMANENT_WRITES_OPTION} to test them on a service you own"
        )
    if set(untested) & keyless:
        why.append("a keyless read is not the admin API's")
    kept = _driven(contract) | sampled_reads(contract) | set(permanent_writes)
    unmarked = [op for op in contract.operations.values() if op.operation_id not in kept]
    unmarked = [op for op in unmarked if not (op.scopes or op.public)]
    if unmarked:
        untested.append(f"{len(unmarked)} operation(s)")
        why.append("no scope (`x-portkey-scope`) marks them as the admin API's")
    return f"not tested: {', '.join(untested)} ({'; '.join(why)})" if untested else None


def _driven(contract: Contract) -> set[str]:
    """The operations verify's phases drive as the contract declares them: the virtual-key roles,
    the declared resources' and those beneath their paths."""
    found = {op.operation_id for op in contract.operations.values() if role_of(op)}
    declared = {op for resource in contract.resources for op in resource.operations.values()}
    homes = {contract.operations[op].template for op in declared}
    beneath = {  # what a domain module serves beside them: a prompt's versions, an API key's rotate
        op.operation_id
        for op in contract.operations.values()
        if any(op.template.startswith(f"{home}/") for home in homes)
    }
    return found | declared | beneath


class BudgetExhausted(Exception):
    """The run has sent as many requests as `--max-requests` allows."""


class Budget:
    """A hard cap on requests; `None` means no cap. Thread-safe.

    `headroom` requests are kept back while schemathesis runs: its checks send a few probes of
    their own alongside a request, `charge`d as they are sent and never refused.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit, self.used, self.headroom = limit, 0, 0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.limit is not None and self.used + self.headroom >= self.limit:
                raise BudgetExhausted(f"the request budget of {self.limit} is spent")
            self.used += 1

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self.limit is not None and self.used + self.headroom >= self.limit

    def charge(self, count: int) -> None:
        with self._lock:
            self.used += count


class VerifyRun:
    def __init__(
        self,
        base_url: str,
        contract: Contract,
        budget: Budget,
        seed: int | None,
        read_only: bool = False,
        permanent_writes: Collection[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_only = read_only
        self.permanent_writes = frozenset(permanent_writes)
        """Writes nothing can undo that the run's own scenario makes (`--permanent-writes`); none by
        default. Schemathesis leaves them alone."""
        self.contract = contract
        self.api_key_header = contract.require_api_key_header()
        self.ledger = Ledger(contract, seed)
        self.budget = budget
        self.result = VerifyResult(self.base_url, self.ledger.run_id, seed)
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        listing = next(op for op in contract.operations.values() if role_of(op) == "listVirtualKeys")
        self.contract_base = listing.path.removesuffix(listing.template)
        self.sent_case_ids: set[str] = set()
        """Schemathesis cases that went through the guard; any other recorded request is a probe."""
        self.probe_case_ids: set[str] = set()
        """Probes a check of schemathesis's sent through its transport, counted as they were sent."""
        self.redirected_case_ids: set[str] = set()
        """Writes the guard sent to `ledger.absent_slug` instead of a key the run does not own."""
        self.accepts_any_key = False
        """The service says (a Portkey mock without a keys file) that any non-empty API key is valid."""
        self._lock = threading.Lock()

    def count_probe(self, case_id: str) -> None:
        """Charge the budget for a request a check sends of its own (never refused: the check is
        half done), in the thread that sends it, so the next case's `take` already sees it."""
        if case_id not in self.sent_case_ids:
            self.probe_case_ids.add(case_id)
            self.budget.charge(1)

    def observe(
        self, exchange: Exchange, phase: str, *, intent: str | None = None, ordered: bool = False
    ) -> Observation:
        """Judge one answered exchange (its path as sent to the service) and record it."""
        exchange = self.normalise(exchange)
        sent = exchange.request
        operation, slug = self.ledger.classify(sent.method, sent.path)
        api_key = header(sent.headers, self.api_key_header)
        seen = Observation(exchange, operation, slug, intent, phase, api_key)
        label = self.label(sent.method, sent.path)
        with self._lock:
            self.result.requests[label] += 1
            self._judge(seen, label, ordered=ordered)
            self.ledger.observe(seen)
        return seen

    def observe_whole_list(self, pages: tuple[Observation, ...], api_key: str) -> None:
        """The list read page by page (see `lifecycle.list_every_page`), judged as one list."""
        listing = Exchange(IncomingRequest("GET", f"{self.contract_base}/virtual-keys"))
        seen = Observation(listing, "listVirtualKeys", phase="lifecycle", api_key=api_key, pages=pages)
        with self._lock:
            self._judge(seen, "GET /virtual-keys (every page)", ordered=True)

    def _judge(self, seen: Observation, label: str, *, ordered: bool) -> None:
        """Every applicable registered check on `seen`, counted and its failures found (lock held)."""
        for name, problems in run_checks(seen, self.ledger, ordered=ordered):
            if not problems:
                self.result.checks_passed[name] += 1
                continue
            self.result.checks_failed[name] += 1
            self.result.findings.extend(
                self.finding(name, label, p, seen.phase, seen.exchange) for p in problems
            )

    def normalise(self, exchange: Exchange) -> Exchange:
        """`exchange` with its path under the contract's base (`/v1`) instead of the service's."""
        path = exchange.request.path
        if not path.startswith(self._base_path):
            return exchange
        sent = replace(exchange.request, path=self.contract_base + path[len(self._base_path) :])
        return replace(exchange, request=sent)

    def add_failure(
        self, check: str, label: str, message: str, phase: str, exchange: Exchange | None
    ) -> None:
        """A failure schemathesis's own checks found (on `exchange`, if one was recorded)."""
        finding = self.finding(check, label, self.ledger.redact(message), phase, exchange)
        with self._lock:
            self.result.checks_failed[check] += 1
            self.result.findings.append(finding)

    def finding(self, check: str, label: str, message: str, phase: str, exchange: Exchange | None) -> Finding:
        """A failed check on `exchange`, with the request, the response's start and a curl, redacted."""
        if exchange is None:
            return Finding(check, label, message, phase, "(no request was recorded)")
        exchange = self.normalise(exchange)
        url, body = self._shown_request(exchange)
        request = f"{exchange.request.method.upper()} {url}" + (f"\n\n{body}" if body is not None else "")
        return Finding(
            check,
            label,
            message,
            phase,
            self.curl(exchange),
            request=self.ledger.redact(request),
            response=self.ledger.redact(response_excerpt(exchange)),
        )

    def count_pass(self, check: str) -> None:
        with self._lock:
            self.result.checks_passed[check] += 1

    def label(self, method: str, contract_path: str) -> str:
        """`PUT /virtual-keys/{slug}`: the operation as the contract writes it."""
        operation = self.contract.operation_for(method, contract_path)
        operation = operation or self.contract.nearest_operation(method, contract_path)
        path = (
            operation.path
            if operation and operation.path.count("/") == contract_path.count("/")
            else contract_path
        )
        return f"{method.upper()} {path.removeprefix(self.contract_base)}"

    def curl(self, exchange: Exchange) -> str:
        """The request as a curl command against the service, secrets and API key left out."""
        url, body = self._shown_request(exchange)
        return self.ledger.redact(curl_command(exchange.request.method, url, body, self.api_key_header))

    def _shown_request(self, exchange: Exchange) -> tuple[str, str | None]:
        """The URL and the body of a request as reports show it: secret fields as placeholders (the
        run's canaries are cut out of whatever else it shows by `ledger.redact`)."""
        sent = exchange.request
        url = shown_url(self.base_url, sent.path.removeprefix(self.contract_base), sent.query)
        if not sent.body:
            return url, None
        try:
            return url, redacted_json(sent.body, self.contract.secret_fields)
        except ValueError:
            return url, sent.body.decode("utf-8", "replace")
