"""The mock in process, no server: an app per test with the API key filled in, and its helpers.

Every answer `Api` gets is also judged against the contract, so a behaviour test passes only if the
mock kept to it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from contracts.strategies import SECRET_REFERENCE, secret_reference_body
from mockserver import Contract, create_app
from mockserver.config import MockConfig
from mockserver.contract.exchange import Exchange, ExchangeJudge

API_KEY = "pk-test-key"
JUDGE = ExchangeJudge(Contract.load())


OPENAI = {"name": "OPENAI_API_KEY", "provider": "openai", "key": "sk-test-0123456789abcdefXYZ"}


class Api:
    """The in-process app with the API key header filled in, for concise behaviour tests.

    Every answer is also judged against the contract: a test passes only if the mock kept to it.
    """

    def __init__(self, client: Client, api_key: str = API_KEY) -> None:
        self.client, self.api_key = client, api_key

    def as_key(self, api_key: str) -> Api:
        return Api(self.client, api_key)

    def _headers(self) -> dict[str, str]:
        return {"x-portkey-api-key": self.api_key}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", self._headers())
        response = self.client.open(path, method=method, **kwargs)
        exchange = Exchange.from_url(
            method,
            path,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.get_data(),
        )
        violations = JUDGE.judge(exchange).response_violations
        assert violations == (), f"the mock broke the contract: {exchange.describe()}: {violations}"
        return response

    def create(self, **body: Any) -> Any:
        return self.call("POST", "/v1/virtual-keys", json=body)

    def workspace(self, name: str = "Elsewhere") -> str:
        """A new workspace of the caller's organisation; its id."""
        made = self.call("POST", "/v1/admin/workspaces", json={"name": name})
        assert made.status_code == 200, made.json
        return str(made.json["id"])

    def secret_reference(self, slug: str = SECRET_REFERENCE, **body: Any) -> str:
        """Create a secret reference (the one generated secret mappings name, by default); its id."""
        sent = {**secret_reference_body(), "slug": slug, **body}
        answer = self.call("POST", "/v1/secret-references", json=sent)
        assert answer.status_code == 200, answer.json
        return str(answer.json["id"])

    def create_slug(self, **body: Any) -> str:
        response = self.create(**body)
        assert response.status_code == 200, response.json
        return response.json["data"]["slug"]

    def list(self, query: str = "") -> Any:
        return self.call("GET", f"/v1/virtual-keys{query}")

    def retrieve(self, slug: str) -> Any:
        return self.call("GET", f"/v1/virtual-keys/{slug}")

    def update(self, slug: str, **body: Any) -> Any:
        return self.call("PUT", f"/v1/virtual-keys/{slug}", json=body)

    def delete(self, slug: str) -> Any:
        return self.call("DELETE", f"/v1/virtual-keys/{slug}")


def unique_prefix() -> str:
    """A Redis key prefix no other test (nor another run on the same Redis) uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


def store_config(request: pytest.FixtureRequest, kind: str, **config: Any) -> MockConfig:
    """A config for the in-memory store, or for Redis under a prefix of the test's own."""
    if kind == "redis":
        config |= {"store_url": request.getfixturevalue("redis_url"), "redis_prefix": unique_prefix()}
    return MockConfig(**config)


def reset(app: Any) -> None:
    """Clear everything the mock holds (its Redis prefix only, with Redis), as a client would."""
    assert app.test_client().post("/__mock/reset").status_code == 200


def make_api(**config: Any) -> Api:
    return Api(create_app(MockConfig(**config)).test_client())


def error_of(response, status: int, code: str | None) -> str:
    """The envelope's message, after checking status, code and shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    body = response.json
    assert body["success"] is False
    assert body["data"].get("errorCode") == code
    return body["data"]["message"]


START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
"""When a test's `Clock` starts: records made in a test are stamped from here on."""


class Clock:
    """A clock a test moves by hand, given to `create_app(clock=...)`: what the mock stamps records
    with and computes states from (a logs export's progress, the audit log's and analytics' windows)."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        return self.now

    def tick(self, by: timedelta | None = None) -> None:
        self.now += self.step if by is None else by
