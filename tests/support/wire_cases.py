"""Malformed and hostile HTTP, sent on raw sockets, and what each server answers.

One list feeds both `tests/serving/test_wire_hostile.py` and the table of docs/reliability.md, so they
cannot drift. An answer is `STATUS CODE` (Portkey's envelope), or `closed`: the connection closed
with no answer. Every case is followed by a check that no key was created.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVERS = ("granian", "waitress")
LIMIT = 1024 * 1024
"""The mock's `--max-body-bytes` in these tests: its default, which the hostile set assumes."""

READ_TIMEOUT = 2.0
"""The mock's `--read-timeout` in these tests."""

KEY = b"pk-wire-hostile"
BODY = b'{"name": "wire", "provider": "openai", "key": "sk-wire-0123456789"}'


def request(*headers: bytes, body: bytes = b"") -> bytes:
    """A create request with these headers (and the API key unless one is given)."""
    lines = [b"POST /v1/virtual-keys HTTP/1.1", b"Host: mock", b"Content-Type: application/json", *headers]
    if not any(header.lower().startswith(b"x") for header in headers):
        lines.append(b"x-portkey-api-key: " + KEY)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(data: bytes, size: int = 40) -> bytes:
    return b"".join(
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size)
    )


@dataclass(frozen=True)
class WireCase:
    kind: str
    description: str
    sent: bytes
    answers: dict[str, str]  # server: answer
    half_close: bool = False  # the client shuts its sending side after the bytes
    message: str = ""  # the start of the envelope's message, when answered 4xx


LENGTH = b"Content-Length: %d" % len(BODY)
CASES = [
    WireCase(
        "body",
        "shorter than its Content-Length, then the client half-closes",
        request(b"Content-Length: 100", body=BODY[:8]),
        {"granian": "400 AB01", "waitress": "closed"},
        half_close=True,
        message="body: ended before it was complete",
    ),
    WireCase(
        "body",
        "chunked without its last chunk, then the client half-closes",
        request(b"Transfer-Encoding: chunked", body=chunked(BODY)),
        {"granian": "400 AB01", "waitress": "closed"},
        half_close=True,
        message="body: ended before it was complete",
    ),
    WireCase(
        "body",
        "shorter than its Content-Length, then silence",
        request(b"Content-Length: 100", body=BODY[:8]),
        {"granian": "408 AB01", "waitress": "closed"},
        message=f"body: not received within {READ_TIMEOUT:g} s",
    ),
    WireCase(
        "body",
        "Content-Length of 16 MiB, the body not sent",
        request(b"Content-Length: 16777216", body=BODY[:8]),
        {"granian": "413 AB01", "waitress": "413 AB01"},
        message=f"body: larger than the limit of {LIMIT} bytes",
    ),
    WireCase(
        "body",
        "chunked past the limit, the rest not sent",
        request(b"Transfer-Encoding: chunked", body=chunked(b"x" * (LIMIT + 1), size=64 * 1024)),
        {"granian": "413 AB01", "waitress": "413 AB01"},
        message=f"body: larger than the limit of {LIMIT} bytes",
    ),
    WireCase(
        "header",
        "the API key spelled x_portkey_api_key",
        request(b"x_portkey_api_key: " + KEY, LENGTH, body=BODY),
        {"granian": "401 AB05", "waitress": "401 AB05"},
        message="Unauthorised Request",
    ),
    WireCase(
        "header",
        "the API key spelled x_portkey_api_key, then x-portkey-api-key",
        # Too long to be a key: read as the key, it would be refused 400.
        request(b"x_portkey_api_key: " + b"k" * 2000, b"x-portkey-api-key: " + KEY, LENGTH, body=BODY),
        {"granian": "200", "waitress": "200"},
    ),
]


def wire_table() -> str:
    """The table of docs/reliability.md, row for row from CASES."""
    rows = ["| class | sent | " + " | ".join(SERVERS) + " |", "|---|---|" + "---|" * len(SERVERS)]
    for case in CASES:
        answers = " | ".join(case.answers[server] for server in SERVERS)
        rows.append(f"| {case.kind} | {case.description} | {answers} |")
    return "\n".join(rows)
