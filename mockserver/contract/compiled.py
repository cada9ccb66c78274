"""The contract's request and response schemas compiled once with jsonschema-rs, for a verdict in
microseconds.

openapi-core walks the spec and resolves references on every request, which costs milliseconds.
Here each operation's parameter and body schemas are compiled at start-up (JSON Schema 2020-12,
format checks on) and a request is judged by the compiled validators alone. The verdict is only
"accepted" (with the decoded parameters) or "not accepted": a request the fast path does not accept
is handed to the reference validator (openapi-core), which explains it, so every message is the
reference's. Answers are judged the same way (`accepts_response`): a list page of 50 keys takes
openapi-core about 40 ms, the compiled schema 0.1 ms. The two are kept in agreement by differential
property tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

import jsonschema_rs
from rfc3339_validator import validate_rfc3339

from mockserver.contract.adapt import reachable_refs
from mockserver.contract.document import WARNING_EXTENSION as WARNING
from mockserver.contract.document import Contract, Operation
from mockserver.violations import Violation, location


def _is_date_time(value: object) -> bool:
    """RFC 3339 as the reference checks it (jsonschema upper-cases, then asks rfc3339-validator).

    jsonschema-rs's own check accepts a leap second on any day; the reference does not.
    """
    return not isinstance(value, str) or validate_rfc3339(value.upper())


_FORMATS = {"date-time": _is_date_time}
"""Formats whose check differs between jsonschema-rs and the reference: the reference's wins."""
_INVALID = object()
_COMPILED_AT_START = 20
"""A contract this small (ours has five operations) is compiled at start-up, off the request path."""
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})


def _boolean(raw: str) -> bool:
    """A boolean parameter's text, read as openapi-core reads it (without importing it at start-up:
    it brings YAML and 0.1 s of imports)."""
    word = raw.lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"not a boolean: {raw!r}")


_CASTS: dict[str, Any] = {"integer": int, "number": float, "string": str, "boolean": _boolean}
"""How a query, path or header value is cast before validation, as openapi-core casts it (a
boolean from `true`, `yes`, `1`, ... or their opposites, any case)."""


@dataclass(frozen=True)
class Parameter:
    """A declared parameter with its compiled schema."""

    name: str
    where: str  # query | path | header
    required: bool
    default: Any
    cast: Any  # str -> value, or None when openapi-core must cast it
    validator: jsonschema_rs.Validator
    has_default: bool


@dataclass(frozen=True)
class CompiledOperation:
    """An operation's compiled checks: its parameters, and its body schema if it takes one."""

    parameters: tuple[Parameter, ...]
    body: jsonschema_rs.Validator | None
    body_required: bool = True
    warned: tuple[WarnedForm, ...] = ()
    responses: Mapping[int, jsonschema_rs.Validator] = field(default_factory=dict)
    """The JSON body schema of each declared status the fast path can judge (see `_responses`)."""


@dataclass(frozen=True)
class WarnedForm:
    """A form the contract accepts but warns about (`x-portkey-warning`): the whole body (`field`
    empty), a body field, or a field's value when it matches one alternative (`matches`)."""

    field: str
    matches: jsonschema_rs.Validator | None
    rule: str


_COMPILED: WeakKeyDictionary[Contract, FastValidator] = WeakKeyDictionary()


class FastValidator:
    """Each operation of a contract compiled once, when first judged; `accept` judges a decoded request.

    Only OpenAPI 3.1 schemas are JSON Schema 2020-12; an operation of a 3.0 document (`nullable`,
    boolean `exclusiveMinimum`), or one whose schemas do not compile, is never accepted here, so the
    reference judges it.
    """

    @classmethod
    def of(cls, contract: Contract) -> FastValidator:
        """The validators of `contract`, compiled once per contract object and then shared: a
        contract is read-only once loaded, and compiling one costs tens of milliseconds (each app,
        each verdict judge, each test's mock would pay it again)."""
        compiled = _COMPILED.get(contract)
        if compiled is None:
            compiled = _COMPILED[contract] = cls(contract)
        return compiled

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._components = contract.document.get("components", {})
        self._json_schema = str(contract.document.get("openapi", "")).startswith("3.1")
        self.operations: dict[str, CompiledOperation | None] = {}
        for operation in contract.operations.values():
            if len(contract.operations) <= _COMPILED_AT_START:
                self._compiled(operation)

    def _compiled(self, operation: Operation) -> CompiledOperation | None:
        if operation.operation_id not in self.operations:
            compiled = None
            if self._json_schema:
                try:
                    compiled = self._compile(operation)
                except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
                    compiled = None  # a schema jsonschema-rs refuses: the reference judges the operation
            self.operations[operation.operation_id] = compiled
        return self.operations[operation.operation_id]

    def judges(self, operation: Operation) -> bool:
        """Whether the compiled validators judge `operation` (else only the reference does)."""
        return self._compiled(operation) is not None

    def accept(
        self,
        operation: Operation,
        query: Mapping[str, list[str]],
        path_params: Mapping[str, str],
        headers: Mapping[str, str],
        body: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """The decoded query (defaults filled in) if the request keeps to the contract, else None."""
        compiled = self._compiled(operation)
        if compiled is None:
            return None
        if compiled.body is not None:
            if body is None:
                if compiled.body_required:
                    return None
            elif not compiled.body.is_valid(body):
                return None
        return self.accept_parameters(operation, query, path_params, headers)

    def accept_parameters(
        self,
        operation: Operation,
        query: Mapping[str, list[str]],
        path_params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> dict[str, Any] | None:
        """The decoded query if the request's parameters keep to the contract, its body unjudged;
        else None. A refused request whose parameters pass needs only its body explained."""
        judged = self.judge_parameters(operation, query, path_params, headers)
        return judged[0] if judged is not None and not judged[1] else None

    def judge_parameters(
        self,
        operation: Operation,
        query: Mapping[str, list[str]],
        path_params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> tuple[dict[str, Any], frozenset[tuple[str, str]]] | None:
        """The decoded query of the parameters that pass, and the (location, name) of each that does
        not or that only the reference can decode; None when the operation is not compiled. Only
        those need the reference's explanation."""
        compiled = self._compiled(operation)
        if compiled is None:
            return None
        decoded: dict[str, Any] = {}
        unsure: list[tuple[str, str]] = []
        for parameter in compiled.parameters:
            raw = _raw_value(parameter, query, path_params, headers)
            if raw is None:
                if parameter.required:
                    unsure.append((parameter.where, parameter.name))
                elif parameter.has_default:
                    decoded[parameter.name] = parameter.default
                continue
            value = _decoded(parameter, raw)
            if value is _INVALID:
                unsure.append((parameter.where, parameter.name))
            elif parameter.where == "query":
                decoded[parameter.name] = value
        return decoded, frozenset(unsure)

    def accepts_response(self, operation: Operation, status: int, body: Any) -> bool:
        """Whether `body` (decoded JSON) is an answer the contract allows `operation` with `status`.

        True only when sure; False hands the answer to the reference (openapi-core), which explains
        what is wrong, and also judges the statuses compiled here does not (see `_responses`).
        """
        compiled = self._compiled(operation)
        validator = compiled.responses.get(status) if compiled is not None else None
        return validator is not None and validator.is_valid(body)

    def located(
        self,
        operation: Operation,
        query: Mapping[str, list[str]],
        path_params: Mapping[str, str],
        headers: Mapping[str, str],
        body: dict[str, Any] | None,
    ) -> list[str]:
        """Where the request breaks the contract (`body.rate_limits[0]`, `query.page_size`).

        A diagnostic (the differential test compares it with openapi-core's locations); the mock
        itself takes its explanations from the reference.
        """
        compiled = self._compiled(operation)
        found: set[str] = set()
        if compiled is None:
            return ["(not compiled: the reference judges this operation)"]
        if compiled.body is not None and body is not None:
            found.update(
                location("body", _keys_as_named(body, error.instance_path))
                for error in compiled.body.iter_errors(body)
            )
        for parameter in compiled.parameters:
            raw = _raw_value(parameter, query, path_params, headers)
            missing = raw is None and parameter.required
            if missing or (raw is not None and _decoded(parameter, raw) is _INVALID):
                found.add(f"{parameter.where}.{parameter.name}")
        return sorted(found)

    def warnings(self, operation: Operation, body: dict[str, Any] | None) -> list[Violation]:
        """The forms of `body` the contract accepts with a warning (`x-portkey-warning`)."""
        compiled = self._compiled(operation)
        found: list[Violation] = []
        for form in compiled.warned if compiled is not None else ():
            if body is None:
                continue
            if not form.field:
                found.append(Violation("body", form.rule))
            elif form.field in body and (form.matches is None or form.matches.is_valid(body[form.field])):
                found.append(Violation(f"body.{form.field}", form.rule))
        return found

    def _compile(self, operation: Operation) -> CompiledOperation:
        body = self._validator(operation.body_schema) if operation.body_schema is not None else None
        return CompiledOperation(
            tuple(self._parameters(operation)),
            body,
            operation.body_required,
            tuple(self._warned(operation.body_schema)),
            self._responses(operation),
        )

    def _responses(self, operation: Operation) -> dict[int, jsonschema_rs.Validator]:
        """A compiled body schema for each status declared exactly (not `2XX`, not `default`) whose
        answer is a JSON body and nothing else: a status that also declares headers is left to the
        reference, which checks them."""
        compiled = {}
        for status, raw in self._operation_spec(operation).get("responses", {}).items():
            response = self.contract.resolve(raw)
            schema = (response.get("content") or {}).get("application/json", {}).get("schema")
            if str(status).isdigit() and schema is not None and not response.get("headers"):
                compiled[int(status)] = self._validator(self.contract.resolve(schema))
        return compiled

    def _warned(self, schema: dict[str, Any] | None) -> list[WarnedForm]:
        if schema is None:
            return []
        forms = [WarnedForm("", None, schema[WARNING])] if WARNING in schema else []
        for name, raw in schema.get("properties", {}).items():
            prop = self.contract.resolve(raw)
            if WARNING in prop:
                forms.append(WarnedForm(name, None, prop[WARNING]))
            for branch in map(self.contract.resolve, prop.get("anyOf", [])):
                if WARNING in branch:
                    forms.append(WarnedForm(name, self._validator(branch), branch[WARNING]))
        return forms

    def _parameters(self, operation: Operation) -> list[Parameter]:
        found = []
        for spec in self._declared_parameters(operation):
            schema = self.contract.resolve(spec.get("schema", {}))
            kind = schema.get("type")
            found.append(
                Parameter(
                    name=spec["name"],
                    where=spec["in"],
                    required=bool(spec.get("required")),
                    default=schema.get("default"),
                    cast=_CASTS.get(kind) if spec["in"] in ("query", "path", "header") else None,
                    validator=self._validator(schema),
                    has_default="default" in schema,
                )
            )
        return found

    def _declared_parameters(self, operation: Operation) -> list[dict[str, Any]]:
        """Path-level parameters, overridden by operation-level ones of the same name and place."""
        item = self._path_item(operation)
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*item.get("parameters", []), *item[operation.method].get("parameters", [])]:
            spec = self.contract.resolve(raw)
            merged[(spec["name"], spec["in"])] = spec
        return list(merged.values())

    def _path_item(self, operation: Operation) -> dict[str, Any]:
        return next(
            item
            for item in self.contract.document["paths"].values()
            if item.get(operation.method, {}).get("operationId") == operation.operation_id
        )

    def _operation_spec(self, operation: Operation) -> dict[str, Any]:
        spec: dict[str, Any] = self._path_item(operation)[operation.method]
        return spec

    def _validator(self, schema: dict[str, Any]) -> jsonschema_rs.Validator:
        """`schema` compiled with the components it reaches riding along, so its `#/components/...`
        references resolve (only those: converting all of them for each schema was most of the cost)."""
        reached: dict[str, dict[str, Any]] = {}
        for ref in reachable_refs(self.contract.document, [schema]):
            kind, _, name = ref.removeprefix("#/components/").partition("/")
            name = name.partition("/")[0]  # `#/components/schemas/A/properties/b` rides with all of A
            if ref.startswith("#/components/") and name in self._components.get(kind, {}):
                reached.setdefault(kind, {})[name] = self._components[kind][name]
        return jsonschema_rs.Draft202012Validator(
            {**schema, "components": reached}, formats=_FORMATS, validate_formats=True
        )


def _keys_as_named(instance: Any, path: list[Any]) -> list[Any]:
    """`path` with each step into an object as its key (a string), even a key like `0`, which
    jsonschema-rs reports as a number; steps into an array stay indexes."""
    named: list[Any] = []
    for part in path:
        if isinstance(instance, dict):
            part = str(part)
            instance = instance.get(part)
        elif isinstance(instance, list) and isinstance(part, int) and 0 <= part < len(instance):
            instance = instance[part]
        else:
            instance = None
        named.append(part)
    return named


def _decoded(parameter: Parameter, raw: str) -> Any:
    """The parameter's value cast as openapi-core casts it, or `_INVALID`."""
    if raw == "" or parameter.cast is None:
        return _INVALID  # empty values and non-primitive parameters: the reference decides
    try:
        value = parameter.cast(raw)
    except ValueError:
        return _INVALID
    return value if parameter.validator.is_valid(value) else _INVALID


def _raw_value(
    parameter: Parameter,
    query: Mapping[str, list[str]],
    path_params: Mapping[str, str],
    headers: Mapping[str, str],
) -> str | None:
    if parameter.where == "query":
        values = query.get(parameter.name)
        return values[0] if values else None  # openapi-core reads the first of repeated values
    if parameter.where == "path":
        return path_params.get(parameter.name)
    wanted = parameter.name.lower()
    return next((value for name, value in headers.items() if name.lower() == wanted), None)
