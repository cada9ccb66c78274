"""What a parity run created on the service, and removing it afterwards.

Every create the run sends carries the run's mark in its `name` (`parity-<run id> openai`), so
what it made is recognisable on the service; whatever the recorded script did not delete itself is
deleted at the end with the contract's delete operation for it, and what could not be is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.contract.document import Contract

Send = Callable[[dict[str, Any]], tuple[int, Any]]


def marked(request: dict[str, Any], mark: str) -> dict[str, Any]:
    """A create request with the run's mark in front of its name."""
    body = request.get("body")
    if request["method"] != "POST" or not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return request
    return {**request, "body": {**body, "name": f"{mark} {body['name']}"}}


def unmarked(value: Any, mark: str) -> Any:
    """A live answer without the run's mark in names, as the recording's service never saw it (slugs
    made from a marked name are made values, paired like any other)."""
    if isinstance(value, str):
        return value.replace(f"{mark} ", "")
    if isinstance(value, dict):
        return {name: unmarked(inner, mark) for name, inner in value.items()}
    if isinstance(value, list):
        return [unmarked(inner, mark) for inner in value]
    return value


class Created:
    """The resources this run created and has not seen deleted, by the path that deletes each."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.left: dict[str, dict[str, str]] = {}  # path -> the headers of its create

    def note(self, request: dict[str, Any], status: int, body: Any) -> None:
        if not 200 <= status < 300:
            return
        if request["method"] == "DELETE":
            self.left.pop(request["path"], None)
            return
        ref = _created_ref(body) if request["method"] == "POST" else None
        path = f"{request['path'].rstrip('/')}/{ref}" if ref else None
        if path and self._deletable(path):
            self.left[path] = request["headers"]

    def remove(self, send: Send) -> tuple[list[str], list[str]]:
        """Delete what is left; the paths removed and those that could not be."""
        removed: list[str] = []
        failed: list[str] = []
        for path, headers in list(self.left.items()):
            status, _ = send(
                {"method": "DELETE", "path": path, "query": {}, "headers": headers, "body": None}
            )
            (removed if 200 <= status < 300 or status == 404 else failed).append(path)
            self.left.pop(path)
        return removed, failed

    def _deletable(self, path: str) -> bool:
        return self.contract.operation_for("delete", path) is not None


def _created_ref(body: Any) -> str | None:
    """The slug (or id) a create answered with, wherever the service puts it."""
    if not isinstance(body, dict):
        return None
    inner = body.get("data")
    data: dict[str, Any] = inner if isinstance(inner, dict) else body
    for name in ("slug", "id"):
        if isinstance(data.get(name), str):
            return str(data[name])
    return None
