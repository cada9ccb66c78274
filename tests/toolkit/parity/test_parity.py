"""`contracts parity`: a mock seeded from a recording of the mock scores 100%; broken variants are named."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.cli import main
from contracts.parity.compare import Comparer, unordered_fields
from mockserver import MockServer, create_app
from mockserver.contract.document import Contract
from mockserver.snapshots.ids import Learned
from tests.support.broken_services import RETRIEVE, rewriting
from tests.support.recordings import record

LIST = "/v1/virtual-keys"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Iterator[Path]:
    upstream = MockServer(create_app()).start()
    try:
        yield record(upstream, tmp_path_factory.mktemp("parity") / "snapshot.json", stable=True)
    finally:
        upstream.stop()


def serve(rewrite: Callable[[str, str, Any, int, Any], tuple[int, Any]] | None = None) -> MockServer:
    app = create_app()
    return MockServer(rewriting(app, rewrite) if rewrite else app).start()


def parity(snapshot: Path, server: MockServer, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "parity.json"
    status = main(["parity", str(snapshot), "--base-url", server.base_url, "--json", str(report), *extra])
    return status, json.loads(report.read_text())


def differences(report: dict[str, Any]) -> list[str]:
    return [
        f"{exchange['exchange'].split(' (')[0]} {d['where']} {d['what']}"
        for exchange in report["exchanges"]
        for d in exchange["differences"]
    ]


def test_a_fresh_mock_answers_a_recording_of_the_mock_with_full_parity(snapshot, tmp_path):
    server = serve()
    try:
        status, report = parity(snapshot, server, tmp_path, "--html", str(tmp_path / "parity.html"))
        left = httpx.get(f"{server.root_url}/__mock/store").json()
    finally:
        server.stop()
    assert status == 0 and report["score"] == 100.0 and differences(report) == []
    assert set(report["operations"]) == {
        "createVirtualKey",
        "listVirtualKeys",
        "retrieveVirtualKey",
        "updateVirtualKey",
        "deleteVirtualKey",
    }
    assert all(counts["score"] == 100.0 for counts in report["operations"].values())
    [removed] = report["cleanup"]["removed"]  # the key the script kept, removed after the run
    assert removed.startswith("/v1/virtual-keys/parity-" + report["run_id"])
    assert "parity-" not in json.dumps(left)  # nothing the run created is left on the service
    assert "Parity 100.00%" in (tmp_path / "parity.html").read_text()


def renames_a_field(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
    if method == "GET" and RETRIEVE.match(path) and status == 200:
        body["provider"] = body.pop("ai_provider_name")
    return status, body


def reverses_the_list(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
    if method == "GET" and path == LIST and status == 200:
        body["data"].reverse()
    return status, body


def changes_a_status(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
    return (201 if method == "POST" and status == 200 else status), body


@pytest.mark.parametrize(
    ("variant", "named"),
    [
        (
            renames_a_field,
            [
                "#4 GET /v1/virtual-keys/<slug-1> body.ai_provider_name missing",
                "#4 GET /v1/virtual-keys/<slug-1> body.provider unexpected",
                "#6 GET /v1/virtual-keys/<slug-1> body.ai_provider_name missing",
                "#6 GET /v1/virtual-keys/<slug-1> body.provider unexpected",
            ],
        ),
        (reverses_the_list, ["#3 GET /v1/virtual-keys body.data order differs"]),
        (
            changes_a_status,
            ["#1 POST /v1/virtual-keys status differs", "#2 POST /v1/virtual-keys status differs"],
        ),
    ],
    ids=["field-renamed", "list-order-changed", "status-changed"],
)
def test_a_broken_variant_is_below_the_threshold_and_each_difference_is_named(
    snapshot, tmp_path, variant, named
):
    server = serve(variant)
    try:
        status, report = parity(snapshot, server, tmp_path, "--threshold", "99.9")
    finally:
        server.stop()
    assert status == 1 and report["score"] < 99.9
    assert differences(report) == named


def test_what_a_client_sent_is_escaped_in_the_html_report(tmp_path):
    hostile = "<img src=x onerror=alert(1)>"

    def script(base_url: str) -> None:
        headers = {"x-portkey-api-key": "pk-hostile-0000000001"}
        httpx.post(
            f"{base_url}/virtual-keys",
            headers=headers,
            json={"name": hostile, "provider": "openai", "key": "x" * 12},
        )
        httpx.get(f"{base_url}/virtual-keys", headers=headers)

    upstream = serve()
    try:
        path = record(upstream, tmp_path / "snapshot.json", script=script)
    finally:
        upstream.stop()

    def renames(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == LIST:
            body["data"][0]["name"] = hostile + "!"
        return status, body

    server = serve(renames)
    try:
        main(["parity", str(path), "--base-url", server.base_url, "--html", str(tmp_path / "p.html")])
    finally:
        server.stop()
    page = (tmp_path / "p.html").read_text()
    assert hostile not in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page  # shown, as inert text


def test_parity_refuses_to_run_without_an_explicit_base_url(snapshot, monkeypatch, capsys):
    monkeypatch.setenv("PORTKEY_BASE_URL", "http://127.0.0.1:1/v1")
    with pytest.raises(SystemExit) as refused:
        main(["parity", str(snapshot)])
    assert refused.value.code == 2 and "--base-url" in capsys.readouterr().err


def test_parity_ignores_order_only_where_the_contract_marks_a_list_unordered():
    """Integration models and workspace grants are sets (`x-portkey-unordered`); other lists keep order."""

    unordered = unordered_fields(Contract.load())
    assert {"models", "workspaces"} <= unordered and "data" not in unordered
    recorded = {"models": [{"slug": "a"}, {"slug": "b"}], "data": [{"name": "x"}, {"name": "y"}]}
    live = {"models": [{"slug": "b"}, {"slug": "a"}], "data": [{"name": "y"}, {"name": "x"}]}
    compared = Comparer(Learned(), unordered).compare(200, recorded, 200, live)
    assert [(d.where, d.what) for d in compared.differences] == [("body.data", "order differs")]
