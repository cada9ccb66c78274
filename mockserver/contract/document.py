"""The contract (`openapi.yaml`) loaded once: the single source every layer derives from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mockserver.contract.rules import field_providers

if TYPE_CHECKING:
    from openapi_core import OpenAPI

ALIAS_EXTENSION = "x-portkey-snake-case-aliases"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: ten times faster


def default_contract_path() -> Path:
    """Where the project's contract is: package data in a wheel, the repository root in a checkout."""
    packaged = resources.files("mockserver") / "openapi.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "openapi.yaml"


def snake_case(name: str) -> str:
    """`resourceName` -> `resource_name`, the spelling Portkey's Node SDK sends."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, with what the mock needs to serve and validate it."""

    operation_id: str
    method: str
    path: str
    body_schema: dict[str, Any] | None
    aliases: dict[str, str]  # snake_case spelling -> contract field
    scope: str | None  # the API-key scope it needs (`x-portkey-scope`)
    field_providers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Body fields taken only for some providers (`x-portkey-providers`)."""

    @property
    def has_body(self) -> bool:
        return self.body_schema is not None

    def path_params(self, path: str) -> dict[str, str] | None:
        """The path parameters of a concrete `path` (`{"slug": ...}`), or None if it is not this path."""
        match = _template_regex(self.path).fullmatch(path)
        return match.groupdict() if match else None


class Contract:
    """The parsed contract: raw document, resolved operations, and openapi-core's view of it."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_contract_path()
        with self.path.open(encoding="utf-8") as handle:
            self.document: dict[str, Any] = yaml.load(handle, Loader=_YAML_LOADER)
        self.operations = {op.operation_id: op for op in self._read_operations()}

    @classmethod
    def load(cls, path: Path | str | None = None) -> Contract:
        """The contract at `path`, parsed once per process (contracts are read-only once loaded)."""
        return _load(str(Path(path).resolve()) if path else str(default_contract_path()))

    @cached_property
    def openapi(self) -> OpenAPI:
        from openapi_core import OpenAPI  # a quarter of a second to import: only when first needed

        return OpenAPI.from_dict(self.document)

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (one level) to the node it names."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    @cached_property
    def secret_fields(self) -> frozenset[str]:
        """Top-level request fields marked `writeOnly`: provider secrets, never to be returned."""
        return frozenset(
            name
            for op in self.operations.values()
            for name, prop in (op.body_schema or {}).get("properties", {}).items()
            if self.resolve(prop).get("writeOnly")
        )

    @cached_property
    def api_key_headers(self) -> tuple[str, ...]:
        """Lower-case names of the API-key headers every request needs (none if security is optional)."""
        requirements = self.document.get("security") or []
        if not requirements or any(not requirement for requirement in requirements):
            return ()
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        return tuple(
            schemes[name]["name"].lower()
            for name in requirements[0]
            if schemes.get(name, {}).get("type") == "apiKey" and schemes[name].get("in") == "header"
        )

    @cached_property
    def api_key_header(self) -> str | None:
        """The header that carries the caller's API key: the first API-key header scheme declared."""
        for scheme in self.document.get("components", {}).get("securitySchemes", {}).values():
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                return str(scheme["name"]).lower()
        return None

    def require_api_key_header(self) -> str:
        """`api_key_header`, for a caller that cannot work without one."""
        if self.api_key_header is None:
            raise ValueError("the contract declares no API-key header (an apiKey scheme in a header)")
        return self.api_key_header

    def declared_statuses(self, operation_id: str) -> frozenset[int]:
        """The HTTP statuses the contract declares `operation_id` may answer with."""
        for item in self.document.get("paths", {}).values():
            for spec in item.values():
                if isinstance(spec, dict) and spec.get("operationId") == operation_id:
                    return frozenset(int(s) for s in spec.get("responses", {}) if str(s).isdigit())
        raise KeyError(operation_id)

    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation a request targets, from its method and concrete path."""
        for op in self.operations.values():
            if op.method == method.lower() and op.path_params(path) is not None:
                return op
        return None

    def nearest_operation(self, method: str, path: str) -> Operation | None:
        """The operation a non-matching request most likely meant: same path, else same method."""
        same_path = [op for op in self.operations.values() if op.path_params(path) is not None]
        if same_path:
            return same_path[0]
        same_method = [op for op in self.operations.values() if op.method == method.lower()]
        return same_method[0] if same_method else None

    def _read_operations(self) -> list[Operation]:
        base = self._base_path()
        found = []
        for template, item in self.document.get("paths", {}).items():
            for method, spec in item.items():
                if method not in {"get", "put", "post", "delete", "patch"}:
                    continue
                body = self.resolve(spec.get("requestBody"))
                schema = None
                if body:
                    schema = self.resolve(body["content"]["application/json"]["schema"])
                found.append(
                    Operation(
                        operation_id=spec["operationId"],
                        method=method,
                        path=base + template,
                        body_schema=schema,
                        aliases=_aliases(schema),
                        scope=spec.get("x-portkey-scope"),
                        field_providers=field_providers(schema),
                    )
                )
        return found

    def _base_path(self) -> str:
        for server in self.document.get("servers", []):
            if server["url"].startswith("/"):
                return server["url"].rstrip("/")
        return ""


@lru_cache(maxsize=16)
def _load(path: str) -> Contract:
    return Contract(path)


def _aliases(schema: dict[str, Any] | None) -> dict[str, str]:
    if not schema or not schema.get(ALIAS_EXTENSION):
        return {}
    return {snake_case(name): name for name in schema.get("properties", {}) if snake_case(name) != name}


@lru_cache(maxsize=64)
def _template_regex(template: str) -> re.Pattern[str]:
    """`/v1/virtual-keys/{slug}` -> a pattern whose named groups are the path parameters."""
    return re.compile(re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)))
