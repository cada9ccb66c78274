"""An exchange (a request and the answer it got) and judging it: did the client keep to the
contract, did the service?

Traffic from any source (an httpx hook, the mock's journal, a HAR file, the proxy) becomes an
`Exchange`, so it is judged the same way. Its request half is an `IncomingRequest`, judged by the
mock's own `RequestJudge`, so the toolkit and the mock never disagree on what the contract allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import (
    HeaderValidationError,
    InvalidData,
    MissingData,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers

from mockserver.contract.document import Contract
from mockserver.contract.validation import CoreRequest, IncomingRequest, decode_json_object, header
from mockserver.contract.verdict import RequestJudge, RequestVerdict
from mockserver.errors import ValidationFailed
from mockserver.violations import Violation, from_schema_errors


@dataclass(frozen=True)
class Exchange:
    """One request and the response it got, as bytes and headers."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: bytes = b""
    status: int = 0
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    @classmethod
    def from_httpx(cls, response: httpx.Response) -> Exchange:
        request = response.request
        url = urlsplit(str(request.url))
        return cls(
            method=request.method,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            request_headers=dict(request.headers),
            request_body=request.content,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.read(),
        )

    @property
    def request(self) -> IncomingRequest:
        """The request half, as the contract's judge reads requests."""
        return IncomingRequest(
            method=self.method,
            path=self.path,
            query=self.query,
            headers=self.request_headers,
            body=self.request_body,
            content_type=header(self.request_headers, "content-type"),
        )

    def describe(self) -> str:
        return f"{self.method.upper()} {self.path} -> {self.status}"


class ContractChecker:
    """Checks exchanges against one contract (the project's own by default)."""

    def __init__(self, contract: Contract | None = None) -> None:
        self.contract = contract or Contract.load()
        self._judge = RequestJudge(self.contract)

    def judge_request(self, exchange: Exchange) -> RequestVerdict:
        """The verdict on the request: the same judge as the mock's and the journal's."""
        return self._judge.judge(exchange.request)

    def check_request(self, exchange: Exchange) -> list[Violation]:
        """What the request did that the contract does not allow (empty: it conforms)."""
        return list(self.judge_request(exchange).violations)

    def check_response(self, exchange: Exchange) -> list[Violation]:
        """What the response did that the contract does not allow (empty: it conforms)."""
        content_type = header(exchange.response_headers, "content-type") or ""
        violations = []
        if not content_type.lower().startswith("application/json"):
            violations.append(Violation("response.header.Content-Type", "must be application/json"))
        try:
            body = decode_json_object(exchange.response_body)
        except ValidationFailed:
            return [*violations, Violation("response.body", "must be a JSON object")]
        incoming = IncomingRequest(method=exchange.method, path=exchange.path, query=exchange.query)
        core_request = CoreRequest(incoming, None)
        result = self.contract.openapi.unmarshal_response(core_request, _CoreResponse(exchange, body))
        for error in result.errors:
            violations.extend(_response_violations(error, exchange.status))
        return violations


def _response_violations(error: Exception, status: int) -> list[Violation]:
    if isinstance(error, ResponseNotFound):
        return [Violation("response.status", f"{status} is not a status the contract declares here")]
    if isinstance(error, PathError):
        return [Violation("request", "is not an operation of the contract")]
    if isinstance(error, MediaTypeNotFound):
        return [Violation("response.header.Content-Type", "is not a media type the contract declares")]
    if isinstance(error, InvalidData) and isinstance(error.__cause__, InvalidSchemaValue):
        return from_schema_errors(error.__cause__.schema_errors, "response.body")
    if isinstance(error, MissingData):
        return [Violation("response.body", "is required")]
    if isinstance(error, HeaderValidationError):
        return [Violation(f"response.header.{getattr(error, 'name', '')}", "does not match the contract")]
    return [Violation("response", "does not match the contract")]


class _CoreResponse:
    """openapi-core's response protocol over an `Exchange` (body re-encoded after strict decoding)."""

    def __init__(self, exchange: Exchange, body: object) -> None:
        self.status_code = exchange.status
        self.headers = Headers(list(exchange.response_headers.items()))
        self.content_type = "application/json"
        self.data = json.dumps(body).encode()
