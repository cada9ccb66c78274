"""Errors of the API as values, each carrying Portkey's HTTP status and error code.

They are mapped to Portkey's envelope `{"success": false, "data": {"message", "errorCode"}}` in one
place (`envelope`). Messages never contain a request value: only field names and rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockserver.violations import Violation

ERROR_CODES = {
    400: "AB01",
    401: "AB05",
    402: "AB09",
    403: "AB03",
    404: "AB08",
    405: "AB01",
    409: "AB07",
    413: "AB01",
    415: "AB01",
    429: "AB06",
}
"""Portkey's `errorCode` for each client-error status it answers with; every 5xx is AB04."""


def error_code(status: int) -> str | None:
    """Portkey's `errorCode` for `status`: from the table, AB04 for any 5xx, else None."""
    return ERROR_CODES.get(status, "AB04" if status >= 500 else None)


@dataclass
class ApiError(Exception):
    """An error the API answers with; subclasses fix the status and code."""

    message: str
    status: int = 500
    code: str | None = "AB04"
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    """The body to answer in place of Portkey's envelope, for a service that answers its own shape
    (the model pricing API's `{"error": ...}`)."""

    @classmethod
    def for_status(cls, message: str, status: int, headers: dict[str, str] | None = None) -> ApiError:
        """An error with Portkey's code for `status` (AB01 for a 4xx the table does not name)."""
        return cls(message, status, error_code(status) or "AB01", headers or {})

    def __str__(self) -> str:
        return self.message


class Unauthorised(ApiError):
    def __init__(self, message: str = "Unauthorised Request") -> None:
        super().__init__(message, 401, ERROR_CODES[401])


class Forbidden(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 403, ERROR_CODES[403])


class NotFound(ApiError):
    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message, status, ERROR_CODES[status])


class BodyRefused(ApiError):
    """A request body the server stopped reading: too large, cut short, or too slow to arrive."""


class PayloadTooLarge(BodyRefused):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body: larger than the limit of {limit} bytes", 413, ERROR_CODES[413])


class IncompleteBody(BodyRefused):
    """The client ended its side before the body did (short of its Content-Length, or chunked
    without its last chunk): what arrived is not what was sent, so it is never processed."""

    def __init__(self) -> None:
        super().__init__("body: ended before it was complete", 400, ERROR_CODES[400])


class BodyTimeout(BodyRefused):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"body: not received within {seconds:g} s", 408, error_code(408) or "AB01")


class UnsupportedMediaType(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 415, ERROR_CODES[415])


class ValidationFailed(ApiError):
    """The request broke the contract or a domain rule; carries every violation found."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__("; ".join(str(v) for v in violations), 400, ERROR_CODES[400])


def no_such_route(allowed: list[str]) -> ApiError:
    """A path no operation serves (404), or serves with other methods only (405, naming them)."""
    if allowed:
        return ApiError.for_status("Method not allowed on this endpoint", 405, {"Allow": ", ".join(allowed)})
    return ApiError.for_status("No such endpoint", 404)


def envelope(error: ApiError) -> dict[str, Any]:
    """Portkey's error body for `error` (or the body it carries of its own)."""
    if error.body is not None:
        return error.body
    data: dict[str, Any] = {"message": error.message}
    if error.code:
        data["errorCode"] = error.code
    return {"success": False, "data": data}
