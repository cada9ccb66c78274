"""The contract itself: valid OpenAPI, complete, and accepting what the real service sends."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from mockserver.app import create_app
from mockserver.contract.document import default_contract_path
from mockserver.contract.exchange import Exchange, ExchangeJudge
from mockserver.contract.validation import IncomingRequest
from mockserver.violations import Violation
from tests.support.paths import DATA

EXPECTED_OPERATIONS = {
    ("get", "/v1/integrations/{slug}/models"): "listIntegrationModels",
    ("put", "/v1/integrations/{slug}/models"): "updateIntegrationModels",
    ("delete", "/v1/integrations/{slug}/models"): "deleteIntegrationModels",
    ("get", "/v1/integrations/{slug}/workspaces"): "listIntegrationWorkspaces",
    ("put", "/v1/integrations/{slug}/workspaces"): "updateIntegrationWorkspaces",
    ("get", "/v1/mcp-integrations/{mcpIntegrationId}/workspaces"): "listMcpIntegrationWorkspaces",
    ("put", "/v1/mcp-integrations/{mcpIntegrationId}/workspaces"): "updateMcpIntegrationWorkspaces",
    ("get", "/v1/mcp-integrations/{mcpIntegrationId}/capabilities"): "listMcpIntegrationCapabilities",
    ("put", "/v1/mcp-integrations/{mcpIntegrationId}/capabilities"): "updateMcpIntegrationCapabilities",
    ("get", "/v1/mcp-integrations/{mcpIntegrationId}/metadata"): "getMcpIntegrationMetadata",
    ("post", "/v1/mcp-servers/{mcpServerId}/test"): "testMcpServer",
    ("get", "/v1/mcp-servers/{mcpServerId}/capabilities"): "listMcpServerCapabilities",
    ("put", "/v1/mcp-servers/{mcpServerId}/capabilities"): "updateMcpServerCapabilities",
    ("get", "/v1/mcp-servers/{mcpServerId}/user-access"): "listMcpServerUserAccess",
    ("put", "/v1/mcp-servers/{mcpServerId}/user-access"): "updateMcpServerUserAccess",
    ("get", "/v1/mcp-servers/{mcpServerId}/connections"): "listMcpServerConnections",
    ("delete", "/v1/mcp-servers/{mcpServerId}/connections"): "deleteMcpServerConnection",
    ("post", "/v1/api-keys/{id}/rotate"): "rotateApiKey",
    ("post", "/v1/admin/workspaces/{workspaceId}/users"): "addWorkspaceMembers",
    ("post", "/v1/admin/users/invites/{inviteId}/resend"): "resendInvite",
    ("get", "/v1/policies/usage-limits/{policyUsageLimitsId}/entities"): "listUsageLimitsPolicyEntities",
    (
        "put",
        "/v1/policies/usage-limits/{policyUsageLimitsId}/entities/{entityId}/reset",
    ): "resetUsageLimitsPolicyEntity",
    ("get", "/v1/prompts/{promptId}"): "getPrompt",
    ("put", "/v1/prompts/{promptId}"): "updatePrompt",
    ("get", "/v1/prompts/{promptId}/versions"): "getPromptVersions",
    ("get", "/v1/prompts/{promptId}/versions/{versionId}"): "getPromptByVersion",
    ("put", "/v1/prompts/{promptId}/versions/{versionId}"): "updatePromptVersion",
    ("put", "/v1/prompts/{promptId}/makeDefault"): "updatePromptDefault",
    ("post", "/v1/prompts/{promptId}/render"): "createPromptRender",
    ("post", "/v1/prompts/{promptId}/completions"): "createPromptCompletion",
    ("get", "/v1/prompts/partials/{promptPartialId}"): "getPromptPartial",
    ("put", "/v1/prompts/partials/{promptPartialId}"): "updatePromptPartial",
    ("get", "/v1/prompts/partials/{promptPartialId}/versions"): "getPromptPartialVersions",
    ("put", "/v1/prompts/partials/{promptPartialId}/makeDefault"): "updatePromptPartialDefault",
    ("post", "/v1/logs"): "insertLogs",
    ("get", "/model-configs/pricing/{provider}/{model}"): "getModelPricing",
    ("get", "/v1/logs/{logId}"): "getLog",
    ("post", "/v1/feedback"): "createFeedback",
    ("put", "/v1/feedback/{id}"): "updateFeedback",
    ("post", "/v1/logs/exports/{exportId}/start"): "startLogExport",
    ("post", "/v1/logs/exports/{exportId}/cancel"): "cancelLogExport",
    ("get", "/v1/logs/exports/{exportId}/download"): "downloadLogExport",
    ("get", "/v1/audit-logs"): "listAuditLogs",
    ("get", "/v1/analytics/graphs/requests"): "getRequestsGraph",
    ("get", "/v1/analytics/graphs/cost"): "getCostGraph",
    ("get", "/v1/analytics/graphs/latency"): "getLatencyGraph",
    ("get", "/v1/analytics/graphs/tokens"): "getTokensGraph",
    ("get", "/v1/analytics/graphs/users"): "getUsersGraph",
    ("get", "/v1/analytics/graphs/users/requests"): "getUserRequestsGraph",
    ("get", "/v1/analytics/graphs/errors"): "getErrorsGraph",
    ("get", "/v1/analytics/graphs/errors/rate"): "getErrorRateGraph",
    ("get", "/v1/analytics/graphs/errors/stacks"): "getErrorStacksGraph",
    ("get", "/v1/analytics/graphs/errors/status-codes"): "getErrorStatusCodesGraph",
    ("get", "/v1/analytics/graphs/requests/rescued"): "getRescuedRequestsGraph",
    ("get", "/v1/analytics/graphs/cache/hit-rate"): "getCacheHitRateGraph",
    ("get", "/v1/analytics/graphs/cache/latency"): "getCacheLatencyGraph",
    ("get", "/v1/analytics/graphs/feedbacks"): "getFeedbacksGraph",
    ("get", "/v1/analytics/graphs/feedbacks/scores"): "getFeedbackScoresGraph",
    ("get", "/v1/analytics/graphs/feedbacks/weighted"): "getWeightedFeedbacksGraph",
    ("get", "/v1/analytics/graphs/feedbacks/ai-models"): "getFeedbackAiModelsGraph",
    ("get", "/v1/analytics/summary/cache"): "getCacheSummary",
    ("get", "/v1/analytics/groups/users"): "getUsersGroup",
    ("get", "/v1/analytics/groups/ai-models"): "getAiModelsGroup",
    ("get", "/v1/analytics/groups/metadata/{metadataKey}"): "getMetadataGroup",
}
ERROR_STATUSES = {"400", "401", "403", "429", "500"}
PUBLIC_OPERATIONS = {"getModelPricing": "ModelPricingNotFound"}
"""Operations asked for with no API key (`security: []`), each with the body of its own 404: Portkey's
price list answers `{"error": ...}`, not the admin API's envelope."""

# Field sets of recorded live responses (PORTKEY-API.md), with values of our own.
LIVE_RETRIEVE = {
    "id": "2b1f7c0e-8d7a-4c55-9d3e-4f1a2b3c4d5e",
    "ai_provider_name": "google",
    "model_config": {},
    "key": "",
    "masked_api_key": "AI*****0Pw",
    "slug": "google-api-key-1a2b3c",
    "name": "GOOGLE_API_KEY",
    "usage_limits": None,
    "status": "active",
    "note": None,
    "created_at": "2026-05-02T12:31:48.000Z",
    "expires_at": None,
    "last_reset_at": None,
    "rate_limits": [],
    "integration_id": None,
    "tags": None,
    "object": "virtual-key",
}
LIVE_LIST_ITEM = {
    "id": "2b1f7c0e-8d7a-4c55-9d3e-4f1a2b3c4d5e",
    "organisation_id": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "workspace_id": "ws-default-1a2b",
    "workspace_name": "Shared Team Workspace",
    "name": "GOOGLE_API_KEY",
    "note": None,
    "status": "active",
    "usage_limits": None,
    "reset_usage": None,
    "created_at": "2026-05-02T12:31:48.000Z",
    "slug": "google-api-key-1a2b3c",
    "model_config": None,
    "rate_limits": None,
    "expires_at": None,
    "last_reset_at": None,
    "integration_id": None,
    "tags": None,
    "provider": "google",
    "object": "virtual-key",
}


def _response_violations(
    judge: ExchangeJudge, method: str, path: str, status: int, body: bytes
) -> tuple[Violation, ...] | None:
    exchange = Exchange(
        IncomingRequest(method, path),
        status=status,
        response_headers={"Content-Type": "application/json"},
        response_body=body,
    )
    return judge.judge(exchange).response_violations


def test_contract_is_valid_openapi():
    document, _ = read_from_filename(str(default_contract_path()))
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_operation_is_declared_with_its_operation_id(contract):
    """The hand-served operations exactly; a declared resource's are checked against its marker
    (tests/mock/test_declared_resources.py)."""
    declared = {op for resource in contract.resources for op in resource.operations.values()}
    found = {
        (op.method, op.path): op.operation_id
        for op in contract.operations.values()
        if op.operation_id not in declared
    }
    assert found == EXPECTED_OPERATIONS


def test_api_key_header_secures_every_operation(contract):
    scheme = contract.document["components"]["securitySchemes"]["PortkeyApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "x-portkey-api-key")
    assert contract.document["security"] == [{"PortkeyApiKey": []}]
    for item in contract.document["paths"].values():
        for method, operation in item.items():
            if method in ("parameters", "servers") or method.startswith("x-"):
                continue
            wanted = [] if operation["operationId"] in PUBLIC_OPERATIONS else [{"PortkeyApiKey": []}]
            assert operation.get("security", contract.document["security"]) == wanted


def test_every_operation_declares_the_error_envelope(contract):
    for template, item in contract.document["paths"].items():
        for method, operation in item.items():
            if method in ("parameters", "servers") or method.startswith("x-"):
                continue
            statuses = set(operation["responses"])
            own_404 = PUBLIC_OPERATIONS.get(operation["operationId"])
            if own_404 is not None:  # nothing asked for to refuse: no key, scope nor body
                assert statuses == {"200", "404", "500", "503"}
                schema = contract.resolve(operation["responses"]["404"])["content"]["application/json"]
                assert schema["schema"] == {"$ref": f"#/components/schemas/{own_404}"}
                continue
            assert statuses >= ERROR_STATUSES, (method, template)
            if "{slug}" in template:
                assert "404" in statuses
            if "requestBody" in operation:
                assert {"413", "415"} <= statuses
            for status in statuses - {"200"}:
                response = contract.resolve(operation["responses"][status])
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}


def test_create_links_to_retrieve_update_and_delete(contract):
    create = contract.document["paths"]["/virtual-keys"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in create.values()} == {
        "retrieveVirtualKey",
        "updateVirtualKey",
        "deleteVirtualKey",
    }
    assert all(link["parameters"] == {"slug": "$response.body#/data/slug"} for link in create.values())
    update = contract.document["paths"]["/virtual-keys/{slug}"]["put"]["responses"]["200"]["links"]
    assert [link["operationId"] for link in update.values()] == ["retrieveVirtualKey"]


def test_every_create_example_is_a_valid_request(contract, exchange_judge):
    examples = contract.document["paths"]["/virtual-keys"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    assert {
        "openai",
        "azureDefault",
        "azureEntra",
        "azureManaged",
        "bedrockAssumedRole",
        "vertexServiceAccount",
    } <= set(examples)
    for name, ref in examples.items():
        body = contract.resolve(ref)["value"]
        sent = IncomingRequest(
            "POST",
            "/v1/virtual-keys",
            headers={"content-type": "application/json", "x-portkey-api-key": "pk-example"},
            body=json.dumps(body).encode(),
            content_type="application/json",
        )
        assert exchange_judge.judge(Exchange(sent)).request_verdict.violations == (), name


def test_a_live_retrieve_body_validates(exchange_judge):
    body = json.dumps(LIVE_RETRIEVE).encode()
    assert (
        _response_violations(exchange_judge, "GET", "/v1/virtual-keys/google-api-key-1a2b3c", 200, body) == ()
    )


def test_a_live_list_page_validates(exchange_judge):
    page = {"object": "list", "total": 1, "data": [LIVE_LIST_ITEM]}
    body = json.dumps(page).encode()
    assert _response_violations(exchange_judge, "GET", "/v1/virtual-keys", 200, body) == ()


def test_create_answer_with_sdk_model_fields_still_validates(exchange_judge):
    answer = {"success": True, "data": {"slug": "a-1"}, "id": "x", "slug": "a-1", "object": "virtual-key"}
    body = json.dumps(answer).encode()
    assert _response_violations(exchange_judge, "POST", "/v1/virtual-keys", 200, body) == ()


def test_portkeys_own_401_example_without_error_code_validates(exchange_judge):
    body = b'{"success": false, "data": {"message": "Unauthorised Request"}}'
    assert _response_violations(exchange_judge, "GET", "/v1/virtual-keys", 401, body) == ()


@pytest.mark.parametrize("missing", ["masked_api_key", "ai_provider_name", "object", "key"])
def test_a_retrieve_body_missing_a_live_field_is_rejected(exchange_judge, missing):
    body = copy.deepcopy(LIVE_RETRIEVE)
    del body[missing]
    violations = _response_violations(
        exchange_judge, "GET", "/v1/virtual-keys/x", 200, json.dumps(body).encode()
    )
    assert [str(v) for v in violations] == [f"response.body.{missing}: is required"]


def test_a_list_item_carrying_a_key_is_rejected(exchange_judge):
    page = {"object": "list", "total": 1, "data": [{**LIVE_LIST_ITEM, "key": "sk-leaked"}]}
    violations = _response_violations(
        exchange_judge, "GET", "/v1/virtual-keys", 200, json.dumps(page).encode()
    )
    assert [v.location for v in violations] == ["response.body.data[0]"]


# -- the whole admin surface of Portkey's published spec ----------------------------------------------

ADMIN_TAGS = {
    *("Collections", "Labels", "Prompts", "PromptPartials", "Guardrails", "Configs", "Feedback"),
    *("Integrations", "Integrations > Models", "Integrations > Workspaces", "Providers", "Virtual-keys"),
    *("User-invites", "Users", "Workspaces > Members", "Workspaces", "Api-Keys", "Secret-References"),
    *("MCP Integrations", "MCP Integrations > Workspaces", "MCP Integrations > Capabilities"),
    *("MCP Integrations > Metadata", "MCP Servers", "MCP Servers > Capabilities"),
    *("MCP Servers > User Access", "MCP Servers > Connections", "Logs", "Logs Export", "Audit Logs"),
    *("Usage Limits Policies", "Rate Limits Policies", "Model Pricing"),
    *("Analytics > Graphs", "Analytics > Summary", "Analytics > Groups"),
}
"""The tags of the published spec's admin families (../shared/PORTKEY-ADMIN-SURFACE.md): 160 operations."""
PUBLISHED_ADMIN = DATA / "published_admin_operations.txt"


def _shape(method: str, template: str) -> tuple[str, str]:
    """An operation as method and path, its parameters unnamed (`{slug}` and `{id}` alike)."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", template)


def _published_admin() -> set[tuple[str, str]]:
    lines = PUBLISHED_ADMIN.read_text(encoding="utf-8").splitlines()
    return {_shape(*line.split(" ", 1)) for line in lines if line and not line.startswith("#")}


def test_every_admin_operation_of_the_published_spec_is_served(contract):
    served = {_shape(op.method, op.template) for op in contract.operations.values()}
    published = _published_admin()
    assert len(published) == 160
    assert sorted(published - served) == []  # each one not served, by method and path
    app = create_app()  # and the mock starts with every operation it declares served
    assert set(app.contract.operations) == set(contract.operations)


@pytest.mark.skipif(
    not os.environ.get("PORTKEY_PUBLISHED_SPEC"),
    reason="PORTKEY_PUBLISHED_SPEC does not name a downloaded copy of Portkey's openapi.yaml",
)
def test_the_admin_operation_list_is_the_published_specs():
    spec = yaml.safe_load(Path(os.environ["PORTKEY_PUBLISHED_SPEC"]).read_text(encoding="utf-8"))
    tagged = {
        _shape(method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and set(operation.get("tags") or ()) & ADMIN_TAGS
    }
    assert tagged == _published_admin()
