"""Journal entries: what a client sent to `/v1` and the contract's verdict on it, secrets masked.

An entry is built from an `ExchangeVerdict` (the mock's own answers are not judged, the proxy's
upstream answers are, and kept under `response`); headers and bodies are masked here, before any
backend (`mockserver.state.journal_store`) keeps them. `Exchange.from_journal` reads an entry back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mockserver.contract.date_times import timestamp
from mockserver.contract.document import both_spellings
from mockserver.contract.exchange import ExchangeVerdict
from mockserver.contract.secrets import HEADER_VALUE_FIELDS, MASK, is_credential_header, mask_secret
from mockserver.state.journal_store import Entry


def entry_for(
    judged: ExchangeVerdict,
    *,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body_size: int,
    secret_fields: Iterable[str],
    source: str = "mock",
    now: datetime | None = None,
) -> Entry:
    """One journal entry; headers and body are masked here, before anything keeps them."""
    verdict, sent = judged.request_verdict, judged.exchange.request
    response_violations = judged.response_violations
    entry: Entry = {
        "time": timestamp(now or datetime.now(UTC)),
        "source": source,
        "method": sent.method.upper(),
        "path": sent.path,
        "query": {name: list(values) for name, values in sent.query.items()},
        "bare_query": verdict.bare_query,
        "headers": mask_headers(headers),
        "body": mask_body(verdict.body, secret_fields),
        "body_bytes": body_size,
        "operation": verdict.operation,
        "nearest_operation": verdict.nearest_operation,
        "status": judged.exchange.status,
        "valid": not verdict.violations,
        "violations": [v.as_dict() for v in verdict.violations],
        "warnings": [w.as_dict() for w in verdict.warnings],
        "response_violations": (
            None if response_violations is None else [v.as_dict() for v in response_violations]
        ),
    }
    if judged.exchange.response_body is not None:  # the proxy's: the upstream's answer, for a snapshot
        entry["response"] = response_kept(judged, secret_fields)
    return entry


def response_kept(judged: ExchangeVerdict, secret_fields: Iterable[str]) -> dict[str, Any]:
    """An upstream's answer as the journal keeps it: headers and JSON body masked, other text as is."""
    exchange = judged.exchange
    raw = exchange.response_body or b""
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        return {"headers": mask_headers(exchange.response_headers), "text": raw.decode("utf-8", "replace")}
    return {"headers": mask_headers(exchange.response_headers), "body": mask_body(body, secret_fields)}


def mask_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers (a mapping or name-value pairs) with every credential masked; names lower-cased."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {name.lower(): mask_secret(v) if is_credential_header(name) else v for name, v in pairs}


def mask_body(body: Any, secret_fields: Iterable[str]) -> Any:
    """The body with each secret field, and each custom header's value, masked in place, in both
    spellings, keeping its JSON type.

    A masked string stays a string and a masked document stays an object with the same keys, so a
    journaled body can be judged against the contract again (`contracts check-traffic`).
    """
    if body is None:
        return None
    return _mask_fields(body, _both_spellings(frozenset(secret_fields)))


@functools.lru_cache(maxsize=8)
def _both_spellings(secret_fields: frozenset[str]) -> frozenset[str]:
    """The secret fields as the contract names them and in snake_case (one set per contract), and the
    fields of custom headers (`contract.secrets.HEADER_VALUE_FIELDS`)."""
    return both_spellings(secret_fields) | HEADER_VALUE_FIELDS


def _mask_fields(value: Any, secrets: frozenset[str]) -> Any:
    """Secret fields masked at any depth (an integration's `configurations.aws_secret_access_key`)."""
    if isinstance(value, dict):
        return {
            name: _masked(inner) if name in secrets else _mask_fields(inner, secrets)
            for name, inner in value.items()
        }
    if isinstance(value, list):
        return [_mask_fields(inner, secrets) for inner in value]
    return value


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secret(value) if value else value
    if isinstance(value, dict):
        return {name: _masked(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_masked(inner) for inner in value]
    return MASK if value is not None else None
