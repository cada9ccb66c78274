"""Fixtures of the mock's tests that run on a clock of their own (logs exports, analytics, audit logs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.app import create_app
from tests.support.inprocess import Api, Clock, reset, store_config


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked_api(request: pytest.FixtureRequest, store_kind: str, clock: Clock) -> Iterator[Api]:
    """A mock on `clock` and on each store (`store_kind`), forgotten after the test."""
    app = create_app(store_config(request, store_kind), clock=clock)
    yield Api(app.test_client())
    reset(app)
