"""The contract's verdict on one request: its operation, its violations, and warnings for the careful.

The mock, its journal, the validating proxy and `contracts check-traffic` all judge requests here,
with the mock's own `RequestValidator`, so none of them can disagree on what the contract allows.
Warnings name what the contract accepts but a careful client should know about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from mockserver.contract import strict_json
from mockserver.contract.document import Contract, Operation, snake_case
from mockserver.contract.validation import IncomingRequest, RequestValidator, Validated, ValidRequest, header
from mockserver.errors import ApiError, ValidationFailed
from mockserver.violations import Violation, location


@dataclass(frozen=True, kw_only=True)
class RequestVerdict:
    """What the contract says about one request; `validated` and `error` let the mock carry on."""

    operation: str | None
    nearest_operation: str | None
    violations: tuple[Violation, ...]
    warnings: tuple[Violation, ...]
    body: Any
    """The JSON body as the client sent it (spelling not normalised), or None if none could be read."""
    bare_query: bool
    validated: Validated | None = None
    error: ApiError | None = None
    """A decoding failure (bad JSON, media type, size): the mock answers with it."""

    @property
    def conforms(self) -> bool:
        return not self.violations

    def refused_by(self, violations: Iterable[Violation]) -> RequestVerdict:
        """This verdict once the domain refused the request for a rule the contract states but a
        schema cannot check (`x-portkey-state-rule`): the journal calls it a violation too."""
        found = tuple(v for v in violations if v not in self.violations)
        return replace(self, violations=self.violations + found) if found else self

    def accepted(self) -> ValidRequest:
        """The request as the domain takes it; raises the error the mock answers a refusal with."""
        if self.error is not None:
            raise self.error
        assert self.validated is not None  # no decoding error, so the validator judged it
        if self.validated.violations:
            raise ValidationFailed(list(self.validated.violations))
        return self.validated.request


class RequestJudge:
    """Judges requests against one contract; built once, used for every request."""

    def __init__(self, contract: Contract, validator: RequestValidator | None = None) -> None:
        self.contract = contract
        self.validator = validator or RequestValidator(contract, max_body_bytes=2**62)
        self.api_key_headers = contract.api_key_headers

    def judge(
        self, request: IncomingRequest, *, bare_query: bool = False, operation: Operation | None = None
    ) -> RequestVerdict:
        """The verdict on `request`; `bare_query` says the URL ended in a `?` with nothing after it.

        `operation`, when the caller has routed the request already, saves finding it again.
        """
        operation = operation or self.contract.operation_for(request.method, request.path)
        if operation is None:
            body = sent_body(request.body)
            nearest = self.contract.nearest_operation(request.method, request.path)
            unknown = f"{request.method.upper()} {request.path} is not an operation of the contract"
            return RequestVerdict(
                operation=None,
                nearest_operation=nearest.operation_id if nearest else None,
                violations=(Violation("request", unknown),),
                warnings=(),
                body=body,
                bare_query=bare_query,
            )
        if not request.path_params and "{" in operation.path:  # a path without parameters has none to find
            request = replace(request, path_params=operation.path_params(request.path) or {})
        violations = [] if operation.public else self._missing_api_key(request)
        validated: Validated | None = None
        error: ApiError | None = None
        try:
            validated = self.validator.check(operation, request)
            violations += validated.violations
            body = validated.sent_body if operation.has_body else sent_body(request.body)
        except ValidationFailed as failed:
            error = failed
            body = sent_body(request.body)
            violations += failed.violations
        except ApiError as failed:
            error = failed
            body = sent_body(request.body) if failed.status != 413 else None
            where, _, rule = failed.message.partition(": ")
            violations.append(Violation(where, rule) if rule else Violation("request", failed.message))
        warnings = _warnings(validated, body, bare_query, violations)
        if validated is not None:
            warnings += self.validator.fast.warnings(operation, validated.request.body)
        return RequestVerdict(
            operation=operation.operation_id,
            nearest_operation=None,
            violations=tuple(violations),
            warnings=tuple(warnings),
            body=body,
            bare_query=bare_query,
            validated=validated,
            error=error,
        )

    def _missing_api_key(self, request: IncomingRequest) -> list[Violation]:
        return [
            Violation(f"header.{name}", "is required")
            for name in self.api_key_headers
            if not header(request.headers, name)
        ]


def sent_body(raw: bytes) -> Any:
    """The body as JSON if it is JSON, else None (undecodable bodies are never kept or echoed); a
    number strict JSON has no room for (NaN, Infinity, 1e400) is kept as the text it was sent as."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
    return strict_json.readable(text)


def _warnings(
    validated: Validated | None, body: Any, bare_query: bool, violations: list[Violation]
) -> list[Violation]:
    warnings = []
    if validated is not None:
        for spelled, canonical in validated.request.aliases_used:
            form = "in snake_case" if snake_case(canonical) == spelled else "another way"
            rule = f"is spelled {form}; the contract names it {canonical} (accepted as an alias)"
            warnings.append(Violation(f"body.{spelled}", rule))
    if bare_query:
        warnings.append(Violation("query", "is a bare '?' with no parameters after it"))
    violated = {v.location for v in violations}
    for where in _null_fields(body, "body"):
        if where not in violated:
            rule = "is null: allowed here, but an optional field can be left out unless you mean to clear it"
            warnings.append(Violation(where, rule))
    return warnings


def _null_fields(value: Any, where: str) -> Iterable[str]:
    if isinstance(value, dict):
        for name, inner in value.items():
            if inner is None:
                yield location(where, [name])
            else:
                yield from _null_fields(inner, location(where, [name]))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _null_fields(inner, location(where, [index]))
