"""Any value the contract accepts is kept in a form that reads back, on every store: date-times in
one form, strict JSON in every answer and page, and one unreadable record never takes a list down."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc3339_validator import validate_rfc3339

from contracts import strategies
from mockserver import create_app, jsontext
from mockserver.contract import date_times, strict_json
from mockserver.state.records import Store
from mockserver.state.records.memory import MemoryStore
from tests.support.inprocess import Api, reset, store_config

PORTKEY_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
WORKSPACE = "ws-values"


def spelled(moment: datetime, t: str, digits: str, zone: tuple[str, int], newline: bool) -> str:
    """`moment` written with the offset `zone` ("Z", "z" or "+"/"-" with minutes)."""
    sign, minutes = zone
    local = moment + timedelta(minutes=minutes if sign == "+" else -minutes)
    text = f"{local.year:04d}-{local.month:02d}-{local.day:02d}{t}{local.hour:02d}:{local.minute:02d}"
    text += f":{local.second:02d}"
    if digits:
        text += "." + digits
    text += sign if sign in "Zz" else f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return text + ("\n" if newline else "")


def rfc3339_date_times() -> st.SearchStrategy[str]:
    """Date-times in every spelling the contract's check accepts: `T`/`t`, `Z`/`z`, offsets up to
    23:59 either way, 0 to 12 fractional digits, one trailing newline."""
    zones = st.one_of(
        st.tuples(st.sampled_from("Zz"), st.just(0)),
        st.tuples(st.sampled_from("+-"), st.integers(min_value=0, max_value=23 * 60 + 59)),
    )
    moments = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30))
    return st.builds(
        spelled,
        moments,
        st.sampled_from("Tt"),
        st.text("0123456789", max_size=12),
        zones,
        st.booleans(),
    )


def with_date_times(body: dict[str, Any], expires: str, reset_at: str | None) -> dict[str, Any]:
    """`body` with `expires_at` and (when it has usage limits) `usage_limits.next_usage_reset_at`."""
    body = {**body, "expires_at": expires}
    if isinstance(body.get("usage_limits"), dict) and reset_at is not None:
        body["usage_limits"] = {**body["usage_limits"], "next_usage_reset_at": reset_at}
    return body


def strict(data: bytes) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"a bare {token} in an answer")

    return json.loads(data, parse_constant=refuse)


def assert_every_read_answers(api: Api, slug: str, query: str = "") -> dict[str, Any]:
    """Retrieve and list (as a virtual key and as a provider) and the store page answer 200 with
    strict JSON; the key's retrieve answer."""
    for path in (f"/v1/virtual-keys/{slug}", f"/v1/providers/{slug}", "/v1/virtual-keys", "/v1/providers"):
        answer = api.call("GET", path + query)
        assert answer.status_code == 200, (path, answer.get_data()[:300])
        strict(answer.get_data())
    store = api.client.get("/__mock/store")
    assert store.status_code == 200, store.get_data()[:300]
    strict(store.get_data())
    return strict(api.call("GET", f"/v1/virtual-keys/{slug}{query}").get_data())


def assert_same_moment(answered: str, sent: str) -> None:
    assert PORTKEY_FORM.fullmatch(answered), answered
    assert date_times.parse(answered) == date_times.parse(sent).replace(  # type: ignore[union-attr]
        microsecond=date_times.parse(sent).microsecond // 1000 * 1000  # type: ignore[union-attr]
    )


@given(rfc3339_date_times())
def test_the_strategy_spells_only_what_the_contract_accepts(text):
    assert validate_rfc3339(text.upper())


def test_any_accepted_create_and_update_reads_back(api: Api):
    @given(
        strategies.create_bodies(),
        strategies.update_bodies(),
        rfc3339_date_times(),
        st.none() | rfc3339_date_times(),
    )
    def reads_back(create, update, expires, reset_at):
        reset(api.client.application)  # one key per example: lists stay short
        api.secret_reference()  # the one generated secret mappings name
        create = with_date_times(create, expires, reset_at)
        created = api.create(**create)
        assert created.status_code == 200, created.json
        slug = created.json["data"]["slug"]
        assert_same_moment(assert_every_read_answers(api, slug)["expires_at"], expires)

        update = {k: v for k, v in update.items() if k != "deploymentConfig"}
        update = with_date_times(update, expires, reset_at)
        updated = api.update(slug, **update)
        assert updated.status_code == 200, updated.json
        assert_same_moment(assert_every_read_answers(api, slug)["expires_at"], expires)

    reads_back()


def test_any_accepted_provider_reads_back(api: Api):
    integration = api.call(
        "POST",
        "/v1/integrations",
        json={"name": "values", "ai_provider_id": "openai", "key": "sk-0123456789"},
    ).json["slug"]
    granted = api.call(
        "PUT",
        f"/v1/integrations/{integration}/workspaces",
        json={"workspaces": [{"id": WORKSPACE, "enabled": True}], "create_default_provider": False},
    )
    assert granted.status_code == 200, granted.json

    def reset_keys() -> None:  # one provider per example: lists stay short, a drawn slug is free
        for item in api.call("GET", f"/v1/providers?workspace_id={WORKSPACE}").json["data"]:
            api.call("DELETE", f"/v1/providers/{item['slug']}?workspace_id={WORKSPACE}")

    @given(strategies.provider_bodies(), rfc3339_date_times(), st.none() | rfc3339_date_times())
    def reads_back(body, expires, reset_at):
        reset_keys()
        body = {**body, "integration_id": integration, "workspace_id": WORKSPACE}
        body = with_date_times(body, expires, reset_at)
        created = api.call("POST", "/v1/providers", json=body)
        assert created.status_code == 200, created.json
        query = f"?workspace_id={WORKSPACE}"
        retrieved = assert_every_read_answers(api, created.json["slug"], query)
        assert_same_moment(retrieved["expires_at"], expires)

    reads_back()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("2030-01-01T00:00:00z", "2030-01-01T00:00:00.000Z"),
        ("2030-01-01t00:00:00Z", "2030-01-01T00:00:00.000Z"),
        ("2030-01-01T05:30:00.123456789+05:30", "2030-01-01T00:00:00.123Z"),
        ("2029-12-31T23:00:00-01:00", "2030-01-01T00:00:00.000Z"),
        ("2030-01-01T00:00:00.5Z\n", "2030-01-01T00:00:00.500Z"),
        ("9999-12-31T23:59:59.999+00:00", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_a_date_time_is_kept_in_portkeys_form(api: Api, sent, kept):
    slug = api.create_slug(name="expiring", provider="openai", key="sk-0123456789", expires_at=sent)
    assert assert_every_read_answers(api, slug)["expires_at"] == kept


def test_a_date_time_past_year_9999_in_utc_is_refused_naming_the_field(api: Api):
    body = {"name": "late", "provider": "openai", "key": "sk-0123456789"}
    answer = api.create(**body, expires_at="9999-12-31T23:00:00-01:00")
    assert answer.status_code == 400
    assert answer.json["data"]["message"] == (
        "body.expires_at: is outside the years 0001 to 9999 once converted to UTC"
    )


def test_an_expired_key_in_another_spelling_is_expired(api: Api):
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dt%H:%M:%S+00:00")
    slug = api.create_slug(name="past", provider="openai", key="sk-0123456789", expires_at=past)
    assert assert_every_read_answers(api, slug)["status"] == "expired"


@pytest.fixture
def poked(request: pytest.FixtureRequest, store_kind: str) -> Iterator[tuple[Api, Store]]:
    """A mock and its records store, to spoil a record as another writer (or an old version) might."""
    config = store_config(request, store_kind)
    if store_kind == "redis":
        from mockserver.state.records.redis import RedisStore
        from mockserver.state.redis_keys import RedisNamespace, connect

        assert config.store_url is not None
        app = create_app(config)
        store: Store = RedisStore(RedisNamespace(connect(config.store_url), config.redis_prefix))
    else:
        store = MemoryStore()
        app = create_app(config, store=store)
    yield Api(app.test_client()), store
    reset(app)


def test_one_unreadable_record_is_left_out_of_lists_with_a_log_line(poked, caplog):
    """A record the lists cannot read: they and the store page leave it out and say so in the log;
    every other key is still listed."""
    api, store = poked
    good = api.create_slug(name="good", provider="openai", key="sk-0123456789")
    bad = api.create_slug(name="bad", provider="openai", key="sk-0123456789")
    [namespace] = store.namespaces()
    store.update(namespace, bad, {"expires_at": "not a date-time"})
    with caplog.at_level(logging.ERROR, logger="mockserver"):
        for path in ("/v1/virtual-keys", "/v1/providers"):
            listed = api.client.get(path, headers={"x-portkey-api-key": api.api_key})
            assert listed.status_code == 200, listed.get_data()[:300]
            assert [item["slug"] for item in listed.json["data"]] == [good]
        page = api.client.get("/__mock/store")
        assert page.status_code == 200, page.get_data()[:300]
        assert [key["slug"] for key in page.json["workspaces"][0]["virtual_keys"]] == [good]
    assert "cannot be read" in caplog.text and "not a date-time" not in caplog.text


# --- strict JSON ------------------------------------------------------------------------------------


def test_a_body_nests_at_most_64_levels():
    assert strict_json.loads("[" * 64 + "]" * 64) == functools.reduce(lambda inner, _: [inner], range(63), [])
    with pytest.raises(strict_json.TooDeep):
        strict_json.loads("[" * 65 + "]" * 65)
    with pytest.raises(strict_json.TooDeep):
        strict_json.loads('{"a": "[[[[", "b": ' + "[" * 65 + "]" * 65 + "}")


def test_the_journal_keeps_numbers_json_has_no_room_for_as_text(api: Api):
    raw = (
        b'{"name": "n", "provider": "openai", "key": "sk-secret-0123456789", "note": NaN,'
        b' "usage_limits": {"credit_limit": 1e400, "alert_threshold": -Infinity}}'
    )
    answer = api.call(
        "POST",
        "/v1/virtual-keys",
        data=raw,
        headers={"x-portkey-api-key": api.api_key, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json["data"]["message"].split("; ") == [
        "body.note: is NaN or Infinity, which is not JSON (RFC 8259)",
        "body.usage_limits.credit_limit: is a number too large to read",
        "body.usage_limits.alert_threshold: is NaN or Infinity, which is not JSON (RFC 8259)",
    ]
    page = api.client.get("/__mock/journal")
    [entry] = strict(page.get_data())["entries"]
    assert entry["body"] == {
        "name": "n",
        "provider": "openai",
        "key": "sk*****789",
        "note": "NaN",
        "usage_limits": {"credit_limit": "1e400", "alert_threshold": "-Infinity"},
    }


def test_a_value_holding_nan_or_infinity_is_written_as_a_string(api: Api):
    value = {"a": float("nan"), "b": [float("inf"), -float("inf")], "c": 1.5}
    assert jsontext.compact(value) == '{"a":"NaN","b":["Infinity","-Infinity"],"c":1.5}'
    assert jsontext.dumps(value, indent=1) == json.dumps(
        {"a": "NaN", "b": ["Infinity", "-Infinity"], "c": 1.5}, indent=1
    )
    with api.client.application.control.app_context():
        assert strict(flask.jsonify(value).get_data()) == {
            "a": "NaN",
            "b": ["Infinity", "-Infinity"],
            "c": 1.5,
        }
