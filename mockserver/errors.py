"""Errors of the API as values, each carrying Portkey's HTTP status and error code.

They are mapped to Portkey's envelope `{"success": false, "data": {"message", "errorCode"}}` in one
place (`envelope`). Messages never contain a request value: only field names and rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockserver.violations import Violation


@dataclass
class ApiError(Exception):
    """An error the API answers with; subclasses fix the status and code."""

    message: str
    status: int = 500
    code: str | None = "AB04"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class Unauthorised(ApiError):
    def __init__(self, message: str = "Unauthorised Request") -> None:
        super().__init__(message, 401, "AB05")


class Forbidden(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 403, "AB03")


class NotFound(ApiError):
    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message, status, "AB08" if status == 404 else "AB03")


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body: larger than the limit of {limit} bytes", 413, "AB01")


class UnsupportedMediaType(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 415, "AB01")


class ValidationFailed(ApiError):
    """The request broke the contract or a domain rule; carries every violation found."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__("; ".join(str(v) for v in violations), 400, "AB01")


def envelope(error: ApiError) -> dict[str, Any]:
    """Portkey's error body for `error`."""
    data: dict[str, Any] = {"message": error.message}
    if error.code:
        data["errorCode"] = error.code
    return {"success": False, "data": data}
