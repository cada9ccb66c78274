"""What a server hands the app when it stopped reading a request body: the refusal, not the bytes.

Both servers read the body before the app runs (granian on its event loop, see `granian.py`;
waitress in its asyncore loop), so a slow, stalled, oversized or cut-short body never holds one of
the threads that run the app. When the server stops reading, the request still reaches the app,
with a `wsgi.input` whose every read raises the refusal: the API answers it in Portkey's envelope
and journals it like any body it refuses itself (`mockserver.wsgi.body_of` reads it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockserver.errors import BodyRefused

READ_TIMEOUT = 10.0
"""Seconds a client may take to send a request's body (`--read-timeout`)."""


def body_limit(app: Any) -> int | None:
    """The largest body `app` takes, which the server enforces while reading: the mock's
    `--max-body-bytes` (`MockApp.max_body_bytes`); none for an app that states none."""
    limit = getattr(app, "max_body_bytes", None)
    return limit if isinstance(limit, int) else None


class RefusedBody:
    """A `wsgi.input` standing for a body the server refused while reading it.

    `read_to_end`: whether the server still read the refused body to its end, so the connection
    can carry the client's next request; if not, the answer must close it."""

    def __init__(self, refusal: BodyRefused, read_to_end: bool = False) -> None:
        self.refusal = refusal
        self.read_to_end = read_to_end

    def read(self, size: int = -1) -> bytes:
        raise self.refusal

    def readline(self, size: int = -1) -> bytes:
        raise self.refusal

    def __iter__(self) -> Iterator[bytes]:
        raise self.refusal
