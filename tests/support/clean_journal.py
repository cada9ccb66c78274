"""What a client lifecycle test asserts of the mock's journal once the client is done."""

from __future__ import annotations

from typing import Any


def assert_clean(portkey_mock: Any, *operations: str) -> None:
    """Every request and answer kept to the contract, and each of `operations` was called."""
    portkey_mock.assert_all_requests_conform()
    portkey_mock.assert_all_responses_conform()
    seen = {entry["operation"] for entry in portkey_mock.journal}
    assert set(operations) <= seen, sorted(set(operations) - seen)
