"""Hostile and malformed input over real HTTP: the exact answer, Portkey's envelope, no 500, and
the store exactly as before after any rejected request."""

from __future__ import annotations

import contextlib
import http.client
import json

import pytest

from tests.support.hostile_cases import CASES, KEY, Case, body, reliability_table
from tests.support.paths import ROOT

RELIABILITY = ROOT / "docs" / "reliability.md"


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


@pytest.mark.parametrize("case", CASES, ids=[c.description for c in CASES])
def test_hostile_input_gets_its_exact_answer(live, case: Case):
    send(
        live.root_url,
        "POST",
        "/v1/virtual-keys",
        body(name="already here"),
        (KEY, ("Content-Type", "application/json")),
    )
    before = snapshot(live.root_url)

    status, headers, data = send(live.root_url, case.method, case.path, case.payload, case.headers)

    assert status == case.status, data[:300]
    assert headers["Content-Type"] == "application/json"
    if case.method == "HEAD":
        assert data == b""
        return
    answer = json.loads(data)
    assert isinstance(answer, dict)
    if case.rejected:
        assert answer["success"] is False and answer["data"]["errorCode"] == case.code
        assert answer["data"]["message"].startswith(case.message), answer["data"]["message"]
        assert b"sk-hostile-0123456789" not in data
        assert snapshot(live.root_url) == before
    if status == 405:
        assert headers["Allow"]


def test_the_reliability_page_lists_every_case():
    assert reliability_table() in RELIABILITY.read_text(encoding="utf-8"), (
        "docs/reliability.md's table is out of date; replace it with:\n" + reliability_table()
    )
