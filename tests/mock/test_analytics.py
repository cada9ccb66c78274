"""Analytics on both stores: every graph, the cache summary and the groups are computed from the logs
and feedback inserted through the API, in one workspace, over the requested window cut into
buckets; filters narrow them, bad values answer 400 naming the field, and an empty window answers
zeros that keep to the contract (docs/admin-analytics.md). Every answer is judged against the
contract by `Api`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from mockserver import Contract
from mockserver.app import create_app
from mockserver.resources.analytics_query import MAX_BUCKETS, Window
from tests.mock.test_logs import a_log, insert
from tests.support.inprocess import START, Api, Clock, error_of, reset, store_config

DAY = "time_of_generation_min=2030-01-01T00:00:00Z&time_of_generation_max=2030-01-01T23:59:59.999Z"
"""The window of the day the ten logs are made in: 24 hourly buckets."""
CONTRACT = Contract.load()
PATHS = sorted(
    op.template.removeprefix("/analytics/").replace("{metadataKey}", "team")
    for op in CONTRACT.operations.values()
    if op.template.startswith("/analytics/")
)
"""Every analytics operation, each as a path one can call (below `/v1/analytics/`)."""
assert len(PATHS) == 21

# Ten calls, one an hour from 13:00: model, status, prompt and completion tokens, response time,
# cache status, user, team.
CALLS = [
    ("gpt-4o", 200, 10, 5, 100, "HIT", "ana", "growth"),
    ("gpt-4o", 200, 20, 10, 200, "MISS", "ana", "growth"),
    ("gpt-4o", 500, 30, 0, 300, None, "ben", "growth"),
    ("gpt-4o", 200, 40, 20, 400, "SEMANTIC HIT", "ben", "core"),
    ("claude-3", 200, 50, 25, 500, "HIT", "ana", "core"),
    ("claude-3", 429, 0, 0, 600, None, None, "core"),
    ("claude-3", 200, 60, 30, 700, "MISS", "cleo", "core"),
    ("claude-3", 500, 70, 0, 800, None, "cleo", None),
    ("gpt-4o", 200, 80, 40, 900, "HIT", "ana", None),
    ("gpt-4o", 200, 90, 45, 1000, "DISABLED", None, None),
]


@pytest.fixture
def api(clocked_api: Api) -> Api:
    return clocked_api


def a_call(model: str, status: int, prompt: int, completion: int, time: int, cache: str | None,
           user: str | None, team: str | None, trace: str) -> dict[str, Any]:  # fmt: skip
    metadata = {"trace_id": trace, "span_id": f"span-{trace}"}
    metadata |= {"_user": user} if user else {}
    metadata |= {"team": team} if team else {}
    return a_log(
        response={
            "status": status,
            "headers": {"x-portkey-cache-status": cache} if cache else {},
            "body": {"model": model, "usage": {"prompt_tokens": prompt, "completion_tokens": completion}},
            "response_time": time,
        },
        metadata=metadata,
    )


@pytest.fixture
def ten(api: Api, clock: Clock) -> list[str]:
    """The ten calls logged an hour apart from 13:00 on 2030-01-01, traces t0 to t9; their ids."""
    ids = []
    for number, call in enumerate(CALLS):
        clock.now = START + timedelta(hours=number + 1)
        ids.append(insert(api, a_call(*call, trace=f"t{number}")))
    return ids


def get(api: Api, path: str, query: str = DAY) -> dict[str, Any]:
    answer = api.call("GET", f"/v1/analytics/{path}?{query}")
    assert answer.status_code == 200, answer.json
    return dict(answer.json)


def by_hour(graph: dict[str, Any], field: str = "total") -> dict[int, Any]:
    """The data points that are not zero, by their hour of the day."""
    points = graph["data_points"]
    assert len(points) == 24 and points[0]["timestamp"] == "2030-01-01T00:00:00.000Z"
    return {int(p["timestamp"][11:13]): p[field] for p in points if p[field] not in (0, [])}


def test_the_requests_graph_counts_each_log_in_its_hour_and_sums_to_ten(api: Api, ten: list[str]):
    graph = get(api, "graphs/requests")
    assert graph["object"] == "analytics-graph" and graph["summary"] == {"total": 10}
    assert by_hour(graph) == {hour: 1 for hour in range(13, 23)}
    assert sum(point["total"] for point in graph["data_points"]) == 10


def test_tokens_cost_and_latency_are_the_logs_own(api: Api, ten: list[str]):
    tokens = get(api, "graphs/tokens")
    logged = [api.call("GET", f"/v1/logs/{log_id}").json["metrics"] for log_id in ten]
    assert tokens["summary"] == {"total": sum(m["total_units"] for m in logged), "avg": 63}  # 625 / 10
    assert by_hour(tokens)[13] == 15 and by_hour(tokens, "avg")[22] == 135
    cost = get(api, "graphs/cost")  # an inserted log costs 0: only the gateway prices a call
    assert cost["summary"] == {"total": sum(m["cost"] for m in logged), "avg": 0}
    latency = get(api, "graphs/latency")
    assert latency["summary"] == {"avg": 550, "p50": 500, "p90": 900, "p99": 1000}
    assert by_hour(latency, "p90") == {13 + n: 100 * (n + 1) for n in range(10)}


def test_errors_count_the_calls_not_answered_2xx(api: Api, ten: list[str]):
    errors = get(api, "graphs/errors")
    assert errors["summary"] == {"total": 3} and by_hour(errors) == {15: 1, 18: 1, 20: 1}
    assert get(api, "graphs/errors/rate")["summary"] == {"rate": 30}
    assert by_hour(get(api, "graphs/errors/rate"), "rate") == {15: 100, 18: 100, 20: 100}
    stacks = get(api, "graphs/errors/stacks")
    assert stacks["summary"] == {"total": 3}
    assert by_hour(stacks, "stats") == {
        15: [{"response_status_code": 500, "count": 1}],
        18: [{"response_status_code": 429, "count": 1}],
        20: [{"response_status_code": 500, "count": 1}],
    }
    codes = get(api, "graphs/errors/status-codes")
    assert codes["summary"] == {"total_errors": 3, "unique_error_codes": 2}
    assert codes["data_points"] == [{"status_code": 500, "count": 2}, {"status_code": 429, "count": 1}]


def test_the_cache_figures_count_hits_and_their_speed(api: Api, ten: list[str]):
    summary = get(api, "summary/cache")
    assert summary["object"] == "analytics-summary"
    # hits at 100, 400, 500, 900 ms (mean 475); the other six at 200, 300, 600, 700, 800, 1000 (600)
    assert summary["summary"] == {"hits": 4, "avg_latency": 475, "total_requests": 10, "cache_speedup": 21}
    rate = get(api, "graphs/cache/hit-rate")
    assert rate["summary"] == {"total": 4, "rate": 40}
    assert by_hour(rate, "simple_hits") == {13: 1, 17: 1, 21: 1} and by_hour(rate, "semantic_hits") == {16: 1}
    latency = get(api, "graphs/cache/latency")
    assert latency["summary"] == {} and by_hour(latency, "avg") == {13: 100, 16: 400, 17: 500, 21: 900}


def test_users_are_counted_once_however_many_calls_they_make(api: Api, ten: list[str]):
    assert get(api, "graphs/users")["summary"] == {"total": 3}
    assert get(api, "graphs/users/requests")["summary"] == {"total": 8, "unique": 3, "avg": 3}  # 8 / 3


def test_the_rescued_graph_is_zero_as_only_the_gateway_retries(api: Api, ten: list[str]):
    rescued = get(api, "graphs/requests/rescued")
    assert rescued["summary"] == {"retry": 0, "fallback": 0}
    assert {(str(p["retry"]), p["fallback"]) for p in rescued["data_points"]} == {("[]", 0)}


def test_feedback_graphs_agree_with_the_feedback_given(api: Api, ten: list[str], clock: Clock):
    clock.now = START + timedelta(hours=11)  # 23:00
    for trace, value, weight in [("t0", 10, 1), ("t0", 4, 0.5), ("t4", -6, 1), ("t9", 4, 1)]:
        made = api.call("POST", "/v1/feedback", json={"trace_id": trace, "value": value, "weight": weight})
        assert made.status_code == 200
    graph = get(api, "graphs/feedbacks")
    assert graph["summary"] == {"total": 4} and by_hour(graph) == {23: 4}
    scores = get(api, "graphs/feedbacks/scores")
    assert scores["data_points"] == [
        {"score": -6, "total": 1},
        {"score": 4, "total": 2},
        {"score": 10, "total": 1},
    ]
    assert get(api, "graphs/feedbacks/weighted")["summary"] == {"avg": 3}  # (10 + 2 - 6 + 4) / 4
    models = get(api, "graphs/feedbacks/ai-models")["data_points"]
    assert models == [
        {"ai_model": "gpt-4o", "total": 3, "avg_weighted_feedback": 5},  # (10 + 2 + 4) / 3
        {"ai_model": "claude-3", "total": 1, "avg_weighted_feedback": -6},
    ]
    narrowed = get(api, "graphs/feedbacks", f"{DAY}&trace_id=t4,t9")
    assert narrowed["summary"] == {"total": 2}
    assert get(api, "graphs/requests", f"{DAY}&weighted_feedback_min=4")["summary"] == {"total": 2}  # t0, t9


def test_groups_count_users_models_and_metadata_values(api: Api, ten: list[str], clock: Clock):
    clock.now = START + timedelta(hours=11)
    api.call("POST", "/v1/feedback", json={"trace_id": "t3", "value": 8, "weight": 0.5})
    users = get(api, "groups/users")
    assert users["object"] == "list" and users["total"] == 3
    assert [(u["user"], u["requests"], u["cost"]) for u in users["data"]] == [
        ("ana", "4", "0"),
        ("ben", "2", "0"),
        ("cleo", "2", "0"),
    ]
    models = get(api, "groups/ai-models")["data"]
    assert [(m["ai_model"], m["requests"], m["object"]) for m in models] == [
        ("gpt-4o", "6", "analytics-group"),
        ("claude-3", "4", "analytics-group"),
    ]
    teams = get(api, "groups/metadata/team")
    assert teams["total"] == 2
    core, growth = teams["data"]
    assert core == {
        "metadata_value": "core",
        "requests": 4,
        "cost": 0,
        "avg_tokens": 56,  # 60, 75, 0, 90
        "avg_weighted_feedback": 4,
        "requests_with_feedback": 1,
        "last_seen": "2030-01-01T19:00:00.000Z",
        "object": "analytics-group",
    }
    assert (growth["metadata_value"], growth["requests"], growth["avg_weighted_feedback"]) == ("growth", 3, 0)


def test_groups_are_paged_and_keep_their_order(api: Api, ten: list[str]):
    pages = [get(api, "groups/users", f"{DAY}&page_size=2&current_page={n}") for n in range(3)]
    assert [[u["user"] for u in page["data"]] for page in pages] == [["ana", "ben"], ["cleo"], []]
    assert {page["total"] for page in pages} == {3}
    assert get(api, "groups/users", f"{DAY}&page_size=0") == {"object": "list", "total": 3, "data": []}


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("status_code=500,429", 3),
        ("status_code=200", 7),
        ('metadata={"team": "core"}', 4),
        ('metadata={"team": "core", "_user": "ana"}', 1),
        ("trace_id=t1,t2", 2),
        ("span_id=span-t5", 1),
        ("total_units_min=60&total_units_max=90", 4),  # 60, 75, 90, 70
        ("prompt_token_max=20", 3),
        ("completion_token_min=30", 3),
        ("cost_min=0&cost_max=0", 10),
        ("cost_min=1", 0),
        ("cache_status=hit,SEMANTIC HIT", 4),
        ("virtual_keys=openai-prod", 0),  # only the gateway records these: no inserted log matches
        ("configs=pc-1", 0),
        ("api_key_ids=k-1", 0),
        ("prompt_slug=p-1", 0),
        ("ai_org_model=openai__gpt-4o", 0),
    ],
)
def test_filters_narrow_the_logs(api: Api, ten: list[str], query: str, total: int):
    sent = "&".join(f"{k}={quote(v)}" for k, v in (part.split("=", 1) for part in query.split("&")))
    assert get(api, "graphs/requests", f"{DAY}&{sent}")["summary"]["total"] == total


def test_the_window_narrows_the_logs_whatever_its_offset(api: Api, ten: list[str]):
    start, end = quote("2030-01-01T19:30:00+05:30"), quote("2030-01-01T21:00:00+05:30")  # 14:00 to 15:30 UTC
    graph = get(api, "graphs/requests", f"time_of_generation_min={start}&time_of_generation_max={end}")
    assert graph["summary"] == {"total": 2}  # the logs of 14:00 and 15:00, both ends included
    points = graph["data_points"]  # 91 minutes
    assert len(points) == 91 and [p["timestamp"][11:16] for p in points[:2]] == ["14:00", "14:01"]
    assert {p["timestamp"][11:16]: p["total"] for p in points if p["total"]} == {"14:00": 1, "15:00": 1}


def test_another_workspace_or_key_sees_nothing(api: Api, ten: list[str]):
    elsewhere = api.workspace()
    assert get(api, "graphs/requests", f"{DAY}&workspace_slug={elsewhere}")["summary"] == {"total": 0}
    assert get(api.as_key("pk-someone-else"), "graphs/requests")["summary"] == {"total": 0}
    insert(api, a_log())  # one more in the key's own workspace, and one in the other
    there = api.call("POST", f"/v1/logs?workspace_id={elsewhere}", json=a_log())
    assert there.status_code == 200
    today = (
        f"time_of_generation_min=2030-01-01T00:00:00Z&time_of_generation_max={quote('2030-01-02T00:00:00Z')}"
    )
    assert get(api, "graphs/requests", f"{today}&workspace_slug={elsewhere}")["summary"] == {"total": 1}
    assert get(api, "graphs/requests", today)["summary"] == {"total": 11}


def test_a_workspace_key_reads_its_own_and_an_admin_key_must_name_one(request, store_kind, tmp_path: Path):
    keys = tmp_path / "keys.yaml"
    entries = [{"key": "pk-admin"}, {"key": "pk-team", "workspace_id": "ws-team"}]
    keys.write_text(yaml.safe_dump({"api_keys": entries}))
    app = create_app(store_config(request, store_kind, keys_path=keys))
    try:
        admin, team = Api(app.test_client(), "pk-admin"), Api(app.test_client(), "pk-team")
        assert team.call("POST", "/v1/logs", json=a_log()).status_code == 200
        window = "time_of_generation_min=2000-01-01T00:00:00Z&time_of_generation_max=2100-01-01T00:00:00Z"
        refused = admin.call("GET", f"/v1/analytics/graphs/requests?{window}")
        assert (
            error_of(refused, 400, "AB01")
            == "query.workspace_slug: is required for organisation admin API keys"
        )
        assert get(admin, "graphs/requests", f"{window}&workspace_slug=ws-team")["summary"] == {"total": 1}
        assert get(admin, "graphs/requests", f"{window}&workspace_slug=ws-other")["summary"] == {"total": 0}
        assert get(team, "graphs/requests", window)["summary"] == {"total": 1}
        # a workspace key's own workspace, whatever it names (the published parameter's description)
        assert get(team, "graphs/requests", f"{window}&workspace_slug=ws-other")["summary"] == {"total": 1}
    finally:
        reset(app)


@pytest.mark.parametrize("path", PATHS)
def test_every_operation_answers_an_empty_window_with_zeros(api: Api, path: str):
    answer = get(api, path)  # judged against the contract by Api
    figures = [v for k, v in answer.get("summary", {}).items()]
    assert all(v == 0 for v in figures)
    if "data_points" in answer:
        points = answer["data_points"]
        assert points == [] or len(points) == 24
        assert all(v in (0, []) for p in points for k, v in p.items() if k != "timestamp")
    if "data" in answer:
        assert answer["total"] == 0 and answer["data"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query.time_of_generation_min: is required"),
        ("time_of_generation_min=2030-01-01T00:00:00Z", "query.time_of_generation_max: is required"),
        (f"{DAY.split('&')[0]}&time_of_generation_max=yesterday", "query.time_of_generation_max: "),
        (f"{DAY}&status_code=ok", "query.status_code: "),
        (f"{DAY}&status_code=200,99", "query.status_code: "),
        (
            "time_of_generation_min=2030-02-30T00:00:00Z&time_of_generation_max=2030-03-01T00:00:00Z",
            "query.time_of_generation_min: ",  # no 30 February
        ),
        (f"{DAY}&metadata=team", "query.metadata: must match the pattern"),
        (f"{DAY}&metadata=%7B%22a%22%3A%5B1%5D%7D", "query.metadata: must match the pattern"),  # {"a": [1]}
        (f"{DAY}&cost_min=-1", "query.cost_min: "),
        (f"{DAY}&weighted_feedback_max=11", "query.weighted_feedback_max: "),
        (f"{DAY}&prompt_token_min=many", "query.prompt_token_min: "),
        (f"{DAY}&workspace_slug=", "query.workspace_slug: "),
    ],
)
def test_bad_values_answer_400_naming_the_field(api: Api, query: str, message: str):
    assert error_of(api.call("GET", f"/v1/analytics/graphs/requests?{query}"), 400, "AB01").startswith(
        message
    )


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:00:00-05:00", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z"]
)
def test_a_moment_that_cannot_be_read_answers_400(api: Api, moment: str):
    """Past year 9898 (an offset could carry it past 9999 in UTC) or a day that does not exist: the
    contract's pattern refuses it, so no request it takes is one the mock cannot read."""
    late = quote(moment)
    answer = api.call(
        "GET", f"/v1/analytics/graphs/requests?time_of_generation_min={late}&time_of_generation_max={late}"
    )
    assert error_of(answer, 400, "AB01").startswith("query.time_of_generation_min: ")


def test_a_window_or_range_ending_before_it_starts_holds_nothing(api: Api, ten: list[str]):
    backwards = "time_of_generation_min=2030-01-02T00:00:00Z&time_of_generation_max=2030-01-01T00:00:00Z"
    assert get(api, "graphs/requests", backwards) == {
        "summary": {"total": 0},
        "data_points": [],
        "object": "analytics-graph",
    }
    assert get(api, "groups/users", backwards)["total"] == 0
    assert get(api, "graphs/requests", f"{DAY}&total_units_min=5&total_units_max=4")["summary"] == {
        "total": 0
    }


def test_groups_refuse_a_bad_page(api: Api):
    answer = api.call("GET", f"/v1/analytics/groups/users?{DAY}&current_page=-1")
    assert error_of(answer, 400, "AB01").startswith("query.current_page: ")


@pytest.mark.parametrize(
    ("span", "width", "count"),
    [
        (timedelta(minutes=30), timedelta(minutes=1), 31),
        (timedelta(hours=1), timedelta(minutes=1), 61),
        (timedelta(hours=2), timedelta(hours=1), 3),
        (timedelta(days=1), timedelta(hours=1), 25),
        (timedelta(days=30), timedelta(days=1), 31),
        (timedelta(days=365), timedelta(weeks=1), 53),
        (timedelta(days=3650), timedelta(weeks=6), 88),
    ],
)
def test_buckets_are_the_smallest_width_that_keeps_them_few(span: timedelta, width: timedelta, count: int):
    window = Window(START, START + span)  # START is on a whole hour, a Tuesday
    assert (window.width, window.count) == (width, count) and count <= MAX_BUCKETS + 1
    starts = window.starts()
    assert starts[0] <= START < starts[0] + width and starts[-1] <= window.end < starts[-1] + width


def test_weeks_start_on_monday():
    window = Window(START, START + timedelta(days=365))
    assert window.first == datetime(2029, 12, 31, tzinfo=UTC) and window.first.weekday() == 0


def test_the_off_spec_paths_of_the_sdks_are_not_served(api: Api):
    for path in ("graphs/cache-hit-rate", "graphs/errors-rate", "groups/workspaces", "groups/model"):
        answer = api.client.get(f"/v1/analytics/{path}?{DAY}", headers={"x-portkey-api-key": "pk-test-key"})
        assert error_of(answer, 404, "AB08") == "No such endpoint"
