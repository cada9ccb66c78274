"""Shared fixtures: the contract, the app in-process, and a real mock server on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from contracts.conformance import ContractChecker, Exchange
from mockserver import Contract, MockServer, create_app
from mockserver.config import MockConfig

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

API_KEY = "pk-test-key"
CHECKER = ContractChecker(Contract.load())


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract.load()


@pytest.fixture(scope="session")
def checker() -> ContractChecker:
    return CHECKER


class Api:
    """The in-process app with the API key header filled in, for concise behaviour tests.

    Every answer is also judged against the contract: a test passes only if the mock kept to it.
    """

    def __init__(self, client: FlaskClient, api_key: str = API_KEY) -> None:
        self.client, self.api_key = client, api_key

    def as_key(self, api_key: str) -> Api:
        return Api(self.client, api_key)

    def _headers(self) -> dict[str, str]:
        return {"x-portkey-api-key": self.api_key}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", self._headers())
        response = self.client.open(path, method=method, **kwargs)
        url = urlsplit(path)
        exchange = Exchange(
            method,
            url.path,
            query=parse_qs(url.query),
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.get_data(),
        )
        violations = CHECKER.check_response(exchange)
        assert violations == [], f"the mock broke the contract: {exchange.describe()}: {violations}"
        return response

    def create(self, **body: Any) -> Any:
        return self.call("POST", "/v1/virtual-keys", json=body)

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


@pytest.fixture
def api() -> Api:
    return Api(create_app().test_client())


def make_api(**config: Any) -> Api:
    return Api(create_app(MockConfig(**config)).test_client())


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    server = MockServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture
def live(mock_server: MockServer) -> MockServer:
    """The session's real server, emptied for this test."""
    mock_server.app.extensions["mockserver"]["store"].clear()
    return mock_server
