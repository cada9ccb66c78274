"""The hostile and malformed inputs the mock is tested with, and the answer each must get.

One list feeds both the test matrix and the table of docs/reliability.md, so they cannot drift.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from dataclasses import dataclass, field

KEY = ("x-portkey-api-key", "pk-hostile")
JSON = ("Content-Type", "application/json")
VALID = {"name": "hostile", "provider": "openai", "key": "sk-hostile-0123456789"}


def body(**overrides: object) -> bytes:
    return json.dumps({**VALID, **overrides}).encode()


def nested(levels: int) -> bytes:
    """A valid create whose `note` holds `levels` arrays, one in another (the body: one more level)."""
    return body()[:-1] + b', "note": ' + b"[" * levels + b"]" * levels + b"}"


@dataclass(frozen=True)
class Case:
    kind: str
    description: str
    method: str
    path: str
    status: int
    code: str | None
    message: str = ""  # the start of the expected message ("" when accepted)
    payload: bytes | None = None
    headers: tuple[tuple[str, str], ...] = (KEY, JSON)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return self.status >= 400


CREATE, LIST = "/v1/virtual-keys", "/v1/virtual-keys"
CASES = [
    Case("JSON", "malformed JSON", "POST", CREATE, 400, "AB01", "body: is not valid JSON (", b'{"name": '),
    Case("JSON", "truncated JSON", "POST", CREATE, 400, "AB01", "body: is not valid JSON (", body()[:-5]),
    Case(
        "JSON",
        "duplicate keys",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.name: appears more than once",
        b'{"name": "a", "name": "b", "provider": "openai", "key": "sk-hostile-0123456789"}',
    ),
    Case(
        "JSON",
        "a JSON array instead of an object",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: must be a JSON object",
        b"[]",
    ),
    Case(
        "JSON",
        "a JSON scalar instead of an object",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: must be a JSON object",
        b"42",
    ),
    Case(
        "JSON",
        "JSON null instead of an object",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: must be a JSON object",
        b"null",
    ),
    Case(
        "JSON",
        "10,000 levels of nesting",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is nested too deeply (more than 64 levels",
        b"[" * 10_000 + b"]" * 10_000,
    ),
    Case(
        "JSON",
        "5,000 levels of nesting in a field",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is nested too deeply (more than 64 levels",
        nested(5_000),
    ),
    Case(
        "JSON",
        "490 levels of nesting in a field (about 1 KB)",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is nested too deeply (more than 64 levels",
        nested(490),
    ),
    Case(
        "JSON",
        "65 levels of nesting (one past the limit)",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is nested too deeply (more than 64 levels",
        nested(64),
    ),
    Case(
        "JSON",
        "a 5,000-digit number",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.usage_limits.credit_limit: is a number too large to read",
        body()[:-1] + b', "usage_limits": {"credit_limit": ' + b"9" * 5000 + b"}}",
    ),
    Case(
        "JSON",
        "a number beyond float range (1e400)",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.usage_limits.credit_limit: is a number too large to read",
        body()[:-1] + b', "usage_limits": {"credit_limit": 1e400}}',
    ),
    Case(
        "JSON",
        "NaN in a number field",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.usage_limits.credit_limit: is NaN or Infinity, which is not JSON",
        body()[:-1] + b', "usage_limits": {"credit_limit": NaN}}',
    ),
    Case(
        "JSON",
        "Infinity in a list's item",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.rate_limits[0].value: is NaN or Infinity, which is not JSON",
        body()[:-1] + b', "rate_limits": [{"type": "requests", "unit": "rpm", "value": Infinity}]}',
    ),
    Case(
        "JSON",
        "-Infinity in a string field",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.note: is NaN or Infinity, which is not JSON",
        body()[:-1] + b', "note": -Infinity}',
    ),
    Case(
        "JSON",
        "Infinity as pricing_adjustments.multiplier.default",
        "POST",
        "/v1/integrations",
        400,
        "AB01",
        "body.pricing_adjustments.multiplier.default: is NaN or Infinity, which is not JSON",
        b'{"name": "hostile", "ai_provider_id": "openai", "key": "sk-hostile-0123456789", '
        b'"pricing_adjustments": {"multiplier": {"default": Infinity}}}',
    ),
    Case(
        "JSON",
        "a number beyond float range as multiplier.default (1e400)",
        "POST",
        "/v1/integrations",
        400,
        "AB01",
        "body.pricing_adjustments.multiplier.default: is a number too large to read",
        b'{"name": "hostile", "ai_provider_id": "openai", "key": "sk-hostile-0123456789", '
        b'"pricing_adjustments": {"multiplier": {"default": 1e400}}}',
    ),
    Case("JSON", "an empty body", "POST", CREATE, 400, "AB01", "body: is required", b""),
    Case(
        "encoding",
        "a body that is not UTF-8",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is not valid UTF-8",
        b'{"name": "\xff\xfe"}',
    ),
    Case(
        "encoding",
        "an encoded lone surrogate (ED A0 80)",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is not valid UTF-8",
        b'{"name": "\xed\xa0\x80"}',
    ),
    Case(
        "encoding",
        "a raw NUL byte in a string",
        "POST",
        CREATE,
        400,
        "AB01",
        "body: is not valid JSON (",
        body(name="a\x00b").replace(b"\\u0000", b"\x00"),
    ),
    Case(
        "encoding",
        "a UTF-8 byte-order mark before the JSON",
        "POST",
        CREATE,
        200,
        None,
        "",
        b"\xef\xbb\xbf" + body(),
    ),
    Case(
        "encoding", "an escaped NUL (\\u0000) in a name", "POST", CREATE, 200, None, "", body(name="a\x00b")
    ),
    Case(
        "encoding",
        "an escaped lone surrogate (\\ud800) in a name",
        "POST",
        CREATE,
        200,
        None,
        "",
        b'{"name": "\\ud800", "provider": "openai", "key": "sk-hostile-0123456789"}',
    ),
    Case(
        "content type",
        "no Content-Type",
        "POST",
        CREATE,
        415,
        "AB01",
        "header.Content-Type: is required",
        body(),
        (KEY,),
    ),
    Case(
        "content type",
        "Content-Type text/plain",
        "POST",
        CREATE,
        415,
        "AB01",
        "header.Content-Type: must be",
        body(),
        (KEY, ("Content-Type", "text/plain")),
    ),
    Case(
        "content type",
        "charset latin-1",
        "POST",
        CREATE,
        415,
        "AB01",
        "header.Content-Type: charset must be",
        body(),
        (KEY, ("Content-Type", "application/json; charset=latin-1")),
    ),
    Case(
        "content type",
        "charset UTF-8 (any case, quoted)",
        "POST",
        CREATE,
        200,
        None,
        "",
        body(),
        (KEY, ("Content-Type", 'application/json;charset="UTF-8"')),
    ),
    Case(
        "size",
        "a body over the 1 MiB limit",
        "POST",
        CREATE,
        413,
        "AB01",
        "body: larger than the limit",
        body(note="x" * (1024 * 1024)),
    ),
    Case(
        "size",
        "a 256-character name",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.name: must be at most 255 characters long",
        body(name="n" * 256),
    ),
    Case("size", "a 500,000-character note", "POST", CREATE, 200, None, "", body(note="n" * 500_000)),
    Case(
        "date-time",
        "expires_at with a lower-case t and z",
        "POST",
        CREATE,
        200,
        None,
        "",
        body(expires_at="2030-01-01t00:00:00z"),
    ),
    Case(
        "date-time",
        "expires_at with an offset and nine fractional digits",
        "POST",
        CREATE,
        200,
        None,
        "",
        body(expires_at="2030-01-01T05:30:00.123456789+05:30"),
    ),
    Case(
        "date-time",
        "expires_at ending in a newline (the contract's check allows one)",
        "POST",
        CREATE,
        200,
        None,
        "",
        body(expires_at="2030-01-01T00:00:00Z\n"),
    ),
    Case(
        "date-time",
        "expires_at before year 1 in UTC (0001-01-01T00:00:00+01:00)",
        "POST",
        CREATE,
        400,
        "AB01",
        "body.expires_at: is outside the years 0001 to 9999 once converted to UTC",
        body(expires_at="0001-01-01T00:00:00+01:00"),
    ),
    Case("unicode", "a name with no Latin letters", "POST", CREATE, 200, None, "", body(name="日本語のキー")),
    Case("unicode", "an emoji name", "POST", CREATE, 200, None, "", body(name="🔑 key")),
    Case(
        "slug",
        "percent-encoded traversal ..%2F",
        "GET",
        "/v1/virtual-keys/..%2F",
        404,
        "AB08",
        "No such endpoint",
        None,
        (KEY,),
    ),
    Case(
        "slug",
        "a slug with a slash (a/b)",
        "GET",
        "/v1/virtual-keys/a/b",
        404,
        "AB08",
        "No such endpoint",
        None,
        (KEY,),
    ),
    Case(
        "slug",
        "a slug of dots (%2e%2e)",
        "GET",
        "/v1/virtual-keys/%2e%2e",
        404,
        "AB08",
        "Virtual key not found: ..",
        None,
        (KEY,),
    ),
    Case(
        "slug",
        "the SDK's slug=None",
        "GET",
        "/v1/virtual-keys/None",
        404,
        "AB08",
        "Virtual key not found: None",
        None,
        (KEY,),
    ),
    Case(
        "slug",
        "the SDK's unset slug (NOT_GIVEN)",
        "PUT",
        "/v1/virtual-keys/NOT_GIVEN",
        404,
        "AB08",
        "Virtual key not found: NOT_GIVEN",
        body(name="x")[:0] + b'{"note": "x"}',
    ),
    Case(
        "slug",
        "a 10,000-character slug",
        "DELETE",
        "/v1/virtual-keys/" + "s" * 10_000,
        404,
        "AB08",
        "Virtual key not found: sss",
        None,
        (KEY,),
    ),
    Case("method", "PATCH on the collection", "PATCH", LIST, 405, "AB01", "Method not allowed", b"{}"),
    Case(
        "method",
        "OPTIONS on a key",
        "OPTIONS",
        "/v1/virtual-keys/x",
        405,
        "AB01",
        "Method not allowed",
        None,
        (KEY,),
    ),
    Case("method", "HEAD on the collection", "HEAD", LIST, 200, None, "", None, (KEY,)),
    Case("path", "an unknown path", "GET", "/v1/virtual-keyz", 404, "AB08", "No such endpoint", None, (KEY,)),
    Case("header", "no API key", "GET", LIST, 401, "AB05", "Unauthorised Request", None, ()),
    Case(
        "header",
        "a 100 KB API key",
        "GET",
        LIST,
        400,
        "AB01",
        "header.x-portkey-api-key: is longer than 1024 characters",
        None,
        (("x-portkey-api-key", "k" * 100_000),),
    ),
    Case(
        "header",
        "two x-portkey-api-key headers",
        "GET",
        LIST,
        400,
        "AB01",
        "header.x-portkey-api-key: is sent more than once",
        None,
        (KEY, ("x-portkey-api-key", "pk-other")),
    ),
    Case(
        "header",
        "a non-ASCII API key",
        "GET",
        LIST,
        200,
        None,
        "",
        None,
        (("x-portkey-api-key", "ключ".encode().decode("latin-1")),),
    ),
    Case(
        "query",
        "a page beyond any data (current_page=10^12)",
        "GET",
        LIST + "?current_page=1000000000000&page_size=1000000000000",
        200,
        None,
        "",
        None,
        (KEY,),
    ),
    Case(
        "query",
        "a negative page",
        "GET",
        LIST + "?current_page=-1",
        400,
        "AB01",
        "query.current_page: must be at least 0",
        None,
        (KEY,),
    ),
]


def reliability_table() -> str:
    """The table of docs/reliability.md, row for row from CASES."""
    rows = ["| class | input | answer | message (its start) |", "|---|---|---|---|"]
    for case in CASES:
        answer = f"{case.status} {case.code}" if case.code else f"{case.status}"
        message = f"`{case.message}`" if case.message else ""
        rows.append(f"| {case.kind} | {case.description} | {answer} | {message} |")
    return "\n".join(rows)


def send(root_url: str, method: str, path: str, payload: bytes | None, headers) -> tuple[int, dict, bytes]:
    host, port = root_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if payload is not None:
            connection.putheader("Content-Length", str(len(payload)))
        # Refused before the body was all sent (413): read the answer anyway, as httpx and requests do.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.endheaders(payload)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def snapshot(root_url: str) -> bytes:
    status, _, data = send(root_url, "GET", "/v1/virtual-keys?page_size=1000", None, (KEY,))
    assert status == 200
    return data
