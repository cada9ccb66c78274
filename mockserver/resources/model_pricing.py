"""Model pricing: `GET /model-configs/pricing/{provider}/{model}`, Portkey's public price list.

Not an admin resource with state: a price list the service publishes, at the host's root and with no
API key. A model's answer is its provider's defaults (every rate the provider's cost formulas use, at
0, the formulas, `USD`) with the model's own prices laid over them, as Portkey's open price list is
built. The mock knows a few models of four providers (`BUILT_IN`, prices as Portkey published them on
2026-12-04); `--pricing-dir` points it at a folder of price files in the layout of Portkey's open
price list (`<provider>.json`, each a `default` entry and one entry per model, every entry's prices
under `pricing_config`), for instance a checkout of its `pricing/` folder, read when the mock starts;
the providers it has are then answered from their files. Anything not priced answers 404 with the
service's own body, `{"error": "Model not found"}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.errors import ApiError
from mockserver.resources import Call, Handler

Term = tuple[str, str]
"""One term of a cost formula: a token count times a rate (`input_tokens`, `request_token`)."""

FORMULAS: dict[str, tuple[tuple[Term, ...], tuple[Term, ...]]] = {
    "openai": (
        (
            ("input_tokens", "request_token"),
            ("cache_write_tokens", "cache_write_input_token"),
            ("cache_read_tokens", "cache_read_input_token"),
            ("audio_input_tokens", "request_audio_token"),
            ("cache_read_audio_tokens", "cache_read_audio_input_token"),
        ),
        (("output_tokens", "response_token"), ("audio_output_tokens", "response_audio_token")),
    ),
    "anthropic": (
        (
            ("input_tokens", "request_token"),
            ("cache_write_tokens", "cache_write_input_token"),
            ("cache_read_tokens", "cache_read_input_token"),
        ),
        (("output_tokens", "response_token"),),
    ),
    "google": ((("input_tokens", "request_token"),), (("output_tokens", "response_token"),)),
    "mistral-ai": ((("input_tokens", "request_token"),), (("output_tokens", "response_token"),)),
}
"""Each built-in provider's cost formulas: (request terms, response terms), each summed."""

Prices = tuple[dict[str, float], dict[str, float], dict[str, float]]
"""A model's rates, its extras (`additional_units`) and its batch rates, in US cents."""

BUILT_IN: dict[str, dict[str, Prices]] = {
    "openai": {
        "gpt-4o": (
            {
                "request_token": 0.00025,
                "response_token": 0.001,
                "cache_write_input_token": 0,
                "cache_read_input_token": 0.000125,
            },
            {"web_search": 1, "file_search": 0.25},
            {"request_token": 0.000125, "response_token": 0.0005},
        ),
        "gpt-4o-mini": (
            {
                "request_token": 0.000015,
                "response_token": 0.00006,
                "cache_write_input_token": 0,
                "cache_read_input_token": 0.0000075,
            },
            {"web_search": 1, "file_search": 0.25},
            {"request_token": 0.0000075, "response_token": 0.00003},
        ),
        "gpt-4.1": (
            {
                "request_token": 0.0002,
                "response_token": 0.0008,
                "cache_write_input_token": 0,
                "cache_read_input_token": 0.00005,
            },
            {"web_search": 1, "file_search": 0.25},
            {"request_token": 0.0001, "response_token": 0.0004},
        ),
        "gpt-5": (
            {
                "request_token": 0.000125,
                "response_token": 0.001,
                "cache_write_input_token": 0,
                "cache_read_input_token": 0.0000125,
            },
            {"web_search": 1, "file_search": 0.25},
            {"request_token": 0.0000625, "response_token": 0.0005, "cache_read_input_token": 0.00000625},
        ),
        "text-embedding-3-small": (
            {"request_token": 0.000002, "response_token": 0},
            {},
            {"request_token": 0.000001, "response_token": 0},
        ),
    },
    "anthropic": {
        "claude-3-5-sonnet-20241022": (
            {
                "request_token": 0.0003,
                "response_token": 0.0015,
                "cache_read_input_token": 0.00003,
                "cache_write_input_token": 0.000375,
            },
            {"cache_write_1h": 0.0006},
            {"request_token": 0.00015, "response_token": 0.00075},
        ),
        "claude-sonnet-4-5-20250929": (
            {
                "request_token": 0.0003,
                "response_token": 0.0015,
                "cache_read_input_token": 0.00003,
                "cache_write_input_token": 0.000375,
            },
            {"cache_write_1h": 0.0006},
            {"request_token": 0.00015, "response_token": 0.00075},
        ),
        "claude-opus-4-5-20251101": (
            {
                "request_token": 0.0005,
                "response_token": 0.0025,
                "cache_read_input_token": 0.00005,
                "cache_write_input_token": 0.000625,
            },
            {"cache_write_1h": 0.001},
            {"request_token": 0.00025, "response_token": 0.00125},
        ),
    },
    "google": {
        "gemini-2.0-flash-001": (
            {"request_token": 0.00001, "response_token": 0.00004},
            {"web_search": 3.5, "search": 3.5},
            {"request_token": 0.000005, "response_token": 0.00002},
        ),
    },
    "mistral-ai": {
        "mistral-large-latest": ({"request_token": 0.00005, "response_token": 0.00015}, {}, {}),
        "mistral-small-latest": ({"request_token": 0.00001, "response_token": 0.00003}, {}, {}),
    },
}

PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
"""What a price file under `--pricing-dir` may be called (`<provider>.json`); others are not read."""

NOT_PRICED = "Model not found"


class ModelPricing:
    """The price list: the files of `pricing_dir`, read whole when the mock starts (a broken file
    stops the start, not a request), then the built-in providers the files leave out."""

    riding = frozenset[str]()

    def __init__(self, pricing_dir: Path | None = None) -> None:
        self.books: dict[str, Mapping[str, Any]] = {}
        if pricing_dir is not None:
            self.books = read_price_files(pricing_dir)

    def handlers(self) -> Mapping[str, Handler]:
        return {"getModelPricing": self._pricing}

    def _pricing(self, call: Call) -> Any:
        params = call.request.path_params
        return self.pricing_of(params["provider"], params["model"])

    def pricing_of(self, provider: str, model: str) -> dict[str, Any]:
        """A model's pricing: its provider's defaults with its own prices over them; 404 if unpriced."""
        book = self.books.get(provider) or built_in_book(provider)
        entry = book.get(model) if book is not None and model != "default" else None
        if book is None or not isinstance(entry, Mapping):
            raise ApiError(NOT_PRICED, 404, "AB08", body={"error": NOT_PRICED})
        return laid_over(_pricing_config(book.get("default")), _pricing_config(entry))


def read_price_files(folder: Path) -> dict[str, Mapping[str, Any]]:
    """Every `<provider>.json` of `folder`, by provider; a file that is not a JSON object refused."""
    if not folder.is_dir():
        raise ValueError(f"--pricing-dir {folder}: not a folder")
    books: dict[str, Mapping[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        if not PROVIDER_NAME.fullmatch(path.stem):
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a JSON price file ({error})") from None
        if not isinstance(document, dict):
            raise ValueError(f"{path}: a price file holds one JSON object")
        books[path.stem] = document
    return books


def built_in_book(provider: str) -> dict[str, Any] | None:
    """A built-in provider's entries, in the layout of a price file."""
    if provider not in BUILT_IN:
        return None
    request, response = FORMULAS[provider]
    rates = [rate for _, rate in (*request, *response)]
    book: dict[str, Any] = {
        "default": {
            "pricing_config": {
                "pay_as_you_go": {rate: {"price": 0} for rate in rates},
                "calculate": {"request": formula(request), "response": formula(response)},
                "currency": "USD",
            }
        }
    }
    for model, (own, extras, batch) in BUILT_IN[provider].items():
        pay: dict[str, Any] = {rate: {"price": price} for rate, price in own.items()}
        if extras:
            pay["additional_units"] = {unit: {"price": price} for unit, price in extras.items()}
        config: dict[str, Any] = {"pay_as_you_go": pay}
        if batch:
            config["batch_config"] = {rate: {"price": price} for rate, price in batch.items()}
        book[model] = {"pricing_config": config}
    return book


def formula(terms: tuple[Term, ...]) -> dict[str, Any]:
    """A sum of token counts times rates, as the price list writes it (one term: the product alone)."""
    products = [
        {"operation": "multiply", "operands": [{"value": count}, {"value": f"rates.{rate}"}]}
        for count, rate in terms
    ]
    return products[0] if len(products) == 1 else {"operation": "sum", "operands": products}


def laid_over(base: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """`own` over `base`, object by object: what a model says wins, what it leaves out is its provider's."""
    merged = dict(base)
    for name, value in own.items():
        below = merged.get(name)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[name] = laid_over(below, value)
        else:
            merged[name] = value
    return merged


def _pricing_config(entry: Any) -> Mapping[str, Any]:
    config = entry.get("pricing_config") if isinstance(entry, Mapping) else None
    return config if isinstance(config, Mapping) else {}
