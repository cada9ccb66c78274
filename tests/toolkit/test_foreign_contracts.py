"""The toolkit on contracts it did not write: a vendor's document as published, and `contracts drift`.

`contracts/published_drifts.yaml` is a stand-in written here in the style of Portkey's published
spec, with its quirks where the published file has them (inside `$ref`'d components). One test runs
the three commands on the real published spec when PORTKEY_PUBLISHED_SPEC names a downloaded copy.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from portkey_ai import Portkey

from contracts.cli import main
from contracts.drift import compare, drift_table, read_accepted
from contracts.verify import VerifyOptions, verify
from mockserver import MockServer, create_app
from mockserver.contract.document import Contract
from mockserver.serving.proxy import create_proxy_app
from tests.support.broken_services import rewriting
from tests.support.paths import DATA, ROOT

STAND_IN = DATA / "published_drifts.yaml"
OURS = ROOT / "openapi.yaml"
ACCEPTED = ROOT / "docs" / "published-drifts.yaml"
PUBLISHED = os.environ.get("PORTKEY_PUBLISHED_SPEC")
SECRET = "sk-live-0000000000abcd"

DOCUMENT_PROBLEMS = [
    "#/components/schemas/UsageLimits/properties/credit_limit: default null breaks its own schema",
    "#/components/schemas/UsageLimits/properties/alert_threshold: default null breaks its own schema",
    "#/components/schemas/UsageLimits/properties/periodic_reset: nullable, but its enum lacks null",
    "#/components/schemas/SecretMapping/properties/value_format: nullable, but its enum lacks null",
    "#/paths/~1configs/get: left out: $ref '#/components/schemas/NoSuchSchema' does not resolve",
]

TABLE_DRIFTS = [
    # (operation, where, kind): each drift of the docs' table, as the stand-in reproduces it
    ("GET /virtual-keys", "query.current_page", "required"),
    ("GET /virtual-keys", "query.page_size", "required"),
    ("POST /virtual-keys", "request.body.rate_limits", "type"),
    ("GET /virtual-keys/{slug}", "response.200.body.masked_api_key", "only in ours"),
    ("GET /virtual-keys/{slug}", "response.200.body.ai_provider_name", "only in ours"),
    ("GET /virtual-keys", "response.200.body.data[].provider", "only in ours"),
    ("GET /virtual-keys", "response.200.body.data[].workspace_id", "only in ours"),
    ("POST /virtual-keys", "request.body.customHost", "only in ours"),
    ("PUT /virtual-keys/{slug}", "request.body.usage_limits", "nullable"),
    ("POST /virtual-keys", "request.body.secret_mappings[].target_field", "pattern"),
    ("POST /virtual-keys", "request.body.provider", "enum"),
    ("PUT /virtual-keys/{slug}", "request.body.rate_limits", "only in ours"),
    ("PUT /virtual-keys/{slug}", "request.body.expires_at", "only in ours"),
    ("PUT /virtual-keys/{slug}", "response.200.body.slug", "only in ours"),
    ("POST /virtual-keys", "response.200.body.slug", "only in ours"),
    ("POST /virtual-keys", "response.400", "status only in ours"),
    ("GET /virtual-keys/{slug}", "response.404", "status only in ours"),
    ("POST /virtual-keys", "response.429", "status only in ours"),
]


# -- one loader for any vendor's document --------------------------------------------------------


def test_a_published_style_document_loads_with_its_problems_listed_once():
    contract = Contract(STAND_IN)
    assert sorted(contract.operations) == [
        "DELETE /virtual-keys/{slug}",
        "GET /virtual-keys",
        "GET /virtual-keys/{slug}",
        "POST /virtual-keys",
        "PUT /virtual-keys/{slug}",
    ]  # no operationIds: named METHOD /path; the broken /configs and the upload are left out
    assert contract.operations["GET /virtual-keys"].path == "/v1/virtual-keys"  # absolute server
    shown = [str(problem) for problem in contract.problems]
    for problem in DOCUMENT_PROBLEMS:
        assert sum(line.startswith(problem) for line in shown) == 1, (problem, shown)


def test_our_own_contract_has_no_problems():
    assert Contract(OURS).problems == []


def test_check_traffic_reports_the_documents_problems_once_and_judges_the_traffic(tmp_path, capsys):
    journal = tmp_path / "journal.json"
    entries = [
        {"seq": 1, "method": "GET", "path": "/v1/virtual-keys", "headers": {"x-portkey-api-key": "k"}},
        {"seq": 2, "method": "GET", "path": "/v1/virtual-keys", "headers": {"x-portkey-api-key": "k"}},
    ]
    journal.write_text(json.dumps(entries), encoding="utf-8")
    assert main(["check-traffic", str(journal), "--contract", str(STAND_IN)]) == 1
    captured = capsys.readouterr()
    for problem in DOCUMENT_PROBLEMS:
        if "/configs" not in problem:  # a broken operation nobody judges is reported as left out
            assert captured.err.count(problem) == 1, captured.err
    assert "#/paths/~1configs/get: left out" in captured.err
    assert "Traceback" not in captured.err
    assert (
        "#1 GET /v1/virtual-keys (GET /virtual-keys)\n      query.current_page: is required" in captured.out
    )


UNUSABLE = {
    "a YAML list": "- just\n- a list\n",
    "Swagger 2.0": "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n",
    "not YAML": "openapi: 3.0.0\npaths: {: [\n",
    "only a file upload": (
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /files:\n    post:\n"
        "      requestBody: {content: {multipart/form-data: {schema: {type: object}}}}\n"
        "      responses: {'200': {description: ok}}\n"
    ),
}


@pytest.mark.parametrize("kind", sorted(UNUSABLE))
def test_a_document_that_cannot_be_used_exits_2_with_one_line_from_every_command(kind, tmp_path, capsys):
    document = tmp_path / "vendor.yaml"
    document.write_text(UNUSABLE[kind], encoding="utf-8")
    journal = tmp_path / "journal.json"
    journal.write_text("[]", encoding="utf-8")
    commands = [
        ["check-traffic", str(journal), "--contract", str(document)],
        ["verify", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k", "--contract", str(document)],
        ["drift", str(OURS), str(document)],
    ]
    for command in commands:
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert str(document) in err and "Traceback" not in err


def test_verify_judges_every_exchange_against_a_published_style_document():
    server = MockServer(create_app()).start()
    try:
        out = io.StringIO()
        options = VerifyOptions(
            base_url=server.base_url,
            api_key="pk-foreign",
            contract_path=STAND_IN,
            seed=1,
            max_examples=1,
            phases=("examples", "lifecycle"),
            provider_cases=("openai",),
        )
        result = verify(options, out=out)
    finally:
        server.stop()
    text = out.getvalue()
    assert "not an operation" not in text
    assert set(result.requests) <= {
        "GET /virtual-keys",
        "POST /virtual-keys",
        "GET /virtual-keys/{slug}",
        "PUT /virtual-keys/{slug}",
        "DELETE /virtual-keys/{slug}",
        "(schemathesis probing)",
    }, result.requests
    assert text.count("default null breaks its own schema") == 2  # credit_limit, alert_threshold
    assert result.exit_code == 1  # the mock keeps to our contract, so it breaks the stand-in's drifts
    assert any("status" in f.message for f in result.findings)


def test_the_validating_proxy_judges_against_a_published_style_document():
    upstream = MockServer(create_app()).start()
    proxy = MockServer(create_proxy_app(upstream.base_url, contract_path=STAND_IN)).start()
    try:
        Portkey(api_key="pk-proxy", base_url=proxy.base_url).virtual_keys.list()
        entries = httpx.get(f"{proxy.root_url}/__mock/journal").json()["entries"]
    finally:
        proxy.stop()
        upstream.stop()
    assert entries[0]["operation"] == "GET /virtual-keys"
    assert {"location": "query.current_page", "rule": "is required"} in entries[0]["violations"]


# -- check-traffic: the service's fault apart from the client's ---------------------------------


def drops_slug_from_retrieve() -> object:
    def drop(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict) and "ai_provider_name" in body:
            body.pop("slug")
        return status, body

    return rewriting(create_app(), drop)


def test_check_traffic_on_a_proxys_journal_fails_when_the_service_answered_off_contract(tmp_path, capsys):
    upstream = MockServer(drops_slug_from_retrieve()).start()
    proxy = MockServer(create_proxy_app(upstream.base_url)).start()
    try:
        client = Portkey(api_key="pk-proxied", base_url=proxy.base_url)
        slug = client.virtual_keys.create(name="openai", provider="openai", key=SECRET).data["slug"]
        client.virtual_keys.retrieve(slug=slug)
        assert main(["check-traffic", proxy.root_url]) == 1
        from_url = capsys.readouterr().out
        saved = tmp_path / "journal.json"
        saved.write_text(httpx.get(f"{proxy.root_url}/__mock/journal").text, encoding="utf-8")
    finally:
        proxy.stop()
        upstream.stop()
    assert main(["check-traffic", str(saved)]) == 1
    from_file = capsys.readouterr().out
    for out in (from_url, from_file):
        assert "0 of 2 requests break the contract.\n1 of 2 responses break the contract." in out
        service = out[out.index("Responses that break the contract (the service's fault):") :]
        assert re.search(
            r"#2 GET /v1/virtual-keys/\S+ \(retrieveVirtualKey\)\n\s+response.body.slug", service
        )
        assert "Requests that break the contract" not in out  # the client did nothing wrong
        assert SECRET not in out


# -- contracts drift -----------------------------------------------------------------------------


def test_drift_names_every_drift_of_the_table_and_whom_it_breaks():
    differences, _ = compare(Contract(OURS), Contract(STAND_IN))
    found = {(d.operation, d.where, d.kind): d for d in differences}
    for drift in TABLE_DRIFTS:
        assert drift in found, drift
    assert found[("GET /virtual-keys", "query.current_page", "required")].breaks == ("our client",)
    assert found[("POST /virtual-keys", "request.body.name", "required")].breaks == ("their client",)
    rate_limits = found[("POST /virtual-keys", "request.body.rate_limits", "type")]
    assert (rate_limits.ours, rate_limits.theirs) == (["array", "object"], ["object"])
    assert rate_limits.breaks == ("our client",)  # ours takes their one object too
    provider = found[("POST /virtual-keys", "request.body.provider", "enum")]
    assert "deepseek" in provider.ours and "deepseek" not in provider.theirs


def test_drift_reads_30_nullable_and_31_null_types_as_one_thing(tmp_path):
    def document(version: str, note: dict) -> Path:
        path = tmp_path / f"{version}.yaml"
        body = {"content": {"application/json": {"schema": {"type": "object", "properties": {"note": note}}}}}
        operation = {"requestBody": body, "responses": {"200": {"description": "ok"}}}
        path.write_text(
            yaml.safe_dump({"openapi": version, "info": {}, "paths": {"/x": {"post": operation}}}),
            encoding="utf-8",
        )
        return path

    same_30 = document("3.0.3", {"type": "string", "nullable": True})
    same_31 = document("3.1.0", {"type": ["string", "null"]})
    not_null = tmp_path / "strict.yaml"
    not_null.write_text(document("3.0.0", {"type": "string"}).read_text(), encoding="utf-8")
    assert compare(Contract(same_31), Contract(same_30))[0] == []
    [difference] = compare(Contract(same_31), Contract(not_null))[0]
    assert (difference.where, difference.kind, difference.breaks) == (
        "request.body.note",
        "nullable",
        ("our client",),
    )


def test_drift_exit_status_text_json_and_accept_file(tmp_path, capsys):
    assert main(["drift", str(OURS), str(STAND_IN)]) == 1
    text = capsys.readouterr().out
    assert "GET /virtual-keys  query.current_page: required (ours no, theirs yes); breaks our client" in text
    assert main(["drift", str(OURS), str(STAND_IN), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["not_accepted"] == len(report["differences"]) > 100
    accept = tmp_path / "accept.yaml"
    accept.write_text(
        yaml.safe_dump({"accepted": [{"operation": "*", "where": "*", "kind": "*", "reason": "all known"}]}),
        encoding="utf-8",
    )
    assert main(["drift", str(OURS), str(STAND_IN), "--accept", str(accept)]) == 0
    assert "0 not accepted" in capsys.readouterr().out
    accept.write_text(yaml.safe_dump({"accepted": [{"operation": "*", "where": "*", "kind": "*"}]}), "utf-8")
    assert main(["drift", str(OURS), str(STAND_IN), "--accept", str(accept)]) == 2
    assert "gives no reason" in capsys.readouterr().err
    assert main(["drift", str(OURS)]) == 2


def test_the_committed_accept_file_gives_a_reason_and_evidence_for_each_drift():
    accepted = read_accepted(ACCEPTED)
    assert all(entry.reason and entry.evidence and entry.drift for entry in accepted)


def test_the_docs_drift_table_is_the_accept_files():
    docs = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert drift_table(read_accepted(ACCEPTED)) in docs, "regenerate: contracts drift --table " + str(
        ACCEPTED
    )


# -- the real published spec, when one was downloaded --------------------------------------------


@pytest.mark.skipif(
    not PUBLISHED, reason="PORTKEY_PUBLISHED_SPEC does not name a downloaded copy of Portkey's openapi.yaml"
)
def test_the_three_commands_on_portkeys_published_spec(portkey_mock, tmp_path, capsys):
    spec = str(PUBLISHED)
    client = Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)
    rate_limits = [{"type": "requests", "unit": "rpm", "value": 60}]
    client.virtual_keys.create(name="openai", provider="openai", key=SECRET, rate_limits=rate_limits)
    client.virtual_keys.list()
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"entries": portkey_mock.journal}), encoding="utf-8")

    assert main(["check-traffic", str(journal), "--contract", spec]) == 1
    out = capsys.readouterr().out
    assert "query.current_page: is required" in out and "body.rate_limits: must be of type object" in out

    portkey_mock.reset()
    result = verify(
        VerifyOptions(
            base_url=portkey_mock.base_url,
            api_key=portkey_mock.api_key,
            contract_path=Path(spec),
            seed=1,
            max_examples=1,
            phases=("examples", "lifecycle"),
            provider_cases=("openai",),
        ),
        out=io.StringIO(),
    )
    assert result.exit_code in (0, 1) and not result.errors
    assert not [f for f in result.findings if "not an operation" in f.message]

    assert main(["drift", str(OURS), spec, "--accept", str(ACCEPTED)]) == 0
    out = capsys.readouterr().out
    assert "0 not accepted" in out and "accept entry matches nothing" not in out
