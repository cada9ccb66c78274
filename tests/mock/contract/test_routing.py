"""One route matcher (`mockserver/contract/routing.py`): a fixed segment before a parameter, segment
by segment, then the document's order; and the mock, the proxy, `check-traffic` and `verify` agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from contracts.cli import main as contracts_main
from contracts.verify.run import Budget, VerifyRun
from mockserver import MockConfig, MockServer, create_app
from mockserver.contract.document import Contract
from mockserver.contract.routing import RouteTable, path_params
from mockserver.serving.proxy import create_proxy_app
from tests.support.paths import ROOT

API_KEY = "pk-routing"
OVERLAPPING = "/v1/virtual-keys/providers"
"""Fits the static template `/virtual-keys/providers` and the parameter one `/virtual-keys/{slug}`."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str


def test_a_fixed_segment_wins_over_a_parameter_whatever_the_document_order():
    by_slug, partials = Route("get", "/prompts/{promptId}"), Route("get", "/prompts/partials")
    routes = RouteTable([by_slug, partials])

    assert routes.match("GET", "/prompts/partials") == (partials, {})
    assert routes.match("GET", "/prompts/p-1") == (by_slug, {"promptId": "p-1"})
    assert routes.at("/prompts/partials") == [partials, by_slug]


def test_precedence_is_decided_segment_by_segment_from_the_left():
    late_fixed = Route("get", "/a/{x}/c")
    early_fixed = Route("get", "/a/b/{y}")  # fixed one segment earlier: it wins for /a/b/c
    routes = RouteTable([late_fixed, early_fixed])

    assert routes.match("get", "/a/b/c") == (early_fixed, {"y": "c"})
    assert routes.match("get", "/a/z/c") == (late_fixed, {"x": "z"})


def test_templates_that_tie_keep_the_document_order():
    first, second = Route("get", "/items/{id}"), Route("get", "/items/{name}")
    assert RouteTable([first, second]).match("GET", "/items/x") == (first, {"id": "x"})
    assert RouteTable([second, first]).match("GET", "/items/x") == (second, {"name": "x"})


def test_a_parameter_name_need_not_be_a_python_identifier():
    """Portkey creates API keys at `/api-keys/{type}/{sub-type}`: a hyphen, a dot, a leading digit."""
    create = Route("post", "/api-keys/{type}/{sub-type}")
    odd = Route("get", "/things/{thing.id}/{2nd}")
    routes = RouteTable([create, odd])

    assert routes.match("POST", "/api-keys/workspace/user") == (
        create,
        {"type": "workspace", "sub-type": "user"},
    )
    assert routes.match("GET", "/things/t-1/b") == (odd, {"thing.id": "t-1", "2nd": "b"})
    assert path_params("/api-keys/{type}/{sub-type}", "/api-keys/organisation/service") == {
        "type": "organisation",
        "sub-type": "service",
    }
    assert path_params("/api-keys/{type}/{sub-type}", "/api-keys/organisation") is None


def test_allowed_methods_are_those_of_every_template_fitting_the_path():
    routes = RouteTable(
        [Route("get", "/things/{id}"), Route("delete", "/things/{id}"), Route("post", "/things")]
    )
    assert routes.allowed("/things/t-1") == ["DELETE", "GET", "HEAD"]
    assert routes.allowed("/things") == ["POST"]
    assert routes.allowed("/nothing") == []


def test_a_path_a_fixed_template_fits_is_that_templates_for_every_method():
    """`PUT /admin/users/invites` does not update a user named `invites`: the invites collection
    takes the path, serves no PUT, and its `Allow` names only what it serves (schemathesis ST205)."""
    user = [Route(m, "/admin/users/{userId}") for m in ("get", "put", "delete")]
    invites = [Route(m, "/admin/users/invites") for m in ("get", "post")]
    routes = RouteTable([*user, *invites])

    assert routes.match("PUT", "/admin/users/invites") is None
    assert routes.match("GET", "/admin/users/invites") == (invites[0], {})
    assert routes.match("PUT", "/admin/users/u-1") == (user[1], {"userId": "u-1"})
    assert routes.allowed("/admin/users/invites") == ["GET", "POST", "HEAD"]
    assert routes.allowed("/admin/users/u-1") == ["DELETE", "GET", "PUT", "HEAD"]


# -- the four readers of traffic agree -----------------------------------------------------------


@pytest.fixture(scope="module")
def overlapping_contract(tmp_path_factory) -> Path:
    """The project's contract with `listProviders` served at `/virtual-keys/providers`, written after
    `/virtual-keys/{slug}`: the mock has a handler for each operation, and document order alone
    would send `GET /v1/virtual-keys/providers` to retrieveVirtualKey."""
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    providers = document["paths"]["/providers"]
    marker = {**providers.pop("x-portkey-resource"), "create-at": "/providers"}  # its list moves
    document["paths"]["/virtual-keys/providers"] = {"x-portkey-resource": marker, "get": providers.pop("get")}
    path = tmp_path_factory.mktemp("routing") / "overlapping.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_the_contract_routes_a_fixed_segment_first(overlapping_contract):
    assert Contract(overlapping_contract).operation_for("GET", OVERLAPPING).operation_id == "listProviders"


def test_the_mock_the_proxy_check_traffic_and_verify_route_one_path_alike(
    overlapping_contract, tmp_path, capsys
):
    config = MockConfig(contract_path=overlapping_contract)
    headers = {"x-portkey-api-key": API_KEY}

    mock = create_app(config).test_client()
    answer = mock.get(OVERLAPPING, headers=headers)
    assert answer.status_code == 200 and answer.json["object"] == "list"  # not a 404 for slug "providers"
    journal = mock.get("/__mock/journal").json
    assert [entry["operation"] for entry in journal["entries"]] == ["listProviders"]

    upstream = MockServer(create_app(config)).start()
    try:
        proxy = create_proxy_app(upstream.base_url, contract_path=overlapping_contract).test_client()
        assert proxy.get(OVERLAPPING, headers=headers).status_code == 200
        proxied = proxy.get("/__mock/journal").json["entries"]
    finally:
        upstream.stop()
    assert [entry["operation"] for entry in proxied] == ["listProviders"]

    saved = tmp_path / "journal.json"
    saved.write_text(json.dumps(journal), encoding="utf-8")
    capsys.readouterr()
    assert contracts_main(["check-traffic", str(saved), "--contract", str(overlapping_contract)]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[3:4]]
    assert rows == ["listProviders"]

    run = VerifyRun("http://127.0.0.1:1/v1", Contract(overlapping_contract), Budget(None), seed=0)
    assert run.label("GET", OVERLAPPING) == "GET /virtual-keys/providers"
