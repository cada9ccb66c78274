"""Hostile and malformed input over real HTTP: the exact answer, Portkey's envelope, no 500, and
the store exactly as before after any rejected request."""

from __future__ import annotations

import json

import pytest

from tests.support.hostile_cases import CASES, KEY, LIST, Case, body, reliability_table, send, snapshot
from tests.support.paths import ROOT

RELIABILITY = ROOT / "docs" / "reliability.md"


def strict_json(data: bytes) -> object:
    """`data` read as RFC 8259 JSON, as `JSON.parse` (the dashboard, any Node client) reads it."""

    def refuse(token: str) -> None:
        raise AssertionError(f"not strict JSON: a bare {token}")

    return json.loads(data, parse_constant=refuse)


def assert_control_pages_read(root_url: str) -> None:
    """The journal and the store page answer 200 with strict JSON, whatever was sent before."""
    for path in ("/__mock/journal", "/__mock/store"):
        status, _, data = send(root_url, "GET", path, None, ())
        assert status == 200, (path, data[:300])
        strict_json(data)


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
    assert_control_pages_read(live.root_url)
    assert headers["Content-Type"] == "application/json"
    if case.method == "HEAD":
        assert data == b""
        return
    answer = strict_json(data)
    assert isinstance(answer, dict)
    if case.rejected:
        assert answer["success"] is False and answer["data"]["errorCode"] == case.code
        assert answer["data"]["message"].startswith(case.message), answer["data"]["message"]
        assert b"sk-hostile-0123456789" not in data
        assert snapshot(live.root_url) == before
    if status == 405:
        assert headers["Allow"]
    if not case.rejected and case.method == "POST":
        slug = answer["data"]["slug"]
        for path in (f"/v1/virtual-keys/{slug}", f"/v1/providers/{slug}", LIST, "/v1/providers"):
            read, _, data = send(live.root_url, "GET", path, None, (KEY,))
            assert read == 200, (path, data[:300])
            strict_json(data)


def test_the_reliability_page_lists_every_case():
    assert reliability_table() in RELIABILITY.read_text(encoding="utf-8"), (
        "docs/reliability.md's table is out of date; replace it with:\n" + reliability_table()
    )
