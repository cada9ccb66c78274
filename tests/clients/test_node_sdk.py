"""Portkey's Node SDK (npm `portkey-ai`, pinned in tests/clients/node) driven against the mock for real."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop


def run_lifecycle(node_sdk: Path, base_url: str, api_key: str) -> dict:
    env = {**os.environ, "PORTKEY_BASE_URL": base_url, "PORTKEY_API_KEY": api_key}
    ran = subprocess.run(
        ["node", "lifecycle.js"], cwd=node_sdk, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, f"the Node SDK script failed:\n{ran.stdout}\n{ran.stderr}"
    return json.loads(ran.stdout)


def test_the_node_sdk_lifecycle_succeeds_and_keeps_to_the_contract(node_sdk, portkey_mock):
    seen = run_lifecycle(node_sdk, portkey_mock.base_url, portkey_mock.api_key)

    assert seen["listedTotal"] == 3 and seen["finalTotal"] == 0
    providers = {key["slug"]: key["provider"] for key in seen["retrieved"]}
    assert sorted(providers.values()) == ["azure-openai", "bedrock", "openai"]
    azure = next(key for key in seen["retrieved"] if key["provider"] == "azure-openai")
    assert azure["model_config"]["resourceName"] == "my-resource"  # stored under the contract's name
    assert seen["updatedDeployments"][0]["deploymentName"] == "gpt-4o-mini"

    portkey_mock.assert_all_requests_conform()
    portkey_mock.assert_no_unexpected_requests()
    for operation, times in [("createVirtualKey", 3), ("listVirtualKeys", 2), ("retrieveVirtualKey", 4)]:
        portkey_mock.verify(operation=operation, times=times, status=200)
    portkey_mock.verify(operation="updateVirtualKey", times=2, status=200)
    portkey_mock.verify(operation="deleteVirtualKey", times=3, status=200)


def test_the_node_sdks_snake_case_is_reported_as_a_warning_not_a_violation(node_sdk, portkey_mock):
    run_lifecycle(node_sdk, portkey_mock.base_url, portkey_mock.api_key)

    warned = {w["location"] for e in portkey_mock.journal for w in e["warnings"]}
    assert {
        "body.resource_name",
        "body.deployment_config",
        "body.aws_auth_type",
        "body.aws_role_arn",
        "body.aws_region",
    } <= warned
    assert all(e["valid"] for e in portkey_mock.journal)
    assert "sk-node-0000000000abcd" not in json.dumps(portkey_mock.journal)
