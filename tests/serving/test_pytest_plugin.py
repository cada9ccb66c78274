"""The pytest plugin: `portkey_mock` and its assertions, whose failures explain themselves."""

from __future__ import annotations

import re

import httpx
import pytest
from portkey_ai import Portkey
from portkey_ai.api_resources.exceptions import BadRequestError, InternalServerError

from mockserver import MockServer, create_app

pytest_plugins = ["pytester"]

FAILED = AssertionError


def sdk(portkey_mock) -> Portkey:
    return Portkey(api_key=portkey_mock.api_key, base_url=portkey_mock.base_url)


def test_the_fixture_is_a_real_http_server_with_an_empty_journal(portkey_mock):
    assert portkey_mock.journal == []
    response = httpx.get(f"{portkey_mock.base_url}/virtual-keys", headers={"x-portkey-api-key": "pk-a"})
    assert response.status_code == 200 and response.json()["total"] == 0
    assert [e["operation"] for e in portkey_mock.journal] == ["listVirtualKeys"]


def test_a_wrong_client_request_fails_the_conformance_assertion_naming_request_field_and_rule(portkey_mock):
    with pytest.raises(BadRequestError):
        sdk(portkey_mock).virtual_keys.create(
            name="limited",
            provider="openai",
            key="sk-live-0000000000abcd",
            rate_limits="60 a minute",
        )
    with pytest.raises(FAILED) as failure:
        portkey_mock.assert_all_requests_conform()
    message = str(failure.value)
    assert "1 of 1 requests to the Portkey mock break the contract" in message
    assert "request #1 POST /v1/virtual-keys (createVirtualKey) -> 400" in message
    assert "body.rate_limits: must be of type array or object" in message
    assert "sk-live-0000000000abcd" not in message


def test_a_deployment_without_api_version_fails_the_assertion_naming_the_nested_field(portkey_mock):
    with pytest.raises(BadRequestError):
        sdk(portkey_mock).virtual_keys.create(
            name="azure",
            provider="azure-openai",
            key="azure-secret-0000wxyz",
            resourceName="my-resource",
            deploymentConfig=[{"deploymentName": "gpt-4o"}],
        )
    with pytest.raises(FAILED, match=re.escape("body.deploymentConfig[0].apiVersion: is required")):
        portkey_mock.assert_all_requests_conform()


def test_conforming_traffic_passes_every_assertion(portkey_mock):
    client = sdk(portkey_mock)
    slug = client.virtual_keys.create(name="openai", provider="openai", key="sk-live-0000000000abcd").data[
        "slug"
    ]
    client.virtual_keys.retrieve(slug=slug)
    portkey_mock.assert_all_requests_conform()
    portkey_mock.assert_no_unexpected_requests()
    [created] = portkey_mock.verify(operation="createVirtualKey", times=1, status=200)
    assert created["body"]["name"] == "openai"
    portkey_mock.verify(operation="deleteVirtualKey", times=0)


def test_verify_lists_what_the_mock_received_when_the_count_is_wrong(portkey_mock):
    sdk(portkey_mock).virtual_keys.list()
    with pytest.raises(FAILED) as failure:
        portkey_mock.verify(operation="createVirtualKey", times=1)
    message = str(failure.value)
    assert "expected createVirtualKey once, got 0 times" in message
    assert "request #1 GET /v1/virtual-keys? (listVirtualKeys) -> 200" in message


def test_a_request_matching_no_operation_is_unexpected_and_names_the_nearest(portkey_mock):
    httpx.post(f"{portkey_mock.base_url}/virtual-key", json={}, headers={"x-portkey-api-key": "pk-a"})
    with pytest.raises(FAILED) as failure:
        portkey_mock.assert_no_unexpected_requests()
    message = str(failure.value)
    assert "1 requests matched no operation of the contract" in message
    assert "POST /v1/virtual-key (no operation; nearest: createVirtualKey) -> 404" in message


def test_faults_set_through_the_fixture_drive_the_sdks_retry_and_reset_clears_them(portkey_mock):
    portkey_mock.set_faults({"operation": "listVirtualKeys", "status": 500}, seed=7)
    with pytest.raises(InternalServerError):
        sdk(portkey_mock).virtual_keys.list()
    assert [e["status"] for e in portkey_mock.requests("listVirtualKeys")] == [500, 500]  # SDK retried once
    portkey_mock.set_faults({"operation": "listVirtualKeys", "status": 500, "request_id": True})
    portkey_mock.clear_journal()
    with pytest.raises(InternalServerError):
        sdk(portkey_mock).virtual_keys.list()
    assert len(portkey_mock.requests("listVirtualKeys")) == 1  # x-portkey-request-id: no retry
    portkey_mock.reset()
    assert sdk(portkey_mock).virtual_keys.list().total == 0


def test_seeded_keys_are_visible_to_the_client(portkey_mock):
    [slug] = portkey_mock.seed({"name": "seeded", "provider": "openai", "key": "sk-seed-00000000abcd"})
    assert sdk(portkey_mock).virtual_keys.retrieve(slug=slug).name == "seeded"
    assert portkey_mock.verify("retrieveVirtualKey")[0]["status"] == 200


def test_each_test_starts_from_an_empty_mock_and_the_session_variant_keeps_state(pytester):
    pytester.makepyfile(
        """
        import httpx

        def create(mock):
            body = {"name": "n", "provider": "openai", "key": "sk-0000000000abcd"}
            headers = {"x-portkey-api-key": mock.api_key}
            assert httpx.post(mock.base_url + "/virtual-keys", json=body, headers=headers).status_code == 200

        def count(mock):
            headers = {"x-portkey-api-key": mock.api_key}
            return httpx.get(mock.base_url + "/virtual-keys", headers=headers).json()["total"]

        def test_first(portkey_mock):
            create(portkey_mock)
            assert count(portkey_mock) == 1

        def test_second_sees_a_fresh_mock(portkey_mock):
            assert count(portkey_mock) == 0 and portkey_mock.journal[0]["operation"] == "listVirtualKeys"
            create(portkey_mock)

        def test_third_shares_the_session_state(portkey_mock_session):
            assert count(portkey_mock_session) == 1
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_fixture_can_use_an_external_mock(pytester):
    external = MockServer(create_app()).start()
    try:
        pytester.makepyfile(
            f"""
            def test_external(portkey_mock):
                assert portkey_mock.server is None
                assert portkey_mock.base_url == "{external.base_url}"
            """
        )
        result = pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", f"--portkey-mock-url={external.base_url}"
        )
        result.assert_outcomes(passed=1)
    finally:
        external.stop()
