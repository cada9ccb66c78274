"""Model pricing: `GET /model-configs/pricing/{provider}/{model}` at the host's root, with no API key,
a model's prices laid over its provider's defaults, the service's own 404 body, and a folder of price
files in the layout of Portkey's open price list (docs/admin-model-pricing.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.resources.model_pricing import BUILT_IN, ModelPricing
from tests.support.inprocess import Api, error_of

PRICING = "/model-configs/pricing"


def anonymous(**config: Any) -> Api:
    """The mock as a client of the public price list sees it: no API key header at all."""
    api = Api(create_app(MockConfig(**config)).test_client())
    api._headers = lambda: {}  # type: ignore[method-assign]
    return api


def cost(formula: dict[str, Any], counts: dict[str, float], rates: dict[str, Any]) -> float:
    """What a formula of the price list computes, read as a client would."""
    if "value" in formula:
        name = formula["value"]
        if name.startswith("rates."):
            return float(rates[name.removeprefix("rates.")]["price"])
        return counts.get(name, 0)
    values = [cost(operand, counts, rates) for operand in formula["operands"]]
    if formula["operation"] == "sum":
        return sum(values)
    product = 1.0
    for value in values:
        product *= value
    return product


def test_a_model_answers_its_prices_over_its_providers_defaults_with_no_api_key():
    answer = anonymous().call("GET", f"{PRICING}/openai/gpt-4o")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    pricing = answer.json
    pay = pricing["pay_as_you_go"]
    # gpt-4o's own prices, in cents per token, as Portkey publishes them
    assert pay["request_token"] == {"price": 0.00025} and pay["response_token"] == {"price": 0.001}
    assert pay["cache_read_input_token"] == {"price": 0.000125}
    assert pay["additional_units"] == {"web_search": {"price": 1}, "file_search": {"price": 0.25}}
    # what it leaves out is its provider's: audio tokens at 0, the formulas, the currency
    assert pay["request_audio_token"] == {"price": 0} and pay["response_audio_token"] == {"price": 0}
    assert pricing["currency"] == "USD"
    assert pricing["calculate"]["request"]["operation"] == "sum"
    assert pricing["batch_config"]["request_token"] == {"price": 0.000125}


def test_the_formulas_compute_a_requests_cost_from_the_rates_they_answer():
    pricing = anonymous().call("GET", f"{PRICING}/anthropic/claude-3-5-sonnet-20241022").json
    counts = {"input_tokens": 1000, "cache_read_tokens": 200, "cache_write_tokens": 100, "output_tokens": 500}
    rates = pricing["pay_as_you_go"]
    request = cost(pricing["calculate"]["request"], counts, rates)
    response = cost(pricing["calculate"]["response"], counts, rates)
    assert request == pytest.approx(1000 * 0.0003 + 200 * 0.00003 + 100 * 0.000375)
    assert response == pytest.approx(500 * 0.0015)


@pytest.mark.parametrize(
    ("provider", "model"), [(provider, model) for provider, models in BUILT_IN.items() for model in models]
)
def test_every_rate_a_built_in_formula_names_is_answered(provider: str, model: str):
    pricing = anonymous().call("GET", f"{PRICING}/{provider}/{model}").json
    named: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "value" in node:
            named.append(node["value"])
        for operand in node.get("operands", ()):
            walk(operand)

    for side in ("request", "response"):
        walk(pricing["calculate"][side])
    rates = [name.removeprefix("rates.") for name in named if name.startswith("rates.")]
    assert rates and set(rates) <= set(pricing["pay_as_you_go"])


@pytest.mark.parametrize("path", ["openai/gpt-99", "no-such-provider/gpt-4o", "openai/default", "../gpt-4o"])
def test_what_is_not_priced_answers_the_services_own_404_body(path: str):
    api = anonymous()
    answer = api.call("GET", f"{PRICING}/{path}")
    assert answer.status_code == 404
    assert answer.json == {"error": "Model not found"}


def test_a_refused_price_is_journaled_as_a_valid_request_answered_404():
    app = create_app()
    client = app.test_client()
    assert client.get(f"{PRICING}/openai/gpt-99").status_code == 404
    (entry,) = client.get("/__mock/journal").json["entries"]
    assert entry["operation"] == "getModelPricing" and entry["status"] == 404
    assert entry["valid"] is True and entry["violations"] == []


def test_it_is_not_served_under_v1_nor_for_other_methods():
    client = create_app().test_client()  # no operation: nothing to judge the answers against
    assert error_of(client.get(f"/v1{PRICING}/openai/gpt-4o"), 404, "AB08") == "No such endpoint"
    refused = client.post(f"{PRICING}/openai/gpt-4o", json={})
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


def test_a_keys_file_mock_answers_prices_without_a_key(tmp_path: Path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"api_keys": [{"key": "only-this-one"}]}), encoding="utf-8")
    api = anonymous(keys_path=keys)
    assert api.call("GET", f"{PRICING}/openai/gpt-4o").status_code == 200
    assert error_of(api.call("GET", "/v1/virtual-keys"), 401, "AB05")


def test_a_fault_plan_reaches_the_price_list():
    app = create_app(MockConfig(fault_plan={"rules": [{"operation": "getModelPricing", "status": 503}]}))
    api = Api(app.test_client())
    api._headers = lambda: {}  # type: ignore[method-assign]
    assert api.call("GET", f"{PRICING}/openai/gpt-4o").status_code == 503


def price_file(folder: Path, provider: str, document: dict[str, Any]) -> None:
    (folder / f"{provider}.json").write_text(json.dumps(document), encoding="utf-8")


def open_list_stand_in(folder: Path) -> None:
    """Two providers in the open price list's layout, with its quirks: entries beside `pricing_config`
    (`custom_pricing`, `name`, `description`) that are not prices, a model entry with no
    `pricing_config` at all, formulas only in `default`, and a file that is not a provider's."""
    price_file(
        folder,
        "openai",
        {
            "name": "OpenAI",
            "description": "not a model",
            "default": {
                "pricing_config": {
                    "pay_as_you_go": {"request_token": {"price": 0}, "response_token": {"price": 0}},
                    "calculate": {
                        "request": {
                            "operation": "multiply",
                            "operands": [{"value": "input_tokens"}, {"value": "rates.request_token"}],
                        },
                        "response": {
                            "operation": "multiply",
                            "operands": [{"value": "output_tokens"}, {"value": "rates.response_token"}],
                        },
                    },
                    "currency": "USD",
                }
            },
            "gpt-4o": {
                "pricing_config": {"pay_as_you_go": {"request_token": {"price": 0.5}}},
                "custom_pricing": {"regions": {"default": {}}},
            },
            "gpt-unpriced": {"custom_pricing": {}},
        },
    )
    price_file(folder, "acme-ai", {"default": {"pricing_config": {"currency": "USD"}}, "rocket-1": {}})
    (folder / "README.md").write_text("not a price file", encoding="utf-8")


def test_a_pricing_folder_answers_its_providers_and_leaves_the_rest_built_in(tmp_path: Path):
    open_list_stand_in(tmp_path)
    api = anonymous(pricing_dir=tmp_path)
    pricing = api.call("GET", f"{PRICING}/openai/gpt-4o").json
    assert pricing["pay_as_you_go"] == {"request_token": {"price": 0.5}, "response_token": {"price": 0}}
    assert "custom_pricing" not in pricing and pricing["calculate"]["request"]["operation"] == "multiply"
    assert api.call("GET", f"{PRICING}/openai/gpt-unpriced").json["pay_as_you_go"]["request_token"] == {
        "price": 0
    }
    assert api.call("GET", f"{PRICING}/acme-ai/rocket-1").json == {"currency": "USD"}
    assert api.call("GET", f"{PRICING}/openai/gpt-4o-mini").status_code == 404  # the file is openai's now
    assert api.call("GET", f"{PRICING}/anthropic/claude-opus-4-5-20251101").status_code == 200


def test_a_broken_price_file_stops_the_start_naming_it(tmp_path: Path):
    (tmp_path / "openai.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"openai\.json"):
        ModelPricing(tmp_path)
    (tmp_path / "openai.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="one JSON object"):
        ModelPricing(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        ModelPricing(tmp_path / "missing")


@pytest.mark.skipif(
    not os.environ.get("PORTKEY_PRICING_DIR"),
    reason="PORTKEY_PRICING_DIR does not name a checkout of Portkey's open price list (its pricing/ folder)",
)
def test_every_model_of_portkeys_open_price_list_is_answered_as_the_contract_says():
    folder = Path(os.environ["PORTKEY_PRICING_DIR"])
    api = anonymous(pricing_dir=folder)
    answered = 0
    for path in sorted(folder.glob("*.json")):
        for model, entry in json.loads(path.read_text(encoding="utf-8")).items():
            if model == "default" or not isinstance(entry, dict) or "/" in model:
                continue
            answer = api.call("GET", f"{PRICING}/{path.stem}/{model}")  # judged against the contract
            assert answer.status_code == 200, (path.stem, model)
            answered += 1
    assert answered > 1000
