"""Secrets out of an exchange before a snapshot keeps it, by the contract's rules.

Four rules, applied to every string of the request and the response: a secret field of the
contract (`writeOnly`, at any depth, in either spelling) is replaced whole; a credential header
(`mockserver.journal.is_credential_header`) becomes `<credential-N>`, the same N for the same value, so
a replay still tells two API keys apart; a value that looks like a provider key (`sk-...`) is
replaced wherever it appears, and so is every secret the request carried; a masked secret
(`sk*****bcd`) becomes `<masked>`, as its characters came from the secret.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from mockserver.contract.document import both_spellings
from mockserver.contract.exchange import ExchangeVerdict
from mockserver.contract.secrets import is_credential_header

SECRET = "<secret>"
"""What a snapshot (and every report of the toolkit) shows instead of a secret."""
MASKED = "<masked>"
"""What a snapshot shows instead of a secret's masked form."""
PROVIDER_KEY = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_\-]{30,}|\bgh[pousr]_[A-Za-z0-9]{20,}"
)
"""Values shaped like provider or platform keys (OpenAI, Portkey, AWS, Google, GitHub)."""
MASK_FORM = re.compile(r"^\S{0,4}\*{3,}\S{0,4}$")
SHORTEST_SECRET = 4
"""A secret shorter than this is not cut out of other text (it would cut words)."""
DROPPED_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "accept-encoding",
        "user-agent",
    }
)
"""Headers about the connection or the client program, not the request: not kept."""
KEPT_RESPONSE_HEADERS = frozenset({"content-type", "retry-after"})
"""The response headers a snapshot keeps: what the contract judges and what a client acts on."""


class Redactor:
    """Turns judged exchanges into snapshot exchanges, secrets out; numbers credentials per recording.

    The raw credentials it has seen are held in memory only, to give each the same placeholder.
    """

    def __init__(self, secret_fields: Iterable[str]) -> None:
        self.secret_fields = both_spellings(secret_fields)
        self._credentials: dict[str, str] = {}
        self._lock = threading.Lock()

    def exchange(self, judged: ExchangeVerdict, headers: Mapping[str, str]) -> dict[str, Any]:
        """One exchange as a snapshot keeps it: operation, request, response, both verdicts."""
        exchange, verdict = judged.exchange, judged.request_verdict
        sent = exchange.request
        body = _decoded(sent.body)
        known = {
            text for text in _strings_under_secrets(body, self.secret_fields) if len(text) >= SHORTEST_SECRET
        }
        kept_headers: dict[str, str] = {}
        for name, value in sorted(headers.items(), key=lambda pair: pair[0].lower()):
            lowered = name.lower()
            if lowered in DROPPED_REQUEST_HEADERS:
                continue
            if is_credential_header(lowered):
                kept_headers[lowered] = self._credential(value)
                if len(value) >= SHORTEST_SECRET:
                    known.add(value)
            else:
                kept_headers[lowered] = value
        response_headers = {
            name.lower(): value
            for name, value in exchange.response_headers.items()
            if name.lower() in KEPT_RESPONSE_HEADERS
        }
        clean = _Cleaner(self.secret_fields, known, self._credentials)
        response_violations = judged.response_violations
        return {
            "operation": verdict.operation,
            "request": {
                "method": sent.method.upper(),
                "path": clean.value(sent.path),
                "query": clean.value({name: list(values) for name, values in sent.query.items()}),
                "headers": {
                    name: value if is_credential_header(name) else clean.value(value)
                    for name, value in kept_headers.items()
                },
                **clean.body(body),
            },
            "response": {
                "status": exchange.status,
                "headers": clean.value(response_headers),
                **clean.body(_decoded(exchange.response_body or b"")),
            },
            "request_verdict": {
                "conforms": not verdict.violations,
                "violations": [v.as_dict() for v in verdict.violations],
                "warnings": [w.as_dict() for w in verdict.warnings],
            },
            "response_verdict": {
                "judged": response_violations is not None,
                "conforms": not response_violations,
                "violations": [v.as_dict() for v in response_violations or ()],
            },
        }

    def _credential(self, value: str) -> str:
        with self._lock:
            return self._credentials.setdefault(value, f"<credential-{len(self._credentials) + 1}>")


class _Cleaner:
    """The rules applied to one exchange's values, with the secrets that exchange carried."""

    def __init__(
        self, secret_fields: frozenset[str], known: set[str], credentials: Mapping[str, str]
    ) -> None:
        self.secret_fields = secret_fields
        self.replacements = {secret: SECRET for secret in known} | {
            value: placeholder for value, placeholder in credentials.items() if len(value) >= SHORTEST_SECRET
        }

    def body(self, body: Any) -> dict[str, Any]:
        """`{"body": JSON}`, or `{"body": None, "body_text": ...}` for a body that is not JSON."""
        if isinstance(body, _Text):
            return {"body": None, "body_text": self.value(body.text)}
        return {"body": self.value(self._fields(body))}

    def value(self, value: Any) -> Any:
        """Every string of `value` with known secrets, provider keys and masks taken out."""
        if isinstance(value, str):
            for secret in sorted(self.replacements, key=len, reverse=True):
                value = value.replace(secret, self.replacements[secret])
            value = PROVIDER_KEY.sub(SECRET, value)
            return MASKED if MASK_FORM.match(value) else value
        if isinstance(value, dict):
            return {name: self.value(inner) for name, inner in value.items()}
        if isinstance(value, list):
            return [self.value(inner) for inner in value]
        return value

    def _fields(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                name: _replaced(inner) if name in self.secret_fields else self._fields(inner)
                for name, inner in value.items()
            }
        if isinstance(value, list):
            return [self._fields(inner) for inner in value]
        return value


class _Text:
    """A body that is not JSON, kept as text."""

    def __init__(self, text: str) -> None:
        self.text = text


def _decoded(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _Text(raw.decode("utf-8", "replace"))


def _replaced(value: Any) -> Any:
    """A secret replaced keeping its JSON shape (a service-account document stays an object), so a
    redacted request is still one the contract accepts and a replay can send."""
    if isinstance(value, dict):
        return {name: _replaced(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_replaced(inner) for inner in value]
    if value is None or value == "":
        return value
    return SECRET


def _strings_under_secrets(value: Any, secret_fields: frozenset[str], inside: bool = False) -> Iterable[str]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _strings_under_secrets(inner, secret_fields, inside or name in secret_fields)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings_under_secrets(inner, secret_fields, inside)
    elif inside and isinstance(value, str):
        yield value


def clean_answer(body: Any, secret_fields: Iterable[str]) -> Any:
    """A live answer with secrets and masks out by the rules a snapshot's answers went through, so
    the two compare (`contracts parity`)."""
    return _Cleaner(both_spellings(secret_fields), set(), {}).body(body)["body"]
