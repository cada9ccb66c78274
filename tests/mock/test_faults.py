"""Faults on demand through the control plane and the per-request header, on both stores."""

from __future__ import annotations

import pytest

from mockserver import create_app
from mockserver.cli import main
from mockserver.config import MockConfig
from mockserver.faults.plan import Faults
from mockserver.state.fault_state import MemoryFaultState, RedisFaultState
from mockserver.state.redis_keys import RedisNamespace, connect
from tests.support.inprocess import API_KEY, Api, reset, store_config, unique_prefix

OPENAI = {"name": "openai", "provider": "openai", "key": "sk-secret-provider-key"}


@pytest.fixture
def app(request, store_kind):
    app = create_app(store_config(request, store_kind))
    yield app
    reset(app)


def put_faults(app, plan):
    return app.test_client().put("/__mock/faults", json=plan)


def statuses(api: Api, count: int) -> list[int]:
    return [api.list().status_code for _ in range(count)]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            {"rules": [{"operation": "createVirtualKey", "status": 404}]},
            "faults.rules[0].status: must be an error status the contract declares for createVirtualKey",
        ),
        (
            {"rules": [{"operation": "makeCoffee", "status": 500}]},
            "faults.rules[0].operation: must be * or an operationId of the contract",
        ),
        (
            {"rules": [{"latency": "uniform", "latency_min_ms": 5}]},
            "faults.rules[0].latency_max_ms: is required for latency uniform",
        ),
        (
            {"rules": [{"status": 500, "connection": "reset"}]},
            "faults.rules[0].connection: cannot be combined with status",
        ),
        ({"rules": [{"rate": 0.5}]}, "faults.rules[0]: must set status, connection or latency"),
        ({"rules": [{"latency_ms": 120_000}]}, "faults.rules[0].latency_ms: must be at most 60000"),
        (
            {"rate_limits": [{"type": "tokens", "unit": "rpm", "value": 5}]},
            'faults.rate_limits[0].type: must be "requests"',
        ),
    ],
)
def test_a_fault_plan_breaking_a_rule_is_refused_naming_the_field_and_the_rule(app, plan, message):
    response = put_faults(app, plan)
    assert response.status_code == 400
    assert response.json["data"]["errorCode"] == "AB01"
    assert message in response.json["data"]["message"]
    assert app.test_client().get("/__mock/faults").json["rules"] == []


def test_the_plan_is_reported_back_with_the_seed_the_mock_chose(app):
    plan = put_faults(app, {"rules": [{"status": 500, "rate": 0.5}]}).json
    assert isinstance(plan["seed"], int)
    assert app.test_client().get("/__mock/faults").json == plan
    assert app.test_client().delete("/__mock/faults").json == {"rules": [], "rate_limits": []}


def test_a_seed_repeats_the_fault_sequence_exactly_and_another_seed_changes_it(request, store_kind):
    def run(seed: int) -> list[int]:
        app = create_app(store_config(request, store_kind))
        put_faults(
            app, {"seed": seed, "rules": [{"operation": "listVirtualKeys", "status": 503, "rate": 0.5}]}
        )
        try:
            return statuses(Api(app.test_client()), 20)
        finally:
            reset(app)

    first = run(7)
    assert set(first) == {200, 503}
    assert run(7) == first
    assert run(8) != first


def test_times_fails_only_the_next_n_matching_requests(app):
    api = Api(app.test_client())
    put_faults(app, {"rules": [{"operation": "listVirtualKeys", "status": 500, "times": 2}]})
    assert api.create(**OPENAI).status_code == 200  # another operation: not matched, not counted
    assert statuses(api, 4) == [500, 500, 200, 200]


def test_an_error_fault_answers_in_portkeys_envelope_and_replaces_the_operation(app):
    api = Api(app.test_client())
    put_faults(app, {"rules": [{"operation": "createVirtualKey", "status": 429, "times": 1}]})
    limited = api.create(**OPENAI)
    assert limited.status_code == 429
    assert limited.json["success"] is False and limited.json["data"]["errorCode"] == "AB06"
    assert limited.headers["Retry-After"] == "1"
    assert "x-portkey-request-id" not in limited.headers
    assert api.list().json["total"] == 0


def test_an_error_fault_can_carry_the_request_id_that_stops_the_sdk_retrying(app):
    api = Api(app.test_client())
    put_faults(app, {"rules": [{"status": 503, "request_id": True, "retry_after": 30}]})
    response = api.list()
    assert (response.status_code, response.json["data"]["errorCode"]) == (503, "AB04")
    assert response.headers["Retry-After"] == "30"
    assert len(response.headers["x-portkey-request-id"]) == 32


def test_the_fault_header_fails_one_request(app):
    client = app.test_client()
    headers = {"x-portkey-api-key": API_KEY}
    faulted = client.get(
        "/v1/virtual-keys", headers=headers | {"x-mock-fault": "status=500; request-id=true"}
    )
    assert faulted.status_code == 500 and "x-portkey-request-id" in faulted.headers
    assert client.get("/v1/virtual-keys", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("status=404", "header.x-mock-fault.status: must be an error status the contract declares"),
        ("times=2", "header.x-mock-fault.times: is not a field"),
        ("connection=explode", "header.x-mock-fault.connection: must be one of: reset, empty, truncated"),
        ("503", "header.x-mock-fault: must be key=value pairs separated by ';'"),
        ("status=" + "[" * 5000, "header.x-mock-fault.status: must be of type integer"),
    ],
)
def test_a_bad_fault_header_is_refused_naming_the_header_and_the_rule(app, header, message):
    response = app.test_client().get(
        "/v1/virtual-keys", headers={"x-portkey-api-key": API_KEY, "x-mock-fault": header}
    )
    assert response.status_code == 400
    assert message in response.json["data"]["message"]


def test_the_rate_limiter_counts_requests_per_api_key(request, store_kind):
    thirty_seconds_into_a_minute = 60 * 20_000 + 30.0
    app = create_app(store_config(request, store_kind), rate_limit_clock=lambda: thirty_seconds_into_a_minute)
    request.addfinalizer(lambda: reset(app))
    api = Api(app.test_client())
    put_faults(app, {"rate_limits": [{"type": "requests", "unit": "rpm", "value": 3}]})
    assert statuses(api, 4) == [200, 200, 200, 429]
    limited = api.list()
    assert limited.json["data"]["errorCode"] == "AB06"
    assert limited.headers["Retry-After"] == "30"  # the seconds left in the window
    assert api.as_key("pk-someone-else").list().status_code == 200


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_the_rate_limit_window_opens_again_once_it_has_passed(request, contract, kind):
    now = [1_000_000.0]  # a window starts at every multiple of 60 s
    if kind == "redis":
        shared = RedisNamespace(connect(request.getfixturevalue("redis_url")), unique_prefix())
        request.addfinalizer(shared.clear)
        state = RedisFaultState(shared)
    else:
        state = MemoryFaultState()
    faults = Faults(contract, state, clock=lambda: now[0])
    faults.set_plan({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 1}]})
    faults.check_rate_limit("pk-a")
    with pytest.raises(Exception, match="Rate limit exceeded") as refused:
        faults.check_rate_limit("pk-a")
    assert refused.value.headers["Retry-After"] == str(60 - int(now[0]) % 60)
    now[0] += 60
    faults.check_rate_limit("pk-a")


def test_latency_is_drawn_from_its_distribution_and_repeats_with_the_seed(contract):
    plan = {
        "seed": 11,
        "rules": [
            {"operation": "listVirtualKeys", "latency_ms": 40},
            {"operation": "createVirtualKey", "latency": "uniform", "latency_min_ms": 5, "latency_max_ms": 9},
            {
                "operation": "deleteVirtualKey",
                "latency": "lognormal",
                "latency_median_ms": 50,
                "latency_sigma": 3,
            },
        ],
    }

    def delays(operation: str) -> list[float]:
        faults = Faults(contract, MemoryFaultState())
        faults.set_plan(plan)
        return [faults.for_request(operation, {}).delay_ms for _ in range(30)]

    assert delays("listVirtualKeys") == [40] * 30
    uniform = delays("createVirtualKey")
    assert all(5 <= d <= 9 for d in uniform) and len(set(uniform)) > 1
    assert delays("createVirtualKey") == uniform
    lognormal = delays("deleteVirtualKey")
    assert min(lognormal) < 50 < max(lognormal) <= 60_000
    assert delays("retrieveVirtualKey") == [0] * 30


def test_reset_clears_the_faults_with_the_keys(app):
    put_faults(
        app, {"rules": [{"status": 500}], "rate_limits": [{"type": "requests", "unit": "rpd", "value": 1}]}
    )
    reset(app)
    assert app.test_client().get("/__mock/faults").json == {"rules": [], "rate_limits": []}
    assert statuses(Api(app.test_client()), 2) == [200, 200]


def test_two_mocks_on_one_redis_prefix_share_the_plan_and_its_counters(redis_url):
    config = MockConfig(store_url=redis_url, redis_prefix=unique_prefix())
    first, second = create_app(config), create_app(config)
    try:
        put_faults(first, {"rules": [{"operation": "listVirtualKeys", "status": 503, "times": 3}]})
        apis = [Api(first.test_client()), Api(second.test_client())]
        assert [apis[n % 2].list().status_code for n in range(5)] == [503, 503, 503, 200, 200]
    finally:
        reset(first)


def test_the_command_line_refuses_a_fault_the_contract_does_not_declare(capsys):
    assert main(["serve", "--port", "0", "--fault", "operation=listVirtualKeys; status=418"]) == 2
    assert "faults.rules[0].status: must be an error status the contract declares" in capsys.readouterr().err


def test_the_command_line_reads_a_fault_plan_file_and_adds_its_own_rules(tmp_path, capsys):
    plan = tmp_path / "faults.yaml"
    plan.write_text("seed: 3\nrules:\n  - {operation: listVirtualKeys, latency_ms: 10}\n")
    arguments = ["serve", "--port", "0", "--faults", str(plan), "--fault", "connection=explode"]
    assert main(arguments) == 2
    assert "faults.rules[1].connection: must be one of: reset, empty, truncated" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--rate-limit", "many/rpm"]) == 2
    assert "--rate-limit must look like 100/rpm" in capsys.readouterr().err


def test_connection_faults_are_refused_where_the_server_cannot_break_a_connection(capsys):
    assert main(["serve", "--port", "0", "--fault", "connection=reset"]) == 2  # granian, the default
    assert "faults.rules[0].connection: needs the waitress server" in capsys.readouterr().err
    app = create_app(MockConfig(connection_faults=False))
    response = app.test_client().put("/__mock/faults", json={"rules": [{"connection": "empty"}]})
    assert response.status_code == 400
    response = app.test_client().get(
        "/v1/virtual-keys", headers={"x-portkey-api-key": "k", "x-mock-fault": "connection=truncated"}
    )
    assert response.status_code == 400
    assert "header.x-mock-fault.connection: needs the waitress server" in response.json["data"]["message"]
