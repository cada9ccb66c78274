"""The contract at the door: a request is decoded, normalised and validated before the domain sees it.

Decoding (size, media type, UTF-8, JSON, object) is done here so each failure gets its own clear
answer. The contract check runs on the decoded, normalised request: first the compiled validators
(`compiled`, microseconds), and only for a request they do not accept, openapi-core, the
reference, which finds and explains every violation. A request whose parameters pass and whose body
alone is refused is explained by the reference's body validator, built once per operation (a sixth
of the whole reference's cost: verify sends thousands of such requests on purpose). In strict mode
openapi-core judges every request.

openapi-core is imported where it is used: importing it costs about a quarter of a second at
start-up, and a mock whose requests keep to the contract never needs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mockserver.contract import date_times, strict_json
from mockserver.contract.compiled import FastValidator
from mockserver.contract.document import Contract, Operation, core_openapi
from mockserver.contract.rules import conditional_violations, missing_parts, rule_violations
from mockserver.errors import ApiError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from mockserver.violations import Violation, from_schema_errors

if TYPE_CHECKING:
    from openapi_core import OpenAPI


@dataclass(frozen=True)
class IncomingRequest:
    """An HTTP request as the validator needs it, independent of the web framework."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidRequest:
    """A request that keeps to the contract, with its body decoded and field spellings normalised."""

    operation: Operation
    path_params: Mapping[str, str]
    query: Mapping[str, Any]
    body: dict[str, Any] | None
    aliases_used: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Validated:
    """What the validator made of one request: the decoded request and every violation it found
    (none: valid). The verdict on a request, `RequestVerdict`, carries it."""

    request: ValidRequest
    violations: tuple[Violation, ...]
    sent_body: dict[str, Any] | None = None
    """The body as the client spelled it, before snake_case fields were renamed."""


class RequestValidator:
    """Validates requests for one contract; built once, used for every request."""

    def __init__(
        self, contract: Contract, max_body_bytes: int = 1024 * 1024, *, strict: bool = False
    ) -> None:
        self.contract = contract
        self.max_body_bytes = max_body_bytes
        self.strict = strict
        self.fast = FastValidator.of(contract)
        self._date_time_paths: dict[str, tuple[date_times.Path, ...]] = {}
        self._body_validators: dict[str, Any] = {}
        self._parameter_paths: dict[str, dict[tuple[str, str], Any]] = {}

    @cached_property
    def reference(self) -> OpenAPI:
        """openapi-core over the contract, without its security requirements.

        Authentication is the HTTP layer's job; left in, a request without an API key would stop
        openapi-core before it looks at the parameters and the body.
        """
        return core_openapi({**self.contract.document, "security": []})

    def check(self, operation: Operation, request: IncomingRequest) -> Validated:
        """Decode and judge `request`; decoding failures raise, contract violations are returned."""
        sent, body, aliases, violations = self._decoded(operation, request)
        if not violations and not self.strict:
            query = self.fast.accept(operation, request.query, request.path_params, request.headers, body)
            if query is not None:
                body, violations = self._normalised(operation, body)
                valid = ValidRequest(operation, dict(request.path_params), query, body, tuple(aliases))
                return Validated(valid, tuple(violations), sent)
            explained = self._body_violations(operation, request, body)
            if explained is None:
                explained = self._parameter_violations(operation, request, body)
            if explained is not None:
                query, found = explained
                valid = ValidRequest(operation, dict(request.path_params), query, body, tuple(aliases))
                return Validated(valid, tuple(found), sent)
        result = self.reference.unmarshal_request(CoreRequest(request, body))
        violations.extend(v for error in result.errors for v in _violations_of(error))
        query = dict(result.parameters.query) if result.parameters else {}
        if not violations:
            body, violations = self._normalised(operation, body)
        valid = ValidRequest(operation, dict(request.path_params), query, body, tuple(aliases))
        return Validated(valid, tuple(violations), sent)

    def _body_violations(
        self, operation: Operation, request: IncomingRequest, body: dict[str, Any] | None
    ) -> tuple[dict[str, Any], list[Violation]] | None:
        """The decoded query and the body's violations, for a request the fast path refused whose
        parameters pass: the reference's body validator, built once per operation, explains the body
        in under a millisecond, where the whole reference (finding the path again, building its
        validators, unmarshalling) takes milliseconds. None when the parameters fail too, or the
        reference finds the body sound: then the whole reference judges."""
        if body is None or operation.body_schema is None:
            return None
        query = self.fast.accept_parameters(operation, request.query, request.path_params, request.headers)
        validator = self._body_validator(operation) if query is not None else None
        if query is None or validator is None:
            return None
        from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

        try:
            validator.validate(body)
        except InvalidSchemaValue as invalid:
            found = from_schema_errors(invalid.schema_errors, "body")
            return (query, found) if found else None
        return None

    def _parameter_violations(
        self, operation: Operation, request: IncomingRequest, body: dict[str, Any] | None
    ) -> tuple[dict[str, Any], list[Violation]] | None:
        """The decoded query and the violations of a request without a body whose parameters the
        fast path refused: the reference judges only the parameters in doubt, with the very code
        it runs for each parameter of a whole request (its words), where the whole reference walks
        every parameter of the operation (an analytics graph has 25: about 5 ms a refusal). None
        when the reference finds them sound: then the whole reference judges."""
        if body is not None or operation.body_required:
            return None
        judged = self.fast.judge_parameters(operation, request.query, request.path_params, request.headers)
        if judged is None or not judged[1]:
            return None
        query, unsure = judged
        from openapi_core.validation.request.exceptions import ParameterValidationError

        judge: Any = self.reference.request_unmarshaller  # typed as a protocol; its class has these
        sent = CoreRequest(request, None).parameters
        found: list[Violation] = []
        for key, parameter in self._parameter_specs(operation).items():
            if key in unsure:
                try:
                    judge._get_parameter(sent, parameter)
                except ParameterValidationError as error:
                    found.extend(_violations_of(error))
        return (query, found) if found else None

    def _parameter_specs(self, operation: Operation) -> dict[tuple[str, str], Any]:
        """The operation's parameters in the reference, in the order it judges them: the
        operation's own, then its path's not overridden."""
        specs = self._parameter_paths.get(operation.operation_id)
        if specs is None:
            core: Any = self.reference.request_unmarshaller
            item = core.spec / "paths" / operation.template
            specs = {}
            for parameters in (item / operation.method.lower() / "parameters", item / "parameters"):
                for parameter in parameters if parameters.exists() else ():
                    key = ((parameter / "in").read_str(), (parameter / "name").read_str())
                    specs.setdefault(key, parameter)
            self._parameter_paths[operation.operation_id] = specs
        return specs

    def _body_validator(self, operation: Operation) -> Any:
        """openapi-core's validator of `operation`'s JSON body, as its request validator builds it
        for every request, built here once."""
        if operation.operation_id in self._body_validators:
            return self._body_validators[operation.operation_id]
        core: Any = self.reference.request_validator  # typed as a protocol; the validator class has these
        schema = core.spec / "paths" / operation.template / operation.method.lower() / "requestBody"
        schema = schema / "content" / "application/json" / "schema"
        made = None
        if schema.exists():  # a body of another media type: the whole reference judges it
            made = core.schema_validators_factory.create(
                core.spec,
                schema,
                format_validators=core.format_validators,
                extra_format_validators=core.extra_format_validators,
                forbid_unspecified_additional_properties=core.forbid_unspecified_additional_properties,
                enforce_properties_required=core.enforce_properties_required,
            )
        self._body_validators[operation.operation_id] = made
        return made

    def accepts(self, operation: Operation, request: IncomingRequest) -> bool:
        """Whether `request` keeps to the contract, without the reference's explanation of why not:
        for a generator sorting its bodies, where `check` spends milliseconds on each refusal."""
        try:
            _, body, _, violations = self._decoded(operation, request)
        except ApiError:
            return False
        if violations:
            return False
        if self.strict or not self.fast.judges(operation):
            return not self.check(operation, request).violations
        query = self.fast.accept(operation, request.query, request.path_params, request.headers, body)
        return query is not None

    def _decoded(
        self, operation: Operation, request: IncomingRequest
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[tuple[str, str]], list[Violation]]:
        """The body as sent and as normalised, the other spellings used, and the violations found
        before the schema is consulted (spellings, prose rules, parts required one of)."""
        has_body = operation.has_body and (operation.body_required or bool(request.body))
        sent = body = self._decode_body(operation, request) if has_body else None
        violations = missing_parts(operation.requires_one_of, request.query, bool(request.body))
        aliases: list[tuple[str, str]] = []
        if body is not None:
            body, aliases, alias_violations = normalise_spellings(operation, body)
            violations.extend(alias_violations)
            violations.extend(rule_violations(body, operation.field_providers))
        if operation.required_when:
            violations.extend(conditional_violations(operation.required_when, request.path_params, body))
        return sent, body, aliases, violations

    def _normalised(
        self, operation: Operation, body: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, list[Violation]]:
        """A valid body as it is kept: whole numbers where the contract types an integer, date-times
        in one form (`date_times`); a date-time that form cannot write is a violation."""
        if body is None or operation.body_schema is None:
            return body, []
        if _has_float(body):  # the common case skips this: walking the schema costs tens of µs
            body = whole_numbers_as_integers(operation.body_schema, body, self.contract.resolve)
        paths = self._date_time_paths.get(operation.operation_id)
        if paths is None:
            paths = date_times.date_time_paths(operation.body_schema, self.contract.resolve)
            self._date_time_paths[operation.operation_id] = paths
        return date_times.normalised(body, paths) if paths else (body, [])

    def _decode_body(self, operation: Operation, request: IncomingRequest) -> dict[str, Any]:
        if len(request.body) > self.max_body_bytes:
            raise PayloadTooLarge(self.max_body_bytes)
        if not request.body:
            raise ValidationFailed(
                [Violation("body", f"is required: {operation.operation_id} takes a JSON object")]
            )
        _require_json_media_type(request.content_type)
        return decode_json_object(request.body)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name: directly (the mock's header views ignore case), else by a
    scan (plain dicts from recorded traffic keep the sender's case)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _require_json_media_type(content_type: str | None) -> None:
    if not content_type:
        raise UnsupportedMediaType("header.Content-Type: is required and must be application/json")
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        raise UnsupportedMediaType("header.Content-Type: must be application/json")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            raise UnsupportedMediaType("header.Content-Type: charset must be utf-8")


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON decoding (`strict_json`): UTF-8 (a leading BOM is tolerated), no duplicate keys,
    no NaN, Infinity or number out of range, nesting at most `strict_json.MAX_DEPTH`, an object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([Violation("body", f"is not valid UTF-8 (byte {exc.start})")]) from None
    text = text.removeprefix("\ufeff")
    try:
        value = strict_json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKey as exc:
        raise ValidationFailed([Violation(f"body.{exc.name}", "appears more than once")]) from None
    except json.JSONDecodeError as exc:
        rule = f"is not valid JSON ({exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno})"
        raise ValidationFailed([Violation("body", rule)]) from None
    except strict_json.TooDeep:
        raise ValidationFailed([Violation("body", strict_json.TOO_DEEP)]) from None
    except strict_json.OddNumbers as odd:
        raise ValidationFailed(odd.violations) from None
    if not isinstance(value, dict):
        raise ValidationFailed([Violation("body", "must be a JSON object")])
    return value


class _DuplicateKey(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _DuplicateKey(name)
        result[name] = value
    return result


def normalise_spellings(
    operation: Operation, body: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]], list[Violation]]:
    """Rename top-level fields spelled another way (the Node SDK's snake_case, an SDK's plural) to the
    contract's name."""
    if not operation.aliases or not any(name in operation.aliases for name in body):
        return body, [], []
    normalised: dict[str, Any] = {}
    used: list[tuple[str, str]] = []
    violations: list[Violation] = []
    for name, value in body.items():
        canonical = operation.aliases.get(name)
        if canonical is None:
            normalised[name] = value
        elif canonical in body:
            violations.append(Violation(f"body.{name}", f"is sent together with body.{canonical}; send one"))
        else:
            normalised[canonical] = value
            used.append((name, canonical))
    return normalised, used, violations


def whole_numbers_as_integers(schema: Any, value: Any, resolve: Callable[[Any], Any]) -> Any:
    """`value` with each whole-number float (`60.0`) where `schema` types an integer made an int.

    JSON Schema counts `60.0` as an integer, so the contract takes it; the service stores and
    answers the integer, as a JavaScript runtime would.
    """
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return value
    if isinstance(value, float) and value.is_integer() and _allows(schema, "integer"):
        return int(value)
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        value = {
            name: whole_numbers_as_integers(properties[name], inner, resolve) if name in properties else inner
            for name, inner in value.items()
        }
    elif isinstance(value, list) and "items" in schema:
        value = [whole_numbers_as_integers(schema["items"], inner, resolve) for inner in value]
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, ()):
            value = whole_numbers_as_integers(branch, value, resolve)
    return value


def _has_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_float(inner) for inner in value.values())
    if isinstance(value, list):
        return any(_has_float(inner) for inner in value)
    return isinstance(value, float)


def _allows(schema: dict[str, Any], kind: str) -> bool:
    declared = schema.get("type")
    return declared == kind or (isinstance(declared, list) and kind in declared)


def _violations_of(error: Exception) -> list[Violation]:
    from openapi_core.casting.schemas.exceptions import CastError
    from openapi_core.deserializing.styles.exceptions import EmptyQueryParameterValue
    from openapi_core.validation.request.exceptions import (
        InvalidRequestBody,
        MissingParameterError,
        MissingRequestBodyError,
        ParameterValidationError,
        SecurityValidationError,
    )
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

    if isinstance(error, SecurityValidationError):
        return []  # authentication is the HTTP layer's job, before validation
    if isinstance(error, InvalidRequestBody):
        cause = error.__cause__
        if isinstance(cause, InvalidSchemaValue):
            return from_schema_errors(cause.schema_errors, "body")
        return [Violation("body", "does not match the contract")]
    if isinstance(error, MissingRequestBodyError):
        return [Violation("body", "is required")]
    if isinstance(error, ParameterValidationError):
        where = f"{error.location}.{error.name}"
        if isinstance(error, MissingParameterError):
            return [Violation(where, "is required")]
        cause = error.__cause__
        if isinstance(cause, InvalidSchemaValue):
            return from_schema_errors(cause.schema_errors, where)
        if isinstance(cause, CastError):
            return [Violation(where, f"must be of type {cause.type}")]
        if isinstance(cause, EmptyQueryParameterValue):
            return [Violation(where, "must not be empty")]  # OpenAPI: no `allowEmptyValue`
        return [Violation(where, "does not match the contract")]
    return [Violation("request", "does not match the contract")]


class CoreRequest:
    """openapi-core's request protocol over an `IncomingRequest` and its normalised body."""

    def __init__(self, request: IncomingRequest, body: dict[str, Any] | None) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self._request = request
        self._body = json.dumps(body).encode() if body is not None else None
        self.parameters = RequestParameters(
            path=dict(request.path_params),
            query=ImmutableMultiDict([(k, v) for k, vs in request.query.items() for v in vs]),
            header=Headers(list(request.headers.items())),
        )

    host_url = "http://localhost"

    @property
    def path(self) -> str:
        # openapi-core resolves `..` segments like a URL, which would move a `..` slug off its path.
        segments = self._request.path.split("/")
        return "/".join(s.replace(".", "%2E") if s and not s.strip(".") else s for s in segments)

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._body

    @property
    def content_type(self) -> str:
        return "application/json" if self._body is not None else ""
