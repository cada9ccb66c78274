"""What Flask and werkzeug did for the API and its own WSGI layer (mockserver/wsgi.py) now does,
over a real socket on both servers: streamed bodies and their limit, HEAD, bytes that are not UTF-8.

The servers differ where it matters: waitress hands the app a chunked body with a `Content-Length`
it worked out, granian hands it over as a stream."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest

from mockserver import MockServer, create_app
from mockserver.config import MockConfig
from mockserver.serving.granian import WsgiOverRsgi
from mockserver.wsgi import DRAINED_BYTES, HeaderView, query_of
from tests.support.served import ServedProcess

pytestmark = pytest.mark.slow  # starts `mockserver serve`: not in the fast loop

HEADERS = {"x-portkey-api-key": "pk-wire", "content-type": "application/json"}
LIMIT = 300


@pytest.fixture(scope="module", params=["waitress", "granian"])
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    if request.param == "waitress":  # the pytest plugin's in-thread server
        server: MockServer | ServedProcess = MockServer(create_app(MockConfig(max_body_bytes=LIMIT))).start()
    else:  # `mockserver serve`, as a user starts it
        server = ServedProcess("--max-body-bytes", str(LIMIT))
    with httpx.Client(base_url=server.root_url, headers=HEADERS) as http:
        yield http
    server.stop()


@pytest.fixture
def api(client: httpx.Client) -> httpx.Client:
    client.post("/__mock/reset")
    return client


def _in_pieces(data: bytes) -> Iterator[bytes]:
    """A body httpx sends chunked (`Transfer-Encoding: chunked`, no `Content-Length`)."""
    for start in range(0, len(data), 7):
        yield data[start : start + 7]


def _key(name: str) -> bytes:
    return json.dumps({"name": name, "provider": "openai", "key": "sk-wire-0000000000wxyz"}).encode()


def _journal(client: httpx.Client) -> list[dict]:
    entries: list[dict] = client.get("/__mock/journal").json()["entries"]
    return entries


def test_a_chunked_body_is_read_whole_and_stored(api):
    response = api.post("/v1/virtual-keys", content=_in_pieces(_key("sent in pieces")))
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200
    slug = response.json()["data"]["slug"]
    assert api.get(f"/v1/virtual-keys/{slug}").json()["name"] == "sent in pieces"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "with Content-Length"])
def test_a_body_over_the_limit_is_refused_413_naming_it_and_journaled(api, chunked):
    body = _key("x" * LIMIT)
    response = api.post("/v1/virtual-keys", content=_in_pieces(body) if chunked else body)
    assert response.status_code == 413
    assert response.json()["data"] == {
        "message": f"body: larger than the limit of {LIMIT} bytes",
        "errorCode": "AB01",
    }
    [entry] = _journal(api)
    assert entry["status"] == 413 and entry["operation"] == "createVirtualKey" and not entry["valid"]
    assert api.get("/v1/virtual-keys").json()["total"] == 0


def _chunked_request(body: bytes) -> bytes:
    head = b"POST /v1/virtual-keys HTTP/1.1\r\nHost: mock\r\nx-portkey-api-key: pk-wire\r\n"
    head += b"content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in _in_pieces(body))
    return head + chunks + b"0\r\n\r\n"


def _answer(raw: socket.socket) -> tuple[bytes, bytes]:
    """One answer read off a kept-alive connection: its head, and a body of its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data and (piece := raw.recv(65536)):
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length")
        )
    )
    while len(body) < length and (piece := raw.recv(65536)):
        body += piece
    return head, body


def test_after_a_413_for_a_chunked_body_the_connection_closes_or_carries_the_next_request(api):
    """A client's pool reuses a connection its answer did not close: one the server then drops
    fails the client's next call (`Server disconnected without sending a response`). waitress
    stops reading at the limit and says `Connection: close`; granian reads a body a little over
    it to its end and drops it, so the connection carries the next request."""
    url = httpx.URL(str(api.base_url))
    with socket.create_connection((url.host, url.port), timeout=10) as raw:
        raw.sendall(_chunked_request(_key("x" * LIMIT)))
        head, _ = _answer(raw)
        assert head.startswith(b"HTTP/1.1 413")
        if b"connection: close" in head.lower():
            assert raw.recv(65536) == b""  # closed, as announced
            return
        raw.sendall(b"GET /v1/virtual-keys HTTP/1.1\r\nHost: mock\r\nx-portkey-api-key: pk-wire\r\n\r\n")
        head, body = _answer(raw)
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["total"] == 0


def test_a_chunked_body_too_long_to_drop_is_answered_413_with_connection_close():
    """Past the limit and a mebibyte more, granian stops reading, and the connection cannot carry
    another request: the 413 says `Connection: close`, so no client sends one into it."""
    server = ServedProcess("--max-body-bytes", str(LIMIT))
    try:
        url = httpx.URL(server.root_url)
        with socket.create_connection((url.host, url.port), timeout=10) as raw:
            raw.sendall(_chunked_request(_key("x" * (DRAINED_BYTES + 2 * LIMIT)))[: DRAINED_BYTES * 2])
            head, body = _answer(raw)
        assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
        assert json.loads(body)["data"]["errorCode"] == "AB01"
    finally:
        server.stop()


class _Rsgi:
    """Stands for granian's side of one RSGI request: the body's pieces as it hands them over
    (ended by an empty one, unless the client stalls before the end), or the whole body of an
    announced length at once, and the answer it is given."""

    def __init__(self, body: bytes, piece: int, stalls: bool = False, announced: bool = False) -> None:
        self.pieces = [body[start : start + piece] for start in range(0, len(body), piece)]
        self.stalls = stalls
        self.pieces += [] if stalls else [b""]
        self.answer: tuple[int, dict[str, str], bytes] | None = None
        framing = {"content-length": str(len(body))} if announced else {"transfer-encoding": "chunked"}
        self.scope = SimpleNamespace(
            method="POST", path="/v1/virtual-keys", query_string="", server="127.0.0.1:80",
            http_version="1.1", client="127.0.0.1:5000", scheme="http", authority="mock",
            headers=_Headers({"x-portkey-api-key": "pk-wire", "content-type": "application/json", **framing}),
        )  # fmt: skip

    async def __call__(self) -> bytes:
        if self.stalls:
            await asyncio.Event().wait()  # the rest never comes
        body, self.pieces = b"".join(self.pieces), []
        return body

    def __aiter__(self) -> _Rsgi:
        return self

    async def __anext__(self) -> bytes:
        if self.pieces:
            return self.pieces.pop(0)
        if self.stalls:
            await asyncio.Event().wait()  # the rest never comes
        raise StopAsyncIteration

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answer = (status, dict(headers), body)


class _Headers(dict):
    def get_all(self, name: str) -> list[str]:
        return [self[name]]


def _bridged(body: bytes, piece: int, stalls: bool = False, announced: bool = False) -> _Rsgi:
    request = _Rsgi(body, piece, stalls, announced)
    bridge = WsgiOverRsgi(create_app(MockConfig(max_body_bytes=LIMIT)), 1, LIMIT, read_timeout=5.0)
    asyncio.run(bridge.__rsgi__(request.scope, request))
    return request


def test_the_rest_of_a_chunked_body_a_little_over_the_limit_is_read_before_the_413():
    """Answered before the client has sent it all, the 413 would leave bytes of the body on the
    connection, and granian drops it: the client's next request, sent into it, gets no answer."""
    request = _bridged(_key("x" * LIMIT), piece=7)
    assert request.answer is not None and request.answer[0] == 413
    assert request.pieces == []  # read to its end
    assert "connection" not in request.answer[1]  # the connection carries the next request


def test_a_chunked_body_too_long_to_read_and_drop_is_answered_413_closing_the_connection():
    request = _bridged(_key("x" * (DRAINED_BYTES + LIMIT)), piece=64 * 1024)
    assert request.answer is not None and request.answer[0] == 413
    assert request.pieces  # not read to its end: at most a mebibyte past the limit is
    assert request.answer[1]["connection"] == "close"


@pytest.mark.parametrize("announced", [False, True], ids=["chunked", "with Content-Length"])
def test_a_client_that_stalls_past_the_limit_gets_its_413_closing_the_connection(announced):
    """The rest is waited for only `DRAIN_SECONDS`, not the read timeout (which would answer 408)."""
    request = _bridged(_key("x" * LIMIT), piece=7, stalls=True, announced=announced)
    assert request.answer is not None and request.answer[0] == 413
    assert request.answer[1]["connection"] == "close"


def test_a_body_announced_a_little_over_the_limit_is_read_before_the_413():
    request = _bridged(_key("x" * LIMIT), piece=7, announced=True)
    assert request.answer is not None and request.answer[0] == 413
    assert request.pieces == []  # read to its end
    assert "connection" not in request.answer[1]


def test_head_answers_the_gets_headers_without_its_body(api):
    api.post("/v1/virtual-keys", content=_key("listed"))
    got = api.get("/v1/virtual-keys")
    url = httpx.URL(str(api.base_url))
    with socket.create_connection((url.host, url.port), timeout=10) as raw:  # what is on the wire
        raw.sendall(b"HEAD /v1/virtual-keys HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n"
                    b"x-portkey-api-key: pk-wire\r\n\r\n")  # fmt: skip
        sent = b"".join(iter(lambda: raw.recv(65536), b""))
    head, _, after = sent.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert f"content-length: {len(got.content)}".encode() in head.lower()
    assert after == b""  # no body: a client reusing the connection would read it as the next answer


def test_query_bytes_that_are_not_utf8_stay_percent_encoded_whether_sent_raw_or_escaped():
    # The codec error handler doing this is registered by mockserver.wsgi itself, not as a side
    # effect of importing werkzeug.urls.
    parsed = query_of({"QUERY_STRING": "page=%ff&name=caf%C3%A9&raw=\xff&blank="})
    assert parsed == {"page": ["%FF"], "name": ["café"], "raw": ["%FF"], "blank": [""]}


def test_a_query_byte_that_is_not_utf8_is_refused_400_naming_the_parameter(api):
    response = api.get("/v1/virtual-keys?current_page=%ff")
    assert response.status_code == 400
    assert response.json()["data"]["message"] == "query.current_page: must be of type integer"
    assert _journal(api)[-1]["query"] == {"current_page": ["%FF"]}  # kept encoded, as werkzeug does


def test_a_utf8_slug_in_the_path_is_decoded(api):
    response = api.get("/v1/virtual-keys/caf%C3%A9")
    assert response.status_code == 404
    assert _journal(api)[-1]["path"] == "/v1/virtual-keys/café"


def test_the_mocks_own_http_variables_are_not_read_as_request_headers(monkeypatch):
    """granian copies the process environment into each request's environ: a proxy URL with its
    password, set for the mock, must not turn up in the journal as a header the client sent."""
    monkeypatch.setenv("HTTP_PROXY", "http://user:hunter2-secret@proxy.example:3128")
    server = ServedProcess()
    try:
        with httpx.Client(base_url=server.root_url, headers=HEADERS, trust_env=False) as http:
            http.get("/v1/virtual-keys")
            http.get("/v1/virtual-keys", headers={"X-Trace": "sent by the client"})
            entries = http.get("/__mock/journal").json()["entries"]
    finally:
        server.stop()
    assert "hunter2" not in json.dumps(entries)
    assert "proxy" not in entries[0]["headers"]
    assert entries[1]["headers"]["x-trace"] == "sent by the client"


def test_a_requests_headers_are_read_whatever_their_case_and_a_missing_one_is_the_default():
    environ = {"HTTP_X_PORTKEY_API_KEY": "pk-1", "CONTENT_TYPE": "application/json", "PATH_INFO": "/"}
    headers = HeaderView(environ)
    assert headers.get("X-Portkey-API-Key") == headers["x-portkey-api-key"] == "pk-1"
    assert headers.get("content-type") == "application/json"
    assert headers.get("x-portkey-workspace") is None and headers.get("x-portkey-workspace", "") == ""
    assert "x-portkey-workspace" not in headers and "path-info" not in headers
    with pytest.raises(KeyError):
        headers["x-portkey-workspace"]
