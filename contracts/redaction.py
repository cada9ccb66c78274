"""Secrets out of everything a report shows: one placeholder, and the ways to put it in.

Every writer of a report (verify's terminal, JUnit, JSON and HTML reports, check-traffic's text and
HTML) shows requests and responses through these functions, so a secret is replaced the same way
everywhere: a secret field by name, a credential header by name, a known secret value wherever it
appears.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from mockserver.contract import strict_json
from mockserver.contract.secrets import is_credential_header
from mockserver.snapshots.redact import SECRET

__all__ = [
    "SECRET",
    "readable_json",
    "redact",
    "redact_fields",
    "redact_headers",
    "redacted_json",
    "secret_values",
]
SHORTEST_SECRET = 4
"""A value shorter than this under a secret field is not cut out of other text (it would cut words)."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every one of `secrets` replaced, the longest first (one may contain another)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, SECRET)
    return text


def redact_fields(body: Any, secret_fields: frozenset[str]) -> Any:
    """`body` with the value of every secret field, at any depth, replaced."""
    if isinstance(body, dict):
        return {
            name: SECRET if name in secret_fields else redact_fields(value, secret_fields)
            for name, value in body.items()
        }
    if isinstance(body, list):
        return [redact_fields(item, secret_fields) for item in body]
    return body


def readable_json(raw: bytes) -> Any:
    """A body decoded for showing (`strict_json.readable`: odd numbers as text); `ValueError` if it
    is not JSON or is nested deeper than the mock reads."""
    body = strict_json.readable(raw.decode("utf-8", "replace"))
    if body is None:
        raise ValueError("not JSON, or nested too deeply")
    return body


def redacted_json(raw: bytes, secret_fields: frozenset[str]) -> str:
    """A JSON body as text with its secret fields replaced; `ValueError` if it is not JSON."""
    return json.dumps(redact_fields(readable_json(raw), secret_fields), ensure_ascii=False)


def secret_values(body: Any, secret_fields: frozenset[str]) -> list[str]:
    """Every string under a secret field of `body`, to be cut out of anything shown beside it."""
    if isinstance(body, dict):
        return [
            text
            for name, value in body.items()
            for text in (
                [s for s in _strings(value) if len(s) >= SHORTEST_SECRET]
                if name in secret_fields
                else secret_values(value, secret_fields)
            )
        ]
    if isinstance(body, list):
        return [text for item in body for text in secret_values(item, secret_fields)]
    return []


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with every credential replaced; names lower-cased."""
    return {name.lower(): SECRET if is_credential_header(name) else value for name, value in headers.items()}


def secret_header_values(headers: Mapping[str, str]) -> list[str]:
    """The values of the credential headers, to be cut out of anything shown beside them."""
    return [value for name, value in headers.items() if is_credential_header(name)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for inner in value.values() for s in _strings(inner)]
    if isinstance(value, list):
        return [s for inner in value for s in _strings(inner)]
    return []
