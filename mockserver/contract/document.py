"""The contract (`openapi.yaml`) loaded once: the single source every layer derives from."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.contract.adapt import (
    METHODS,
    ContractUnusable,
    Problem,
    adapt,
    check_shape,
    path_prefixes,
    reachable_refs,
    schema_problems,
)
from mockserver.contract.declared import Declaration, declarations
from mockserver.contract.parsed import Unparsable, read_document
from mockserver.contract.routing import RouteTable, path_params
from mockserver.contract.rules import (
    ONE_OF_EXTENSION,
    WHEN_EXTENSION,
    Conditional,
    conditionals,
    field_providers,
    state_rules,
)

if TYPE_CHECKING:
    from openapi_core import OpenAPI

__all__ = ["Contract", "ContractUnusable", "Operation", "Problem", "core_openapi"]

ALIAS_EXTENSION = "x-portkey-snake-case-aliases"
EXPLICIT_ALIASES = "x-portkey-aliases"
"""A body schema's map of other spellings clients send -> the contract's field (accepted, warned)."""
WARNING_EXTENSION = "x-portkey-warning"
DELETES_NAMED_EXTENSION = "x-portkey-deletes-named-items"
"""On a DELETE: it removes the items the request names, not the resource at its path, which stays."""
"""On a body schema, a property or one alternative of a property: accepted, but reported as a warning."""


def default_contract_path() -> Path:
    """Where the project's contract is: package data in a wheel, the repository root in a checkout."""
    packaged = resources.files("mockserver") / "openapi.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "openapi.yaml"


def snake_case(name: str) -> str:
    """`resourceName` -> `resource_name`, the spelling Portkey's Node SDK sends."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def both_spellings(names: Iterable[str]) -> frozenset[str]:
    """Field names as the contract spells them and in snake_case, since Portkey takes either: what
    a secret field may be called in a body (`awsSecretAccessKey`, `aws_secret_access_key`)."""
    names = frozenset(names)
    return names | {snake_case(name) for name in names}


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, with what the mock needs to serve and validate it."""

    operation_id: str
    method: str
    path: str
    """The path as requested: the server's path prefix, then the template (`/v1/virtual-keys/{slug}`)."""
    body_schema: dict[str, Any] | None
    aliases: dict[str, str]  # other spelling (snake_case, or `x-portkey-aliases`) -> contract field
    scopes: tuple[str, ...]  # the API-key scopes it needs, any one of them (`x-portkey-scope`)
    template: str = ""
    """The path as the contract writes it, without the server's prefix (`/virtual-keys/{slug}`)."""
    field_providers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Body fields taken only for some providers (`x-portkey-providers`)."""
    workspace_required: bool = True  # `x-portkey-workspace: optional` lets it act on no workspace
    body_required: bool = True
    requires_one_of: tuple[str, ...] = ()
    """Request parts of which one must be sent (`x-portkey-requires-one-of`: `query.slugs`, `body`)."""
    required_when: tuple[Conditional, ...] = ()
    """What must be sent when another part has a value (`x-portkey-requires-when`)."""
    state_rules: dict[str, str] = field(default_factory=dict)
    """`{location: rule}`: 400s a schema-valid request may get for what the service holds
    (`x-portkey-state-rule`)."""
    deletes_named_items: bool = False
    """A DELETE that removes what the request names; its path still answers
    (`x-portkey-deletes-named-items`)."""
    public: bool = False
    """Served to anyone, with no API key (`security: []` on the operation): Portkey's model pricing."""

    @property
    def has_body(self) -> bool:
        return self.body_schema is not None

    @property
    def scope(self) -> str | None:
        """The first scope it needs (the one an error message names)."""
        return self.scopes[0] if self.scopes else None

    def path_params(self, path: str) -> dict[str, str] | None:
        """The path parameters of a concrete `path` (`{"slug": ...}`), or None if it is not this path."""
        return path_params(self.path, path)


class Contract:
    """The parsed contract: raw document, resolved operations, and openapi-core's view of it.

    Any vendor's OpenAPI 3.0 or 3.1 document loads (see `adapt`): `problems` lists what is wrong
    with the document itself, for the tools to report once; `ContractUnusable` says why a document
    cannot be used at all.
    """

    def __init__(self, path: Path | str | None = None, *, document: dict[str, Any] | None = None) -> None:
        self.path = Path(path) if path else default_contract_path()
        if document is None:
            document = _read(self.path)
            self.left_out = adapt(check_shape(document, str(self.path)))
        else:
            self.left_out = []
        self.document: dict[str, Any] = document
        self.operations = {op.operation_id: op for op in self._read_operations()}
        if not self.operations:
            raise ContractUnusable(f"{self.path} has no operation with a JSON body or none")

    @classmethod
    def load(cls, path: Path | str | None = None) -> Contract:
        """The contract at `path`, parsed once per process (contracts are read-only once loaded)."""
        return _load(str(Path(path).resolve()) if path else str(default_contract_path()))

    @cached_property
    def openapi(self) -> OpenAPI:
        return core_openapi(self.document)

    @cached_property
    def problems(self) -> list[Problem]:
        """What is wrong with the document itself: operations left out, then schemas breaking OpenAPI."""
        return [*self.left_out, *schema_problems(self.document)]

    def only(self, operation_ids: set[str] | frozenset[str]) -> Contract:
        """This contract cut down to `operation_ids` and the components they reach.

        What is cut away is never compiled nor walked: a 1.2 MB published document judged on five
        operations costs what those five cost.
        """
        paths: dict[str, Any] = {}
        for template, item in self.document["paths"].items():
            kept = {
                key: value
                for key, value in item.items()
                if key not in METHODS or (value.get("operationId") in operation_ids)
            }
            if any(method in kept for method in METHODS):
                paths[template] = kept
        document = {key: value for key, value in self.document.items() if key not in ("paths", "components")}
        document["paths"] = paths
        components: dict[str, Any] = {}
        everything = self.document.get("components") or {}
        for ref in reachable_refs(self.document, [paths, document.get("security")]):
            kind, _, name = ref.removeprefix("#/components/").partition("/")
            if ref.startswith("#/components/") and name in everything.get(kind, {}):
                components.setdefault(kind, {})[name] = everything[kind][name]
        if "securitySchemes" in everything:
            components["securitySchemes"] = everything["securitySchemes"]
        document["components"] = components
        subset = Contract(self.path, document=document)
        subset.left_out = self.left_out
        return subset

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
        """Request fields marked `writeOnly`, at any depth (`key`, `configurations.aws_secret_access_key`
        as `aws_secret_access_key`): provider secrets, never to be returned."""
        return self.secrets_in(op.body_schema for op in self.operations.values())

    @cached_property
    def body_secrets(self) -> dict[str, frozenset[str]]:
        """operationId -> the `writeOnly` fields of its request body: one operation's own secrets
        (`key` names a policy's condition too, a secret only where an operation says so)."""
        return {op.operation_id: self.secrets_in([op.body_schema]) for op in self.operations.values()}

    def secrets_in(self, schemas: Iterable[dict[str, Any] | None]) -> frozenset[str]:
        """The `writeOnly` fields of `schemas`, at any depth (one resource's secrets)."""
        found: set[str] = set()
        for schema in schemas:
            self._collect_secrets(schema, found, set())
        return frozenset(found)

    @cached_property
    def resources(self) -> list[Declaration]:
        """The resources this contract declares (`x-portkey-resource`), checked against its operations."""
        bodies = {op.operation_id: op.body_schema for op in self.operations.values()}
        return declarations(self.document.get("paths") or {}, bodies, self.secrets_in)

    @cached_property
    def scopes(self) -> frozenset[str]:
        """Every API-key scope an operation may need."""
        return frozenset(scope for op in self.operations.values() for scope in op.scopes)

    def _collect_secrets(self, schema: Any, found: set[str], seen: set[int]) -> None:
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or id(schema) in seen:
            return
        seen.add(id(schema))
        for name, prop in schema.get("properties", {}).items():
            if self.resolve(prop).get("writeOnly"):
                found.add(name)
            self._collect_secrets(prop, found, seen)
        for keyword in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(keyword, []):
                self._collect_secrets(branch, found, seen)
        self._collect_secrets(schema.get("items"), found, seen)

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

    @cached_property
    def routes(self) -> RouteTable[Operation]:
        """The one route matcher every tool uses (`mockserver/contract/routing.py`)."""
        return RouteTable(self.operations.values())

    def body_example(self, operation: Operation) -> Any:
        """A copy of the `example` the document gives the operation's JSON body, else of the first of
        its named `examples` (None if none)."""
        spec = (self.document["paths"].get(operation.template) or {}).get(operation.method) or {}
        content = ((spec.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
        if "example" in content or not content.get("examples"):
            return copy.deepcopy(content.get("example"))
        first = self.resolve(next(iter(content["examples"].values())))
        return copy.deepcopy(first.get("value"))

    def example_path(self, operation: Operation) -> str | None:
        """The operation's path as requested, each parameter set to its `example`, else the first
        value its schema lists; None if one has neither (a caller would have to guess what it names)."""
        item = self.document["paths"].get(operation.template) or {}
        path = operation.path
        for parameter in map(
            self.resolve, [*item.get("parameters", []), *item.get(operation.method, {}).get("parameters", [])]
        ):
            if parameter.get("in") != "path":
                continue
            values = [parameter["example"]] if "example" in parameter else []
            values += self.resolve(parameter.get("schema") or {}).get("enum") or []
            if not values:
                return None
            path = path.replace("{" + parameter["name"] + "}", str(values[0]))
        return None if "{" in path else path

    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation a request targets, from its method and concrete path."""
        routed = self.routes.match(method, path)
        return routed[0] if routed else None

    def nearest_operation(self, method: str, path: str) -> Operation | None:
        """The operation a non-matching request most likely meant: same path, else same method."""
        same_path = self.routes.at(path)
        if same_path:
            return same_path[0]
        same_method = [op for op in self.operations.values() if op.method == method.lower()]
        return same_method[0] if same_method else None

    def _read_operations(self) -> list[Operation]:
        found = []
        for template, item in self.document.get("paths", {}).items():
            for method in METHODS:
                spec = item.get(method)
                if not isinstance(spec, dict):
                    continue
                servers = spec.get("servers") or item.get("servers") or self.document.get("servers")
                base = path_prefixes(servers)[0]["url"].rstrip("/")
                body = self.resolve(spec.get("requestBody"))
                schema = None
                if body:
                    schema = self.resolve(body["content"]["application/json"].get("schema", {}))
                scope = spec.get("x-portkey-scope") or ()
                declared = [*item.get("parameters", []), *spec.get("parameters", [])]
                found.append(
                    Operation(
                        operation_id=spec["operationId"],
                        method=method,
                        path=base + template,
                        body_schema=schema,
                        aliases=_aliases(schema),
                        scopes=(scope,) if isinstance(scope, str) else tuple(scope),
                        template=template,
                        field_providers=field_providers(schema),
                        workspace_required=spec.get("x-portkey-workspace", "required") != "optional",
                        body_required=bool(body.get("required", False)) if body else False,
                        requires_one_of=tuple(spec.get(ONE_OF_EXTENSION) or ()),
                        required_when=conditionals(spec.get(WHEN_EXTENSION)),
                        state_rules=state_rules(map(self.resolve, declared), schema),
                        deletes_named_items=bool(spec.get(DELETES_NAMED_EXTENSION)),
                        public=spec.get("security") == [],
                    )
                )
        return found


@lru_cache(maxsize=16)
def _load(path: str) -> Contract:
    return Contract(path)


def _read(path: Path) -> Any:
    try:
        return read_document(path)  # parsed once per version of the file (contract/parsed.py)
    except (OSError, UnicodeDecodeError, Unparsable) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else getattr(exc, "what", type(exc).__name__)
        raise ContractUnusable(f"cannot read the contract {path}: {reason}") from None


def core_openapi(document: dict[str, Any]) -> OpenAPI:
    """openapi-core over `document`, without validating the document itself.

    openapi-core would otherwise check the whole document against OpenAPI's rules on every load
    (43 s for Portkey's 1.2 MB published spec, then a refusal over one bad `default`); the document's
    problems are found and reported by `Contract.problems` instead.
    """
    from openapi_core import Config, OpenAPI  # a quarter of a second to import: only when first needed

    reference = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))  # type: ignore[arg-type]
    for judge in (reference.request_unmarshaller, reference.response_unmarshaller):
        for factory in _FACTORIES:  # each judge's own: a 3.0 request's validators differ from a response's
            setattr(judge, factory, _BuiltOnce(getattr(judge, factory)))
    return reference


_FACTORIES = (
    "style_deserializers_factory",
    "schema_casters_factory",
    "schema_validators_factory",
    "schema_unmarshallers_factory",
)


class _BuiltOnce:
    """One of openapi-core's factories whose every product is built once per schema and options.

    openapi-core builds a parameter's deserialiser, caster, validator and unmarshaller again for each
    request it judges (deep-copying a format checker each time), about a quarter of what explaining a
    refused parameter costs the mock (docs/performance.md). What it builds holds no state: one per
    schema serves every request.
    """

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._built: dict[tuple[Any, ...], Any] = {}

    def create(self, *args: Any, **options: Any) -> Any:
        key = (*map(_part_key, args), *((name, _part_key(value)) for name, value in sorted(options.items())))
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._factory.create(*args, **options)
        return built

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)


def _part_key(value: Any) -> Any:
    """A schema by its place in the document, a mapping (format validators) by identity."""
    parts = getattr(value, "parts", None)
    if parts is not None:
        return parts
    return id(value) if isinstance(value, dict) else value


def _aliases(schema: dict[str, Any] | None) -> dict[str, str]:
    if not schema:
        return {}
    explicit = dict(schema.get(EXPLICIT_ALIASES) or {})
    if not schema.get(ALIAS_EXTENSION):
        return explicit
    snake = {snake_case(name): name for name in schema.get("properties", {}) if snake_case(name) != name}
    return {**snake, **explicit}
