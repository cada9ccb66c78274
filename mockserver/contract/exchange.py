"""An exchange (a request and the answer it got) and judging it: did the client keep to the
contract, did the service?

Traffic from any source (an httpx or requests response, a HAR entry, the mock's journal, the
proxy) becomes an `Exchange`, and `ExchangeJudge.judge` gives every one of them the same
`ExchangeVerdict`. The request half is an `IncomingRequest`, judged by the mock's own
`RequestJudge`, so the toolkit and the mock never disagree on what the contract allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from mockserver.contract.compiled import FastValidator
from mockserver.contract.document import Contract, Operation
from mockserver.contract.validation import CoreRequest, IncomingRequest, decode_json_object, header
from mockserver.contract.verdict import RequestJudge, RequestVerdict
from mockserver.errors import ValidationFailed
from mockserver.violations import Violation, from_schema_errors

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the answer it got.

    `status` 0: no answer was recorded. `response_body` None: the source kept no response body (a
    journal keeps the status only), so the response cannot be judged.
    """

    request: IncomingRequest
    status: int = 0
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes | None = None
    bare_query: bool = False
    """The URL ended in a `?` with nothing after it."""
    request_body_kept: bool = True
    """False when a body was sent but the source did not keep it (a journal keeps JSON bodies only)."""

    @classmethod
    def from_url(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        *,
        status: int = 0,
        response_headers: Mapping[str, str] | None = None,
        response_body: bytes | None = None,
        content_type: str | None = None,
    ) -> Exchange:
        """An exchange whose request is known by its URL (absolute, or a path with a query)."""
        parts = urlsplit(url)
        headers = dict(headers or {})
        request = IncomingRequest(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
            content_type=header(headers, "content-type") or content_type,
        )
        bare = url.endswith("?") and not parts.query
        return cls(request, status, dict(response_headers or {}), response_body, bare)

    @classmethod
    def from_httpx(cls, response: httpx.Response) -> Exchange:
        """An httpx response with its request (read the response first)."""
        request = response.request
        return cls.from_url(
            request.method,
            str(request.url),
            dict(request.headers),
            request.content,
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.read(),
        )

    @classmethod
    def from_requests(cls, response: Any) -> Exchange:
        """A `requests` response (as schemathesis hands them over) with its prepared request; header
        values given as lists are joined as HTTP joins them."""
        request = response.request
        body = request.body or b""
        return cls.from_url(
            request.method,
            request.url,
            dict(request.headers),
            body.encode() if isinstance(body, str) else body,
            status=response.status_code,
            response_headers={
                name: ", ".join(value) if isinstance(value, list) else value
                for name, value in response.headers.items()
            },
            response_body=response.content,
        )

    @classmethod
    def from_har(cls, entry: Mapping[str, Any]) -> Exchange:
        """One entry of a HAR file; its response is judged when the file kept the body's text."""
        har_request, har_response = entry["request"], entry.get("response") or {}
        post = har_request.get("postData") or {}
        content = har_response.get("content") or {}
        status = har_response.get("status")
        return cls.from_url(
            har_request["method"],
            har_request["url"],
            {h["name"].lower(): h["value"] for h in har_request.get("headers", [])},
            post.get("text", "").encode(),
            content_type=post.get("mimeType"),
            status=status if isinstance(status, int) else 0,
            response_headers={h["name"]: h["value"] for h in har_response.get("headers", [])},
            response_body=content["text"].encode() if status and "text" in content else None,
        )

    @classmethod
    def from_journal(cls, entry: Mapping[str, Any]) -> Exchange:
        """One entry of a mock's or proxy's journal: the request as kept (secrets masked), the status,
        and the upstream's answer when a proxy kept it."""
        headers = dict(entry.get("headers") or {})
        body = entry.get("body")
        request = IncomingRequest(
            method=entry["method"],
            path=entry["path"],
            query=entry.get("query") or {},
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            content_type=headers.get("content-type"),
        )
        status = entry.get("status")
        answer = entry.get("response") or {}  # a proxy's entry keeps the upstream's answer
        kept = answer.get("text", "").encode() if "text" in answer else None
        if answer.get("body") is not None:
            kept = json.dumps(answer["body"]).encode()
        return cls(
            request,
            status=status if isinstance(status, int) else 0,
            response_headers=dict(answer.get("headers") or {}),
            response_body=kept if answer else None,
            bare_query=bool(entry.get("bare_query")),
            request_body_kept=body is not None or not entry.get("body_bytes"),
        )

    @classmethod
    def from_proxy(cls, sent: IncomingRequest, answer: httpx.Response, *, bare_query: bool) -> Exchange:
        """A request the proxy read from its client and the upstream's answer to it."""
        return cls(sent, answer.status_code, dict(answer.headers), answer.content, bare_query)

    def describe(self) -> str:
        return f"{self.request.method.upper()} {self.request.path} -> {self.status}"


@dataclass(frozen=True, slots=True)
class ExchangeVerdict:
    """What the contract says about one exchange: the verdict on its request, and what its response
    broke (None: the response was not judged: none recorded, or the request named no operation)."""

    exchange: Exchange
    request_verdict: RequestVerdict
    response_violations: tuple[Violation, ...] | None = None

    @property
    def client_conforms(self) -> bool:
        """The client kept to the contract (the request)."""
        return self.request_verdict.conforms

    @property
    def service_conforms(self) -> bool:
        """The service kept to the contract (the response), as far as it was judged."""
        return not self.response_violations

    @property
    def conforms(self) -> bool:
        return self.client_conforms and self.service_conforms

    def __str__(self) -> str:
        lines = [self.exchange.describe()]
        lines += [f"  request  {v}" for v in self.request_verdict.violations]
        lines += [f"  response {v}" for v in self.response_violations or ()]
        return "\n".join(lines)


class ExchangeJudge:
    """Judges exchanges against one contract (the project's own by default); built once.

    An answer is judged by the compiled response schemas first (`FastValidator.accepts_response`,
    microseconds); only one they do not accept goes to openapi-core, the reference, which explains
    it. `strict` sends every answer to the reference.
    """

    def __init__(self, contract: Contract | None = None, *, strict: bool = False) -> None:
        self.contract = contract or Contract.load()
        self.requests = RequestJudge(self.contract)
        self.strict = strict
        self._fast = FastValidator.of(self.contract)

    def judge(self, exchange: Exchange) -> ExchangeVerdict:
        """The verdict on both halves: the request as the mock judges it, the response if recorded."""
        verdict = self.requests.judge(exchange.request, bare_query=exchange.bare_query)
        if not exchange.request_body_kept:  # judged without its body: what was said of the body is moot
            kept = tuple(v for v in verdict.violations if v.location != "body")
            lost = Violation("body", "was not kept by the journal (not JSON, or over the size limit)")
            verdict = replace(verdict, violations=(*kept, lost))
        response_violations = None
        if verdict.operation is not None and exchange.status and exchange.response_body is not None:
            response_violations = tuple(
                self._response_violations(
                    exchange, self.contract.operations[verdict.operation], exchange.response_body
                )
            )
        return ExchangeVerdict(exchange, verdict, response_violations)

    def judge_response(self, exchange: Exchange) -> tuple[Violation, ...] | None:
        """The verdict on the answer alone (None if it is not one of the contract's, or not recorded).

        For a caller that has no use for the request's verdict: a request the compiled validators
        refuse would be explained by openapi-core, whose reference takes seconds to build."""
        operation = self.contract.operation_for(exchange.request.method, exchange.request.path)
        if operation is None or not exchange.status or exchange.response_body is None:
            return None
        return tuple(self._response_violations(exchange, operation, exchange.response_body))

    def _response_violations(self, exchange: Exchange, operation: Operation, raw: bytes) -> list[Violation]:
        content_type = header(exchange.response_headers, "content-type") or ""
        violations = []
        if not content_type.lower().startswith("application/json"):
            violations.append(Violation("response.header.Content-Type", "must be application/json"))
        try:
            body = decode_json_object(raw)
        except ValidationFailed:
            return [*violations, Violation("response.body", "must be a JSON object")]
        if not self.strict and self._fast.accepts_response(operation, exchange.status, body):
            return violations
        sent = exchange.request
        core_request = CoreRequest(
            IncomingRequest(method=sent.method, path=sent.path, query=sent.query), None
        )
        result = self.contract.openapi.unmarshal_response(core_request, _CoreResponse(exchange, body))
        for error in result.errors:
            violations.extend(_response_violations(error, exchange.status))
        return violations


def _response_violations(error: Exception, status: int) -> list[Violation]:
    # openapi-core is imported where it is used (a quarter of a second): the mock's start-up never needs it.
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
    from openapi_core.templating.paths.exceptions import PathError
    from openapi_core.templating.responses.exceptions import ResponseNotFound
    from openapi_core.validation.response.exceptions import HeaderValidationError, InvalidData, MissingData
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

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
        from werkzeug.datastructures import Headers  # with openapi-core, only for the reference's words

        self.status_code = exchange.status
        self.headers = Headers(list(exchange.response_headers.items()))
        self.content_type = "application/json"
        self.data = json.dumps(body).encode()
