"""`contracts verify` against the mock (it conforms) and against broken variants (each is caught).

Every run is in-process against a real server on a free port, with a fixed seed and few examples.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import schemathesis

from contracts.cli import main
from contracts.strategies import breaks_contract
from contracts.verify import VerifyOptions, guard, mcp, prompts, verify
from contracts.verify.checks import CHECKS
from contracts.verify.command import _expected_by_contract
from contracts.verify.guard import SAFE_METHODS, _still_invalid, safe_body
from contracts.verify.ledger import ROLES, Ledger, Observation, lifecycle_resources
from contracts.verify.report import VerifyResult, write_terminal
from contracts.verify.run import (
    Budget,
    VerifyRun,
    contract_to_verify,
    read_contract,
    sampled_reads,
    untested_note,
)
from mockserver import MockServer, create_app
from mockserver.config import MockConfig
from mockserver.contract.document import Contract, ContractUnusable
from mockserver.contract.exchange import Exchange
from mockserver.contract.validation import IncomingRequest
from mockserver.contract.verdict import sent_body
from tests.support.broken_services import PERMANENT_VARIANTS, VARIANTS, graphs_without_points

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

API_KEY, OTHER_API_KEY = "pk-verify-one", "pk-verify-two"
FAST = {"max_examples": 2, "seed": 1, "phases": ("examples", "lifecycle")}
FEW_CASES = ("openai", "bedrock-access-key")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MockConfig:
    """A mock that knows two API keys, each bound to its own workspace, and refuses any other."""
    keys = tmp_path_factory.mktemp("keys") / "keys.json"
    keys.write_text(
        json.dumps(
            {
                "api_keys": [
                    {"key": API_KEY, "workspace_id": "ws-verify"},
                    {"key": OTHER_API_KEY, "workspace_id": "ws-other"},
                ]
            }
        )
    )
    return MockConfig(keys_path=keys)


@contextmanager
def serving(app: Any) -> Iterator[MockServer]:
    server = MockServer(app).start()
    try:
        yield server
    finally:
        server.stop()


class Journal:
    """WSGI middleware noting each request the service receives: (method, path, API key, body)."""

    def __init__(self, app: Any) -> None:
        self.app, self.entries, self._lock = app, [], threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        with self._lock:
            self.entries.append(
                (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("HTTP_X_PORTKEY_API_KEY"), raw)
            )
        return self.app(environ, start_response)


def run_verify(base_url: str, **options: Any) -> tuple[VerifyResult, str]:
    out = io.StringIO()
    settings = {"second_api_key": OTHER_API_KEY, **options}
    result = verify(VerifyOptions(base_url=base_url, api_key=API_KEY, **settings), out=out)
    return result, out.getvalue()


def listed_slugs(base_url: str, api_key: str = API_KEY) -> list[str]:
    answer = httpx.get(f"{base_url}/virtual-keys", headers={"x-portkey-api-key": api_key}).json()
    return [item["slug"] for item in answer["data"]]


def test_the_mock_conforms_in_every_phase_and_ci_can_read_the_report(config, tmp_path):
    junit, report = tmp_path / "verify.junit.xml", tmp_path / "verify.json"
    with serving(create_app(config)) as server:
        result, output = run_verify(
            server.base_url, max_examples=2, seed=1, junit_xml=junit, json_report=report
        )
        assert listed_slugs(server.base_url) == []  # every key the run created was deleted
    assert result.exit_code == 0, output
    assert {"examples", "coverage", "fuzzing", "stateful", "lifecycle"} <= {
        line.split()[1] for line in output.splitlines() if line.startswith("phase ")
    }
    suite = ElementTree.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0" and len(suite) > 20
    names = {case.get("name") for case in suite}
    assert {"response_schema_conformance", "secret_never_returned", "isolated_between_api_keys"} <= names
    assert json.loads(report.read_text())["exit_code"] == 0


@pytest.mark.parametrize("defect", sorted(VARIANTS))
def test_each_broken_variant_fails_verify_with_the_defect_named(config, defect):
    build, check = VARIANTS[defect]
    with serving(build(config)) as server:
        result, output = run_verify(server.base_url, provider_cases=FEW_CASES, **FAST)
    assert result.exit_code == 1
    assert check in {finding.check for finding in result.findings}, output
    assert f"[{check}]" in output and "reproduce: curl -X" in output


def test_an_analytics_graph_off_its_schema_fails_verify_with_the_operation_named(config):
    """The reads no lifecycle drives are judged too: schemathesis's schema check names the graph."""
    with serving(graphs_without_points(config)) as server:
        result, output = run_verify(server.base_url, provider_cases=FEW_CASES, **FAST)
    assert result.exit_code == 1
    failed = {(f.operation, f.check) for f in result.findings}
    assert ("GET /analytics/graphs/cost", "response_schema_conformance") in failed, output
    assert all(operation.startswith("GET /analytics/graphs/") for operation, _ in failed), failed


def test_every_registered_check_has_a_broken_variant_that_it_must_catch():
    """A check no variant targets could be turned off without any test noticing."""
    targeted = {check for _, check in VARIANTS.values()}
    assert targeted == {check.name for check in CHECKS}


def test_the_ledger_expects_the_masks_written_here_for_a_created_and_a_rotated_key():
    """Written out, not computed by the mock's masking: a masking bug cannot move both sides."""
    ledger = Ledger(Contract.load())

    def write(method: str, path: str, operation: str, body: dict[str, Any]) -> None:
        answer = b'{"success": true, "data": {"slug": "masks-000001"}}'
        raw = json.dumps(body).encode()
        exchange = Exchange(IncomingRequest(method, path, body=raw), status=200, response_body=answer)
        ledger.observe(Observation(exchange, operation, slug="masks-000001", api_key=API_KEY))

    create = {"name": "n", "provider": "openai", "key": "sk-abcdef0"}
    write("POST", "/virtual-keys", "createVirtualKey", create)
    assert ledger.keys["masks-000001"].masked_api_key == "sk*****ef0"  # 10 characters: the ends show
    write("PUT", "/virtual-keys/masks-000001", "updateVirtualKey", {"key": "sk-abcdef"})
    assert ledger.keys["masks-000001"].masked_api_key == "*****"  # rotated to 9 characters: nothing shows


def test_reports_show_a_reproduction_but_never_the_secret(config, tmp_path):
    build, _ = VARIANTS["secret echoed back"]
    junit, report = tmp_path / "verify.junit.xml", tmp_path / "verify.json"
    with serving(build(config)) as server:
        result, output = run_verify(
            server.base_url, provider_cases=("openai",), junit_xml=junit, json_report=report, **FAST
        )
    canary_prefix = f"cvk{result.run_id}"
    for text in (output, junit.read_text(), report.read_text()):
        assert canary_prefix not in text
        assert API_KEY not in text
    leak = next(f for f in result.findings if f.check == "secret_never_returned")
    assert '"key": "<secret>"' in leak.curl and "$PORTKEY_API_KEY" in leak.curl


def test_only_keys_the_run_created_are_written_and_all_carry_the_run_prefix(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        bystander = httpx.post(
            f"{server.base_url}/virtual-keys",
            json={"name": "production key", "provider": "openai", "key": "sk-production-000000"},
            headers={"x-portkey-api-key": API_KEY},
        ).json()["data"]["slug"]
        journal.entries.clear()
        result, output = run_verify(
            server.base_url, max_examples=3, seed=2, phases=("fuzzing", "stateful", "lifecycle")
        )
        assert listed_slugs(server.base_url) == [bystander]
    assert result.exit_code == 0, output
    creates = ("/v1/virtual-keys", "/v1/providers", "/v1/integrations")
    sent = [
        sent_body(body) for method, path, _, body in journal.entries if method == "POST" and path in creates
    ]
    created_names = [body.get("name") for body in sent if isinstance(body, dict)]  # negative cases: any bytes
    prefix = f"contracts-verify-{result.run_id}-"
    assert created_names and all(name.startswith(prefix) for name in created_names if isinstance(name, str))
    written = [path for method, path, _, _ in journal.entries if method in ("PUT", "DELETE")]
    assert written and not any(path.endswith(f"/{bystander}") for path in written)


def test_read_only_sends_nothing_but_reads(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        result, output = run_verify(server.base_url, read_only=True, max_examples=3, seed=3)
    assert result.exit_code == 0, output
    methods = {method for method, *_ in journal.entries}
    assert "GET" in methods and methods <= SAFE_METHODS  # OPTIONS, TRACE, QUERY: coverage's method probes


def test_max_requests_caps_what_the_service_receives(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        journal.entries.clear()
        _, output = run_verify(server.base_url, max_requests=40, seed=4, max_examples=5)
    cleaned_up = sum(int(n) for n in re.findall(r"clean-up: deleted (\d+) ", output))  # any kind
    assert len(journal.entries) - cleaned_up <= 40
    assert output.count("stopped early: the request budget of 40 is spent") == 1


def test_a_probe_a_check_sends_counts_against_the_budget_as_it_is_sent(config):
    """Schemathesis's checks send probes of their own (the request without its API key) through the
    transport, past `before_call`: each is counted in the thread that sends it, so the next case's
    `take` already sees it. Counted once its scenario's event reached the run, a probe could go out
    uncounted while the next case was sent, and `--max-requests 40` let 41 through."""
    contract = contract_to_verify(Contract.load())
    with serving(create_app(config)) as server:
        run = VerifyRun(server.base_url, contract, Budget(None), seed=1)
        schema = schemathesis.openapi.from_dict(
            contract.document, config=schemathesis.Config.from_dict({"base-url": server.base_url})
        )
        probe = schema["/virtual-keys"]["GET"].Case(headers={"x-portkey-api-key": API_KEY})
        guard.attach(schema, run)
        try:
            answered = schema.transport.send(probe)
        finally:
            guard.detach(schema)
        schema.transport.send(probe)  # no run is attached to the schema now: nobody's budget
    assert answered.status_code == 200
    assert run.budget.used == 1


class RateLimitedEveryFifth(Journal):
    """Answers every fifth request of a known API key with 429 and `Retry-After: 0` instead of
    serving it; as at Portkey, a request without a known key is refused (401) before any rate limit.

    Its journal notes each request and whether it was refused: (method, path, query, body, limited).
    """

    counted = 0  # requests of a known API key so far

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        known = environ.get("HTTP_X_PORTKEY_API_KEY") in (API_KEY, OTHER_API_KEY)
        with self._lock:
            self.counted += known
            limited = known and self.counted % 5 == 4
            seen = (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""))
            self.entries.append((*seen, raw, limited))
        if not limited:
            return self.app(environ, start_response)
        body = b'{"success": false, "data": {"message": "Too many requests", "errorCode": "AB06"}}'
        start_response(
            "429 Too Many Requests",
            [("Content-Type", "application/json"), ("Retry-After", "0"), ("Content-Length", str(len(body)))],
        )
        return [body]


def test_a_429_is_waited_out_as_retry_after_says_not_reported(config):
    limiter = RateLimitedEveryFifth(create_app(config))
    with serving(limiter) as server:
        result, output = run_verify(server.base_url, provider_cases=FEW_CASES, **FAST)
    assert result.exit_code == 0, output
    assert not [finding for finding in result.findings if "429" in finding.message]

    def request(entry: tuple[Any, ...]) -> tuple[Any, ...]:
        """The request, each secret the run made up for it blanked (a retry gets a fresh one)."""
        method, path, query, body, _ = entry
        return method, path, query, re.sub(rb"cvk[0-9a-f]+", b"<secret>", body)

    refused = [n for n, entry in enumerate(limiter.entries) if entry[-1]]
    assert len(refused) >= 5
    for n in refused:
        if "schemathesis-probe" in limiter.entries[n][1]:
            continue  # the probing phase asks what the server supports; an answer of any kind is one
        assert n + 1 < len(limiter.entries), "the last request was refused and never sent again"
        assert request(limiter.entries[n + 1]) == request(limiter.entries[n]), (
            "a refused request was not retried"
        )


def test_command_exits_0_on_the_mock_and_writes_junit(config, tmp_path, capsys):
    junit = tmp_path / "ci.junit.xml"
    with serving(create_app(config)) as server:
        argv = ["verify", "--base-url", server.base_url, "--api-key", API_KEY, "--seed", "5"]
        argv += ["--max-examples", "2", "--phases", "examples,lifecycle", "--provider-cases", "openai"]
        assert main([*argv, "--junit-xml", str(junit)]) == 0
    assert ElementTree.parse(junit).getroot().get("failures") == "0"


def test_the_default_mock_that_takes_any_key_conforms_with_the_unknown_key_probes_skipped(capsys):
    with serving(create_app()) as server:
        argv = ["verify", "--base-url", server.base_url, "--api-key", "test", "--seed", "3"]
        argv += [
            "--max-examples",
            "2",
            "--phases",
            "examples,fuzzing,lifecycle",
            "--provider-cases",
            "openai",
        ]
        assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "accepts any API key by design" in printed and "auth_enforced" in printed


def test_a_service_taking_any_key_without_saying_so_fails_auth_enforced(config):
    """The same mock with a health answer that does not say unknown keys are fine."""
    app = create_app()

    def silent_about_auth(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"] == "/__mock/health":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        return app(environ, start_response)

    with serving(silent_about_auth) as server:
        result, _ = run_verify(server.base_url, second_api_key=None, provider_cases=("openai",), **FAST)
    assert result.exit_code == 1
    assert "auth_enforced" in {finding.check for finding in result.findings}


def test_command_exits_2_when_the_service_is_unreachable(capsys):
    with serving(create_app()) as server:
        base_url = server.base_url
    assert main(["verify", "--base-url", base_url, "--api-key", API_KEY]) == 2
    assert "unreachable" in capsys.readouterr().err


def test_command_exits_2_when_the_api_key_is_refused(config, capsys):
    with serving(create_app(config)) as server:
        assert main(["verify", "--base-url", server.base_url, "--api-key", "not-a-key"]) == 2
    assert "refused the API key" in capsys.readouterr().err


def test_command_exits_2_on_bad_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k", "--phases", "smoke"])
    assert exit_info.value.code == 2


def test_ctrl_c_mid_run_still_deletes_every_key_created(config, monkeypatch):
    from contracts.verify.lifecycle import Client

    send, calls = Client.send, {"n": 0}

    def interrupted_on_the_tenth(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return send(self, *args, **kwargs)

    monkeypatch.setattr(Client, "send", interrupted_on_the_tenth)
    with serving(create_app(config)) as server:
        result, output = run_verify(server.base_url, provider_cases=FEW_CASES, **FAST)
        assert listed_slugs(server.base_url) == []
    assert result.interrupted and result.exit_code == 1
    assert "clean-up: deleted" in output and "interrupted" in output


def test_the_lifecycle_drives_the_model_catalog_through_both_paths_and_leaves_nothing(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        result, output = run_verify(server.base_url, provider_cases=FEW_CASES, **FAST)
        headers = {"x-portkey-api-key": API_KEY}
        left = httpx.get(f"{server.base_url}/integrations", headers=headers).json()
        assert (left["total"], listed_slugs(server.base_url)) == (0, [])
    assert result.exit_code == 0, output
    assert "model catalog: integration, grant, provider through both paths" in output
    catalog = [(method, path) for method, path, _, _ in journal.entries if "contracts-verify" in path]
    own = f"/v1/providers/contracts-verify-{result.run_id}-provider-"
    provider = next(path.rsplit("/", 1)[1] for method, path in catalog if path.startswith(own))
    assert ("GET", f"/v1/virtual-keys/{provider}") in catalog  # the same record through the other path
    grants = [
        json.loads(body)
        for method, path, _, body in journal.entries
        if path.startswith("/v1/integrations/") and path.endswith("/workspaces")
    ]
    assert [g["global_workspace_access"]["enabled"] for g in grants][-1] is False  # revoked before delete
    assert all(g["create_default_provider"] is False for g in grants)


def test_every_secret_mapping_the_run_sends_names_its_own_secret_reference_which_it_deletes(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        result, output = run_verify(server.base_url, max_examples=2, seed=4, phases=("lifecycle",))
        headers = {"x-portkey-api-key": API_KEY}
        left = httpx.get(f"{server.base_url}/secret-references", headers=headers).json()["total"]
    assert result.exit_code == 0, output
    assert left == 0
    writes = [sent_body(body) for method, path, _, body in journal.entries if method in ("POST", "PUT")]
    named = [
        mapping.get("secret_reference_id")
        for body in writes
        if isinstance(body, dict) and isinstance(body.get("secret_mappings"), list)
        for mapping in body["secret_mappings"]
        if isinstance(mapping, dict)
    ]
    own = f"contracts-verify-{result.run_id}-secret-reference-"
    assert named and all(name.startswith(own) for name in named if isinstance(name, str))


def test_only_what_the_contract_states_excuses_a_schemathesis_failure():
    """A positive case answered 400 is expected only when every rule the answer names is one the
    contract states for its operation (`x-portkey-state-rule`); a read after a DELETE that removes
    only named items (`x-portkey-deletes-named-items`) is not a use after free."""
    contract = contract_to_verify(Contract.load())
    run = VerifyRun("http://127.0.0.1:9/v1", contract, Budget(None), seed=1)
    stated = contract.operations["createProvider"].state_rules["body.integration_id"]

    def refused(path: str, message: str, status: int = 400) -> bool:
        body = json.dumps({"success": False, "data": {"message": message, "errorCode": "AB01"}}).encode()
        answer = Exchange.from_url("POST", f"http://127.0.0.1:9/v1{path}", status=status, response_body=body)
        return _expected_by_contract(run, SimpleNamespace(name="positive_data_acceptance"), answer)

    assert refused("/providers", f"body.integration_id: {stated}")
    assert not refused("/providers", f"body.integration_id: {stated}; body.name: is required")
    assert not refused("/providers", "body.integration_id: is required")
    assert not refused("/virtual-keys", f"body.integration_id: {stated}")  # not stated there
    assert not refused("/providers", f"body.integration_id: {stated}", status=404)

    def freed(deleted: str) -> bool:
        failure = SimpleNamespace(failure=SimpleNamespace(free=deleted))
        return _expected_by_contract(run, SimpleNamespace(name="use_after_free", failure_info=failure), None)

    assert freed("DELETE /integrations/my-openai/models")
    assert not freed("DELETE /integrations/my-openai")
    assert not freed("DELETE /virtual-keys/some-key")


def test_a_body_meant_to_be_invalid_is_still_invalid_once_the_guard_made_it_safe():
    """The guard cuts a created name to its limit after the run's prefix: a name one character too
    long would be mended, and schemathesis, expecting a refusal, would report the acceptance."""
    contract = contract_to_verify(Contract.load())
    run = VerifyRun("http://127.0.0.1:9/v1", contract, Budget(None), seed=1)
    create = schemathesis.openapi.from_dict(contract.document)["/virtual-keys"]["POST"]
    too_long = create.Case(body={"name": "n" * 256, "provider": "openai", "key": "sk-test-0000"})
    kept = safe_body(run, "createVirtualKey", too_long.body)
    assert len(kept["name"]) == 255 and not breaks_contract("createVirtualKey", kept, contract)
    assert breaks_contract("createVirtualKey", _still_invalid(run, too_long, kept), contract)

    valid = create.Case(body={"name": "n", "provider": "openai", "key": "sk-test-0000"})
    kept = safe_body(run, "createVirtualKey", valid.body)
    assert _still_invalid(run, valid, kept) == kept  # valid as generated: the case broke elsewhere


@pytest.mark.parametrize("workspaces", [1.5, "ws", None, {"id": "ws"}])
def test_the_guard_makes_safe_a_grant_body_whatever_its_workspaces_hold(workspaces):
    """Bodies meant to be invalid hold any JSON where the workspaces list belongs (seed 13 sent a float)."""
    run = VerifyRun("http://127.0.0.1:9/v1", contract_to_verify(Contract.load()), Budget(None), seed=1)
    kept = safe_body(run, "updateIntegrationWorkspaces", {"workspaces": workspaces})
    assert kept["workspaces"] == workspaces and kept["create_default_provider"] is False


def test_the_lifecycle_drives_every_declared_resource_and_leaves_nothing(config):
    """Derived from each `x-portkey-resource` marker: created with the run id, found by each field,
    renamed, deleted, gone; nothing of it is left, and schemathesis never writes to it. With these
    workspace keys, what they may not create (organisation-level resources, organisation API keys)
    and what has no create carrying a name are left out, each named in the notes. Virtual keys,
    providers and integrations, declared too, are followed by verify's own lifecycles of them;
    prompts and MCP servers by scenarios of their own, whose records are all gone afterwards too."""
    journal = Journal(create_app(config))
    contract = Contract.load()
    marked = lifecycle_resources(contract)
    by_hand = {r.name for r in contract.resources} - {r.name for r in marked}
    assert by_hand == {"virtual-key", "provider", "integration"}
    with serving(journal) as server:
        result, output = run_verify(server.base_url, provider_cases=FEW_CASES, max_examples=2, seed=4)
        left_out = [note for note in result.notes if ": left out of the lifecycle" in note]
        driven = [r for r in marked if not any(f"resource {r.name}: left out" in n for n in left_out)]
        headers = {"x-portkey-api-key": API_KEY}
        lists = {r.name: contract.operations[r.operations["list"]].template for r in driven}
        left = {
            name: httpx.get(f"{server.base_url}{path}", headers=headers).json()
            for name, path in lists.items()
        }
        for path in ("/prompts", "/prompts/partials", "/mcp-integrations", "/mcp-servers"):  # scenarios'
            left[path] = httpx.get(f"{server.base_url}{path}", headers=headers).json()
    assert result.exit_code == 0, output
    assert {"config", "guardrail"} <= {r.name for r in driven}
    # With workspace keys: organisation-level resources and organisation API keys answer 403;
    # members, users, invites and SCIM mappings have no create that carries a name; an MCP server's
    # create example names an MCP integration, a prompt's a collection, which this lifecycle does not
    # make first (scenarios of their own drive them: the MCP scenario, the prompt library's); a log
    # export's create takes no name. Nothing else is left out.
    assert {r.name for r in marked} - {r.name for r in driven} == {
        "api-key",
        "workspace",
        "workspace-user",
        "user",
        "invite",
        "scim-workspace-mapping",
        "mcp-server",
        "prompt",
        "export",
    }, left_out
    assert "lifecycle: prompt library" in output and "lifecycle: MCP integration and server" in output
    driven_by = {"prompt": "the prompt library's scenario", "mcp-server": "the MCP scenario"}
    for name, scenario in driven_by.items():  # the report says they are tested after all
        assert any(
            n.startswith(f"declared resource {name}: left out") and f"{scenario} drives it" in n
            for n in left_out
        )
    assert all(page["total"] == 0 for page in left.values()), left
    assert all(f"lifecycle: declared resource {r.name}" in output for r in driven)
    for resource in driven:
        ops = {resource.operations[kind]: kind for kind in ("create", "delete")}
        sent = [(contract.operation_for(method, path), body) for method, path, _, body in journal.entries]
        creates = [json.loads(body) for op, body in sent if op and ops.get(op.operation_id) == "create"]
        own = f"contracts-verify-{result.run_id}-secret-reference-"  # what the run's key mappings name
        creates = [body for body in creates if not str(body.get("slug", "")).startswith(own)]
        scenarios = tuple(f"contracts-verify-{result.run_id}-{name}" for name in (prompts.NAME, mcp.NAME))
        creates = [body for body in creates if not str(body.get("name")).startswith(scenarios)]
        assert len(creates) == 1 and creates[0]["name"].startswith(f"contracts-verify-{result.run_id}-")
        assert any(op and ops.get(op.operation_id) == "delete" for op, _ in sent), resource.name
    assert {"record_retrievable", "record_update_visible", "record_delete_final"} <= set(result.checks_passed)


def test_each_run_reads_its_own_contract_and_sees_the_file_once_it_changes(tmp_path):
    """Read once per process for speed, but no run shares the objects of another, and an edited
    file is read again."""
    path = tmp_path / "contract.yaml"
    original = Contract.load().path.read_text()
    path.write_text(original)
    first, second = read_contract(path), read_contract(path)
    assert first.document == second.document and first.document is not second.document
    first.document["paths"].clear()  # what a run (or schemathesis) might do to its own copy
    first.operations.clear()
    assert read_contract(path).operations.keys() == second.operations.keys() != set()

    path.write_text(original.replace("operationId: createVirtualKey", "operationId: makeVirtualKey"))
    assert "makeVirtualKey" in read_contract(path).operations
    path.unlink()
    with pytest.raises(ContractUnusable):
        read_contract(path)


def test_the_terminal_summary_keeps_one_column_however_long_an_operation_or_check_is():
    result = VerifyResult("http://mock/v1", "run", 7)
    result.requests.update({"GET /configs": 3, "DELETE /policies/usage-limits/{policyUsageLimitsId}": 12})
    result.checks_passed.update({"status_code": 15, "a_check_named_longer_than_forty_letters_xyz": 2})
    out = io.StringIO()
    write_terminal(result, out)
    lines = out.getvalue().splitlines()
    operations = [line for line in lines if line.endswith("failed") and "requests" in line]
    checks = [line for line in lines if line.endswith("failed") and "passed" in line]
    assert len(operations) == 2 and len({line.index(" requests") for line in operations}) == 1
    assert len(checks) == 2 and len({line.index(" passed") for line in checks}) == 1


def test_admin_reads_no_lifecycle_drives_are_fuzzed_but_not_covered_and_the_rest_is_named(config, tmp_path):
    """Analytics, the audit log and a log by id are tested by examples and fuzzing; the coverage
    phase, every boundary of analytics' 25 query parameters, would triple a run; a write no
    lifecycle can undo (a log's insert, feedback) and the keyless pricing are named as untested."""
    whole = read_contract()
    reads = {
        f"{op.method.upper()} {op.template}"
        for op in whole.operations.values()
        if op.operation_id in sampled_reads(contract_to_verify(whole))
    }
    assert {"GET /analytics/graphs/cost", "GET /audit-logs", "GET /logs/{logId}"} <= reads
    assert len(reads) == 23  # 21 of analytics, the audit log, a log
    assert [f"{o.method.upper()} {o.template}" for o in whole.operations.values() if o.public] == [
        "GET /model-configs/pricing/{provider}/{model}"
    ]
    small = tmp_path / "contract.json"  # the virtual keys' five, two reads and a log's insert: quick
    small.write_text(
        json.dumps(whole.only({*ROLES.values(), "getCostGraph", "listAuditLogs", "insertLogs"}).document)
    )
    with serving(create_app(config)) as server:
        runs = {
            phase: run_verify(server.base_url, max_examples=2, seed=1, phases=(phase,), contract_path=small)
            for phase in ("examples", "fuzzing", "coverage")
        }
    sampled = {"GET /analytics/graphs/cost", "GET /audit-logs"}
    for phase, (result, output) in runs.items():
        assert result.exit_code == 0, output
        assert ("not tested: POST /logs (a write no lifecycle drives cannot be undone") in output
        assert {label for label in result.requests if label.startswith("POST /logs")} == set()
        if phase == "coverage":
            assert not sampled & set(result.requests) and result.requests  # it ran, on the others
        else:  # the audit log's query has no example for the examples phase to send
            expected = {"GET /analytics/graphs/cost"} if phase == "examples" else sampled
            assert expected <= set(result.requests), sorted(result.requests)


def test_a_declared_resource_s_reads_are_fuzzed_and_its_writes_left_to_the_lifecycle(config, tmp_path):
    """schemathesis reads configs as it reads any other resource (a read is safe on any service);
    it never writes them: the guard cannot keep a write to a record the run made, the lifecycle can."""
    whole = read_contract()
    configs = (
        "listConfigs",
        "createConfig",
        "getConfig",
        "updateConfig",
        "deleteConfig",
        "listConfigVersions",
    )
    small = tmp_path / "contract.json"
    small.write_text(json.dumps(whole.only({*ROLES.values(), *configs}).document))  # keys: verify needs them
    with serving(create_app(config)) as server:
        result, output = run_verify(
            server.base_url, max_examples=3, seed=1, phases=("fuzzing", "coverage"), contract_path=small
        )
    assert result.exit_code == 0, output
    sent = set(result.requests)
    assert {"GET /configs", "GET /configs/{slug}", "GET /configs/{slug}/versions"} <= sent, sorted(sent)
    writes = {
        f"{op.method.upper()} {op.template}" for op in whole.operations.values() if op.operation_id in configs
    }
    assert not sent & (writes - {"GET /configs", "GET /configs/{slug}", "GET /configs/{slug}/versions"})


def test_schemathesis_never_writes_to_a_record_the_run_did_not_make_even_when_the_contract_names_it(
    tmp_path,
):
    """A contract's example may name a real record (an MCP integration on staging): the guard sends
    every write beneath a record the run does not own to an id nobody has."""
    with serving(create_app(MockConfig())) as server:  # any key: an organisation's MCP integrations
        headers = {"x-portkey-api-key": API_KEY}
        theirs = httpx.post(
            f"{server.base_url}/mcp-integrations",
            headers=headers,
            json={
                "name": "someone's",
                "url": "https://mcp.example.com/mcp",
                "auth_type": "none",
                "transport": "http",
            },
        ).json()["id"]
        whole = read_contract()
        (integrations,) = [r for r in whole.resources if r.name == "mcp-integration"]
        kept = {*ROLES.values(), *integrations.operations.values(), "updateMcpIntegrationCapabilities"}
        small = whole.only(kept).document
        (parameter,) = small["paths"]["/mcp-integrations/{mcpIntegrationId}/capabilities"]["parameters"]
        parameter["example"] = theirs  # what the examples phase sends first
        path = tmp_path / "contract.json"
        path.write_text(json.dumps(small))
        result, output = run_verify(
            server.base_url, max_examples=3, seed=1, phases=("examples", "fuzzing"), contract_path=path
        )
        capabilities = httpx.get(f"{server.base_url}/mcp-integrations/{theirs}/capabilities", headers=headers)
    assert result.requests["PUT /mcp-integrations/{mcpIntegrationId}/capabilities"] > 0, output
    assert capabilities.json()["data"] == [], capabilities.json()  # none was set on theirs


PERMANENT = {  # what the permanent writes' scenario sends, as the report labels it
    "POST /logs",
    "GET /logs/{logId}",
    "POST /feedback",
    "PUT /feedback/{id}",
    "GET /analytics/graphs/requests",
    "POST /logs/exports",
    "GET /logs/exports",
    "GET /logs/exports/{exportId}",
    "PUT /logs/exports/{exportId}",
    "POST /logs/exports/{exportId}/start",
    "GET /logs/exports/{exportId}/download",
    "POST /logs/exports/{exportId}/cancel",
}


def _permanent_writes_sent(journal: Journal) -> list[tuple[str, str]]:
    """The journal's writes that make what nothing can undo: a log, feedback, a logs export."""
    makes = ("/v1/logs", "/v1/feedback", "/v1/logs/exports")
    return [
        (method, path)
        for method, path, _, _ in journal.entries
        if (method == "POST" and path in makes) or (method == "PUT" and path.startswith("/v1/feedback/"))
    ]


def test_permanent_writes_drive_a_log_its_feedback_and_two_exports_marked_with_the_run(config):
    """With the option: a log inserted and read back, feedback given and changed, a graph read, one
    export started and downloaded, another changed and cancelled, each answer judged; schemathesis
    sends none of these writes, so each happens once, and the report no longer calls them untested."""
    journal = Journal(create_app(config))
    with serving(journal) as server:
        result, output = run_verify(
            server.base_url, provider_cases=("openai",), permanent_writes=True, **FAST
        )
        headers = {"x-portkey-api-key": API_KEY}
        exports = httpx.get(f"{server.base_url}/logs/exports", headers=headers).json()["data"]
        inserted = [json.loads(body) for method, path, _, body in journal.entries if path == "/v1/logs"]
    assert result.exit_code == 0, output
    assert "lifecycle: logs (a log, feedback on it, a graph, exports): permanent writes" in output
    assert set(result.requests) >= PERMANENT, sorted(result.requests)
    written = _permanent_writes_sent(journal)
    assert written.count(("POST", "/v1/logs")) == written.count(("POST", "/v1/feedback")) == 1
    trace = f"contracts-verify-{result.run_id}-trace"
    assert inserted[0]["metadata"]["trace_id"] == trace
    assert {(e["filters"]["trace_id"], e["status"]) for e in exports} == {
        (trace, "success"),
        (trace, "stopped"),
    }
    untested = next(note for note in result.notes if note.startswith("not tested: "))
    assert "POST /logs" not in untested and "/feedback" not in untested
    assert "GET /model-configs/pricing/{provider}/{model}" in untested


def test_without_permanent_writes_no_log_feedback_or_export_is_written_and_the_notes_name_the_option(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        result, output = run_verify(server.base_url, provider_cases=("openai",), **FAST)
    assert result.exit_code == 0, output
    assert _permanent_writes_sent(journal) == [] and "lifecycle: logs" not in output
    untested = next(note for note in result.notes if note.startswith("not tested: "))
    assert untested.startswith("not tested: POST /logs, POST /feedback, PUT /feedback/{id}, ")
    assert "pass --permanent-writes to test them on a service you own" in untested
    export = next(note for note in result.notes if note.startswith("declared resource export: left out"))
    assert "pass --permanent-writes to test it on a service you own" in export


def test_permanent_writes_with_read_only_write_nothing_and_say_so(config):
    journal = Journal(create_app(config))
    with serving(journal) as server:
        result, output = run_verify(
            server.base_url, read_only=True, permanent_writes=True, seed=3, phases=("lifecycle",)
        )
    assert result.exit_code == 0, output
    assert {method for method, *_ in journal.entries} <= SAFE_METHODS
    assert "--permanent-writes ignored: the run is read-only, nothing is written" in result.notes
    assert "lifecycle: logs" not in output


@pytest.mark.parametrize("defect", sorted(PERMANENT_VARIANTS))
def test_a_broken_log_or_export_fails_verify_with_permanent_writes(config, defect):
    build, operation, check = PERMANENT_VARIANTS[defect]
    with serving(build(config)) as server:
        result, output = run_verify(
            server.base_url, provider_cases=("openai",), permanent_writes=True, seed=1, phases=("lifecycle",)
        )
    assert result.exit_code == 1
    failed = {(finding.operation, finding.check) for finding in result.findings}
    assert failed == {(operation, check)}, output


def test_a_scenario_whose_operations_the_contract_lacks_is_left_out_with_a_note(config, tmp_path):
    """A service's own contract need not have the prompt library, MCP or logs: the run says so."""
    small = tmp_path / "contract.json"
    small.write_text(json.dumps(read_contract().only({*ROLES.values(), "insertLogs"}).document))
    with serving(create_app(config)) as server:
        result, output = run_verify(
            server.base_url,
            phases=("lifecycle",),
            provider_cases=("openai",),
            contract_path=small,
            permanent_writes=True,
        )
    assert result.exit_code == 0, output
    for scenario, first in (("prompt library", "createCollection"), ("MCP scenario", "createMcpIntegration")):
        assert f"{scenario}: left out of the lifecycle (the contract lacks {first}, " in output
    assert "logs: left out of the lifecycle (the contract lacks createFeedback, " in output


def test_operations_no_scope_marks_as_the_admin_apis_are_counted_untested(tmp_path):
    """A vendor's whole document (Portkey's published spec has no `x-portkey-scope`) is mostly other
    APIs: the note says how many operations the run leaves alone rather than nothing."""
    document = read_contract().only({*ROLES.values(), "getCostGraph"}).document
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(document))
    assert untested_note(read_contract(path)) is None  # the graph is an admin read: sampled
    document["paths"]["/analytics/graphs/cost"]["get"].pop("x-portkey-scope")
    path.write_text(json.dumps(document))
    expected = "not tested: 1 operation(s) (no scope (`x-portkey-scope`) marks them as the admin API's)"
    assert untested_note(read_contract(path)) == expected
