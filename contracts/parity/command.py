"""A parity run: the snapshot's requests re-sent in order, each answer compared, a score per operation.

Only the recorded requests are sent (made values mapped to this run's, creates marked with the run
id), then the deletes that remove what the run created; nothing else reaches the service.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.parity.cleanup import Created, marked, unmarked
from contracts.parity.compare import Comparer, Difference, unordered_fields
from mockserver.contract.document import Contract
from mockserver.serving.proxy import API_PREFIX
from mockserver.snapshots.document import Snapshot, describe
from mockserver.snapshots.ids import Learned
from mockserver.snapshots.redact import clean_answer
from mockserver.snapshots.replay import over_http

CREDENTIAL_PREFIX = "<credential-"


class Unreachable(Exception):
    """The service did not answer."""


@dataclass
class ExchangeParity:
    exchange: str
    operation: str
    fields: int
    differences: tuple[Difference, ...]

    @property
    def matching(self) -> int:
        return max(self.fields - len(self.differences), 0)


@dataclass
class ParityResult:
    snapshot: str
    base_url: str
    run_id: str
    exchanges: list[ExchangeParity] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Matching fields over compared fields, in percent (100 with nothing compared)."""
        fields = sum(e.fields for e in self.exchanges)
        return 100.0 * sum(e.matching for e in self.exchanges) / fields if fields else 100.0

    def operations(self) -> dict[str, dict[str, Any]]:
        """Per operation: exchanges, fields compared, fields matching, score in percent."""
        found: dict[str, dict[str, Any]] = {}
        for parity in self.exchanges:
            counts = found.setdefault(parity.operation, {"exchanges": 0, "fields": 0, "matching": 0})
            counts["exchanges"] += 1
            counts["fields"] += parity.fields
            counts["matching"] += parity.matching
        for counts in found.values():
            counts["score"] = (
                round(100.0 * counts["matching"] / counts["fields"], 2) if counts["fields"] else 100.0
            )
        return found


def run_parity(
    snapshot: Snapshot,
    source: str,
    base_url: str,
    contract: Contract,
    *,
    api_key: str | None = None,
    run_id: str | None = None,
    timeout: float = 30.0,
) -> ParityResult:
    """Re-send every recorded request to `base_url` (`https://staging.example/v1`) and compare."""
    run_id = run_id or secrets.token_hex(4)
    mark = f"parity-{run_id}"
    result = ParityResult(source, base_url, run_id)
    send = _sender(base_url, api_key, timeout)
    learned = Learned()
    comparer = Comparer(learned, unordered_fields(contract))
    created = Created(contract)
    try:
        for exchange in snapshot.exchanges:
            request = marked(learned.request(exchange["request"]), mark)
            status, live = send(request)
            created.note(request, status, live)
            recorded = exchange["response"]
            answer = unmarked(clean_answer(live, contract.secret_fields), mark)
            compared = comparer.compare(recorded["status"], recorded.get("body"), status, answer)
            operation = exchange.get("operation") or "no operation"
            result.exchanges.append(
                ExchangeParity(describe(exchange), operation, compared.fields, compared.differences)
            )
    finally:
        result.removed, result.left_behind = created.remove(send)
    return result


def _sender(
    base_url: str, api_key: str | None, timeout: float
) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """Sends a recorded request to the service under `base_url`, with `api_key` for each credential."""
    parts = httpx.URL(base_url)
    root = f"{parts.scheme}://{parts.netloc.decode()}"
    prefix = parts.path.rstrip("/")
    http = over_http(root, timeout)

    def send(request: dict[str, Any]) -> tuple[int, Any]:
        headers = {
            name: api_key if api_key and value.startswith(CREDENTIAL_PREFIX) else value
            for name, value in request["headers"].items()
        }
        path = prefix + request["path"].removeprefix(API_PREFIX)
        try:
            return http({**request, "headers": headers, "path": path})
        except httpx.HTTPError as error:
            raise Unreachable(f"{base_url} did not answer ({type(error).__name__})") from None

    return send
