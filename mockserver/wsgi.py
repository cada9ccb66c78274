"""The WSGI side of an API request: the environ read into what the validator needs, and an answer
written back, with no web framework in between.

The API plane (`routes.py`) runs on these directly, because Flask's request machinery (request and
app contexts, `Request` and `Response` objects) cost 39 µs per request, measured in process, where
these cost under 2 µs; see docs/performance.md. Parsing that is not on the common path (query
strings) is left to the standard library, read as werkzeug reads them.
"""

from __future__ import annotations

import codecs
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from mockserver.contract.validation import IncomingRequest
from mockserver.errors import ApiError, PayloadTooLarge

log = logging.getLogger("mockserver")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

JSON_TYPE = "application/json"


def path_of(environ: Environ) -> str:
    """The request's path as text (WSGI hands it over as latin-1; clients send UTF-8)."""
    path: str = environ.get("PATH_INFO") or "/"
    return path.encode("latin-1").decode("utf-8", "replace")


def origin_of(environ: Environ) -> str:
    """The scheme and host a request came to, as the client named them (`Host`), else the server's."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", ""))
        if port and port != ("443" if scheme == "https" else "80"):
            host = f"{host}:{port}"
    return f"{scheme}://{host}"


def incoming(environ: Environ, path_params: Mapping[str, str], max_body_bytes: int | None) -> IncomingRequest:
    """The request as the validator sees it.

    On every request's path, so it parses only what is there: no query string, no body, and
    headers only when someone asks for them.
    """
    method = environ["REQUEST_METHOD"]
    return IncomingRequest(
        method="GET" if method == "HEAD" else method,  # HEAD is GET without a body
        path=path_of(environ),
        query=query_of(environ),
        headers=HeaderView(environ),
        body=body_of(environ, max_body_bytes),
        content_type=environ.get("CONTENT_TYPE"),
        path_params=path_params,
    )


def query_of(environ: Environ) -> dict[str, list[str]]:
    """The query string's parameters, each with every value sent, parsed as werkzeug parses them:
    bytes that are not UTF-8 stay percent-encoded (`?page=%ff` gives `%FF`)."""
    raw = environ.get("QUERY_STRING")
    if not raw:
        return {}
    text = raw.encode("latin-1").decode("utf-8", _KEEP_QUOTED)
    pairs = parse_qsl(text, keep_blank_values=True, errors=_KEEP_QUOTED)
    query: dict[str, list[str]] = {}
    for name, value in pairs:
        query.setdefault(name, []).append(value)
    return query


def _keep_quoted(error: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: the bytes that are not UTF-8, percent-encoded, in place."""
    assert isinstance(error, UnicodeDecodeError)
    return "".join(f"%{byte:02X}" for byte in error.object[error.start : error.end]), error.end


_KEEP_QUOTED = "mockserver.keep_quoted"
codecs.register_error(_KEEP_QUOTED, _keep_quoted)


def body_of(environ: Environ, max_body_bytes: int | None) -> bytes:
    """The request body; `PayloadTooLarge` past `max_body_bytes` (None: no limit), announced or streamed."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length and length.isdigit():  # the common case: one read of the announced size
        if max_body_bytes is not None and int(length) > max_body_bytes:
            raise PayloadTooLarge(max_body_bytes)
        body: bytes = stream.read(int(length))
        return body
    if not environ.get("wsgi.input_terminated"):
        return b""  # no length, and the server does not end the stream: not read, as werkzeug does
    pieces, size = [], 0  # streamed (chunked) and ended by the server: read to its end or the limit
    while piece := stream.read(64 * 1024):
        size += len(piece)
        if max_body_bytes is not None and size > max_body_bytes:
            _drain(stream, DRAINED_BYTES)
            raise PayloadTooLarge(max_body_bytes)
        pieces.append(piece)
    return b"".join(pieces)


DRAINED_BYTES = 1 << 20
"""How much more of a streamed body over the limit is read and dropped before the 413 is answered.

A client still sending when the server answers and closes sees its connection reset, often before
it reads the answer (`Server disconnected without sending a response`); read to the body's end, a
client sending a little too much gets its 413. A body longer still, or stalled, is cut short."""


def _drain(stream: Any, budget: int) -> None:
    try:
        while budget > 0 and (piece := stream.read(min(budget, 64 * 1024))):
            budget -= len(piece)
    except Exception:  # best effort: a client that stalls or breaks gets its 413 anyway
        return


def bare_query(environ: Environ) -> bool:
    """Whether the request's URL ended in a `?` with nothing after it (the Python SDK's `list()`)."""
    raw_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
    return raw_uri.endswith("?") and raw_uri.count("?") == 1


def header_pairs(environ: Environ) -> list[tuple[str, str]]:
    """The request's headers as (name, value) pairs, read straight from the environ."""
    pairs = [
        (name[5:].replace("_", "-"), value)
        for name, value in environ.items()
        if name[:5] == "HTTP_" and _OWN_VARIABLES.get(name) != value
    ]
    pairs += [(name.replace("_", "-"), environ[name]) for name in _BODY_HEADERS if environ.get(name)]
    return pairs


_BODY_HEADERS = ("CONTENT_TYPE", "CONTENT_LENGTH")

_OWN_VARIABLES = {name: value for name, value in os.environ.items() if name.startswith("HTTP_")}
"""The mock's own environment variables that look like request headers. granian builds each
request's environ on a copy of the process environment, so `HTTP_PROXY=http://user:password@...`
set for the mock read as a `Proxy` header from the client, and went into the journal. Such a
variable is not a header unless the request's value differs (a header sent replaces it)."""


class HeaderView(Mapping[str, str]):
    """A request's headers as a read-only mapping that ignores case, read from the environ when asked.

    Copying every header into a dict cost a third of the validator's share of a request.
    """

    def __init__(self, environ: Environ) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        value = self._value(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        """`Mapping.get` without its KeyError: most headers a request is asked for are not sent."""
        value = self._value(name)
        return default if value is None else value

    def _value(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        key = key if key in _BODY_HEADERS else "HTTP_" + key
        value = self._environ.get(key)
        if value is None or _OWN_VARIABLES.get(key) == value:
            return None
        return str(value)

    def __iter__(self) -> Iterator[str]:
        for name, _ in header_pairs(self._environ):
            yield name.title()

    def __len__(self) -> int:
        return len(header_pairs(self._environ))


def answer(
    environ: Environ,
    start_response: StartResponse,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> list[bytes]:
    """Send a JSON answer: its status line and headers now, its body as the WSGI result."""
    sent = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))]
    if headers:
        sent += headers.items()
    start_response(status_line(status), sent)
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def status_line(status: int) -> str:
    """`200 OK`, `503 SERVICE UNAVAILABLE`: the status line of every answer the mock writes itself."""
    line = _STATUS_LINES.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase.upper()
        except ValueError:
            phrase = "UNKNOWN"
        line = _STATUS_LINES[status] = f"{status} {phrase}"
    return line


_STATUS_LINES: dict[int, str] = {}
"""`200 OK`, `404 NOT FOUND`: upper case, as werkzeug writes them (the mock answered under Flask)."""


class ErrorAnswers:
    """Any exception raised while serving, on either plane, as the error Portkey answers with: the
    API's pipeline and the control plane's Flask error handler both ask here, so the envelope, the
    store-outage answer are decided once (the 404 and 405 words are `errors.no_such_route`'s, which
    the control plane also gives Flask's own routing refusals: `control.plane`).

    `unreachable`: what the shared store raises when it cannot be reached; `lost` notes such an
    error and returns the 503 to answer (`state.outage.StoreWatch.lost`).
    """

    def __init__(
        self,
        unreachable: tuple[type[Exception], ...] = (),
        lost: Callable[[Exception], ApiError] | None = None,
    ) -> None:
        self.unreachable = unreachable
        self._lost = lost

    def __call__(self, error: Exception) -> ApiError:
        if isinstance(error, ApiError):
            return error
        if self._lost is not None and isinstance(error, self.unreachable):
            return self._lost(error)
        # The exception type only: its text or traceback may quote a request value.
        log.error("internal error: %s", type(error).__name__)
        return ApiError("Internal error")
