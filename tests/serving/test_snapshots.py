"""Recording through the proxy (secrets out, stable placeholders) and replaying a snapshot as state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from portkey_ai import Portkey

from mockserver import MockServer, create_app
from mockserver.cli import main as mockserver_main
from mockserver.contract.document import Contract
from mockserver.serving.proxy import create_proxy_app
from mockserver.snapshots.document import read_snapshot
from tests.support.broken_services import echoes_the_secret, rewriting
from tests.support.recordings import API_KEY, SECRET, record

CANARY = "canary-7f3e9a1c"


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    server = MockServer(create_app()).start()
    yield server
    server.stop()


def canary(name: str) -> str:
    return f"{CANARY}-{name}"


def planted(fields: frozenset[str]) -> dict[str, Any]:
    """A body with a canary in every secret field, at the top and nested, in both spellings."""
    body: dict[str, Any] = {"name": "canaries", "provider": "openai"}
    for field in sorted(fields):
        body[field] = canary(field)
    body["configurations"] = {field: canary(f"nested-{field}") for field in sorted(fields)}
    body["vertex_service_account_json"] = {"private_key": canary("document")}
    return body


def test_canaries_in_every_secret_field_and_credential_header_never_reach_the_snapshot(tmp_path, upstream):
    contract = Contract.load()
    path = tmp_path / "snapshot.json"
    credentials = {
        "x-portkey-api-key": canary("api-key"),
        "authorization": f"Bearer {canary('bearer')}",
        "cookie": f"session={canary('cookie')}",
    }

    def script(base_url: str) -> None:
        with httpx.Client(base_url=base_url, headers=credentials, timeout=30) as http:  # a busy CI
            http.post("/virtual-keys", json=planted(contract.secret_fields))  # refused: recorded anyway
            created = http.post(
                "/virtual-keys", json={"name": "ok", "provider": "openai", "key": canary("key")}
            )
            slug = created.json()["data"]["slug"]
            http.put(
                f"/virtual-keys/{slug}", json={"key": canary("rotated"), "note": "sk-note-0123456789abcd"}
            )
            http.get(f"/virtual-keys/{slug}")
            http.post(
                "/integrations",
                json={
                    "name": "bedrock",
                    "ai_provider_id": "bedrock",
                    "configurations": {
                        "aws_access_key_id": "AKIA0000000000000000",
                        "aws_secret_access_key": canary("aws"),
                        "aws_region": "us-east-1",
                    },
                },
            )

    text = record(upstream, path, script=script).read_text(encoding="utf-8")
    assert len(read_snapshot(path).exchanges) == 5
    assert text.count(CANARY) == 0
    assert "sk-note-0123456789abcd" not in text and "AKIA0000000000000000" not in text
    assert text.count("<credential-1>") == 5  # one placeholder for one API key, on every request


def test_a_secret_the_upstream_echoes_is_taken_out_of_its_answer_too(tmp_path):
    echoing = MockServer(echoes_the_secret(None)).start()
    try:
        text = record(echoing, tmp_path / "snapshot.json").read_text(encoding="utf-8")
    finally:
        echoing.stop()
    assert SECRET not in text and API_KEY not in text
    assert '"key": "<secret>"' in text


def test_two_stable_recordings_of_one_script_are_byte_identical(tmp_path, upstream):
    first = record(upstream, tmp_path / "first.json", stable=True).read_bytes()
    httpx.post(f"{upstream.root_url}/__mock/reset")
    second = record(upstream, tmp_path / "second.json", stable=True).read_bytes()
    assert first == second
    text = first.decode()
    assert '"path": "/v1/virtual-keys/<slug-1>"' in text  # the same slug, the same placeholder, in paths
    assert '"slug": "<slug-1>"' in text and "<time-1>" in text


def test_without_stable_two_recordings_differ_in_what_the_service_made(tmp_path, upstream):
    first = record(upstream, tmp_path / "first.json").read_bytes()
    httpx.post(f"{upstream.root_url}/__mock/reset")
    assert record(upstream, tmp_path / "second.json").read_bytes() != first


def test_a_snapshot_keeps_operation_request_response_verdicts_and_provenance(tmp_path, upstream):
    snapshot = read_snapshot(record(upstream, tmp_path / "snapshot.json", stable=True))
    first = snapshot.exchanges[0]
    assert first["operation"] == "createVirtualKey"
    assert first["request"]["body"]["key"] == "<secret>"
    assert first["response"] == {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": {"success": True, "data": {"slug": "<slug-1>"}},
    }
    assert first["request_verdict"]["conforms"] and first["response_verdict"] == {
        "judged": True,
        "conforms": True,
        "violations": [],
    }
    assert snapshot.provenance["upstream"] == upstream.root_url
    assert len(snapshot.provenance["contract_sha256"]) == 64
    assert snapshot.provenance["tool"].startswith("portkey-vk-mock ") and snapshot.provenance["date"]


def test_a_snapshot_recorded_from_the_proxy_journal_matches_the_live_recording(tmp_path, upstream):
    live = tmp_path / "live.json"
    proxy = MockServer(create_proxy_app(upstream.base_url, record=live, stable=True)).start()
    try:
        from tests.support.recordings import sdk_lifecycle

        sdk_lifecycle(proxy.base_url)
        later = tmp_path / "from-journal.json"
        assert mockserver_main(["record", proxy.root_url, "--out", str(later), "--stable"]) == 0
    finally:
        proxy.stop()
    assert read_snapshot(later).exchanges == read_snapshot(live).exchanges
    assert SECRET not in later.read_text() and API_KEY not in later.read_text()


# -- replay as state ------------------------------------------------------------------------------


def test_a_replayed_snapshot_is_state_lists_totals_404_after_delete_and_later_creates(
    tmp_path, upstream, portkey_mock, portkey_mock_replay
):
    path = record(upstream, tmp_path / "snapshot.json", stable=True)
    replayed = portkey_mock_replay(path)
    assert len(replayed.applied) == 4 and replayed.quarantined == [] and replayed.diverged == []
    portkey = Portkey(api_key="<credential-1>", base_url=portkey_mock.base_url)
    listed = portkey.virtual_keys.list()
    assert listed.total == 1 and listed.data[0]["name"] == "openai kept"
    kept, gone = replayed.ids["<slug-1>"], replayed.ids["<slug-2>"]
    assert portkey.virtual_keys.retrieve(slug=kept).note == "rotated on Monday"
    assert (
        httpx.get(
            f"{portkey_mock.base_url}/virtual-keys/{gone}", headers={"x-portkey-api-key": "<credential-1>"}
        ).status_code
        == 404
    )
    portkey.virtual_keys.create(name="later", provider="openai", key="sk-later-0000000000")
    assert portkey.virtual_keys.list().total == 2
    assert portkey_mock.journal[0]["operation"] == "listVirtualKeys"  # the replay left no entries behind


def test_exchanges_where_the_upstream_broke_the_contract_are_quarantined_not_applied(
    tmp_path, portkey_mock, portkey_mock_replay
):
    def created_with_201(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "POST" and status == 200 and sent.get("provider") == "anthropic":
            return 201, body  # a status the contract does not declare
        return status, body

    broken = MockServer(rewriting(create_app(), created_with_201)).start()
    try:
        path = record(broken, tmp_path / "snapshot.json", stable=True)
    finally:
        broken.stop()
    replayed = portkey_mock_replay(path)
    [quarantined] = replayed.quarantined
    assert quarantined["exchange"].startswith("#2 POST /v1/virtual-keys (createVirtualKey)")
    assert quarantined["violations"] == ["response.status: 201 is not a status the contract declares here"]
    assert [line.split(" (")[0] for line in replayed.diverged] == ["#7 DELETE /v1/virtual-keys/<slug-2>"]
    listed = httpx.get(
        f"{portkey_mock.base_url}/virtual-keys", headers={"x-portkey-api-key": "<credential-1>"}
    )
    assert [item["name"] for item in listed.json()["data"]] == ["openai kept"]


@pytest.mark.slow  # starts the command as a user does
def test_serve_replay_lists_what_it_applied_and_quarantined(tmp_path, upstream):
    from tests.support.served import ServedProcess

    path = record(upstream, tmp_path / "snapshot.json", stable=True)
    served = ServedProcess("--replay", str(path), "--server", "waitress")
    try:
        answer = httpx.get(f"{served.root_url}/__mock/replay").json()
        listed = httpx.get(f"{served.base_url}/virtual-keys", headers={"x-portkey-api-key": "<credential-1>"})
    finally:
        served.stop()
    assert len(answer["applied"]) == 4 and answer["quarantined"] == []
    assert listed.json()["total"] == 1
    assert f"mockserver: replayed 4 writes from {path}" in served.output
    assert json.loads(path.read_text())["snapshot"] == 1
