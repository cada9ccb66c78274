"""Malformed and hostile HTTP on raw sockets, the same set against each server (granian and
waitress, each started as `mockserver serve` is): stalled uploads hold no thread, a body past the
limit is refused before it is read, an incomplete body is never processed, and a header spelled
with underscores is not the API key. The exact answers are in `tests/support/wire_cases.py`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.support.hostile_cases import CASES as HOSTILE
from tests.support.hostile_cases import KEY as HOSTILE_KEY
from tests.support.hostile_cases import Case, body, send, snapshot
from tests.support.paths import ROOT
from tests.support.served import ServedProcess
from tests.support.wire_cases import CASES, KEY, LIMIT, READ_TIMEOUT, SERVERS, WireCase, request, wire_table

pytestmark = pytest.mark.slow  # starts `mockserver serve`: not in the fast loop

THREADS = 8
RELIABILITY = ROOT / "docs" / "reliability.md"


@pytest.fixture(scope="module", params=SERVERS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, httpx.Client]]:
    server = ServedProcess(
        "--server", request.param, "--threads", str(THREADS),
        "--max-body-bytes", str(LIMIT), "--read-timeout", str(READ_TIMEOUT),
    )  # fmt: skip
    with httpx.Client(
        base_url=server.root_url, headers={"x-portkey-api-key": KEY.decode()}, timeout=10
    ) as http:
        yield request.param, http
    server.stop()


@pytest.fixture
def api(served: tuple[str, httpx.Client]) -> tuple[str, httpx.Client]:
    served[1].post("/__mock/reset").raise_for_status()
    return served


def connect(http: httpx.Client, sent: bytes) -> socket.socket:
    url = http.base_url
    connection = socket.create_connection((url.host, url.port), timeout=READ_TIMEOUT + 20)
    connection.sendall(sent)
    return connection


def answer_of(connection: socket.socket) -> tuple[str, str]:
    """(`STATUS CODE` or `closed`, the envelope's message): read until the server closes or a whole
    answer is in, within the socket's timeout."""
    received = b""
    while True:
        try:
            piece = connection.recv(65536)
        except ConnectionResetError:
            piece = b""
        received += piece
        head, _, body = received.partition(b"\r\n\r\n")
        length = next(
            (int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")),
            None,
        )
        if not piece or (length is not None and len(body) >= length):
            break
    if not received:
        return "closed", ""
    status = int(head.split(b" ", 2)[1])
    if status == 200:
        return "200", ""
    data = json.loads(body)["data"]
    return f"{status} {data['errorCode']}", data["message"]


def keys(http: httpx.Client) -> int:
    total: int = http.get("/v1/virtual-keys").json()["total"]
    return total


@pytest.mark.parametrize("case", CASES, ids=[case.description for case in CASES])
def test_hostile_wire_input_gets_its_exact_answer(api, case: WireCase):
    server, http = api
    with connect(http, case.sent) as connection:
        if case.half_close:
            connection.shutdown(socket.SHUT_WR)
        status, message = answer_of(connection)
    assert status == case.answers[server]
    assert message.startswith(case.message) if status[0] == "4" else message == ""
    assert keys(http) == (1 if status == "200" else 0)  # an incomplete or refused body created nothing
    if status[0] == "4":  # answered by the mock: journaled as a violation
        entries = http.get("/__mock/journal").json()["entries"]
        [entry] = [entry for entry in entries if entry["method"] == "POST"]
        assert entry["status"] == int(status[:3]) and not entry["valid"]


def test_stalled_uploads_hold_no_thread_and_are_released(api):
    """Twice as many uploads as threads send 8 bytes of 100 and stop; the mock keeps answering its
    API and health while they are held, and each of them gets an answer or is closed."""
    server, http = api
    stalled = [
        connect(http, request(b"Content-Length: 100", body=b"12345678")) for _ in range(2 * THREADS + 1)
    ]
    try:
        assert http.get("/__mock/health").status_code == 200
        created = http.post(
            "/v1/virtual-keys", json={"name": "meanwhile", "provider": "openai", "key": "sk-meanwhile-0123"}
        )
        assert created.status_code == 200
        assert http.get("/v1/virtual-keys").json()["total"] == 1
        answers = {answer_of(connection)[0] for connection in stalled}
    finally:
        for connection in stalled:
            connection.close()
    assert answers == {"408 AB01" if server == "granian" else "closed"}
    assert keys(http) == 1


GRANIAN_ANSWERS = {"a non-ASCII API key": 401}
"""Where granian answers the hostile set otherwise: it hands over header values of visible ASCII
only, so a key of other bytes is no key."""


@pytest.mark.parametrize("case", HOSTILE, ids=[case.description for case in HOSTILE])
def test_the_hostile_set_gets_the_same_answers_on_each_server(api, case: Case):
    server, http = api
    root = str(http.base_url).rstrip("/")
    send(
        root,
        "POST",
        "/v1/virtual-keys",
        body(name="already here"),
        (HOSTILE_KEY, ("Content-Type", "application/json")),
    )
    before = snapshot(root)
    status, _, data = send(root, case.method, case.path, case.payload, case.headers)
    expected = GRANIAN_ANSWERS.get(case.description, case.status) if server == "granian" else case.status
    assert status == expected, data[:300]
    if status >= 400:
        assert snapshot(root) == before


def test_the_reliability_page_lists_every_wire_case():
    assert wire_table() in RELIABILITY.read_text(encoding="utf-8"), (
        "docs/reliability.md's table of wire cases is out of date; replace it with:\n" + wire_table()
    )
