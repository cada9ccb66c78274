"""Deliberately broken variants of the mock, each with one defect `contracts verify` must catch.

The mock's own code is untouched: a variant wraps the WSGI app (rewriting requests or responses)
or hands `create_app` a store that misbehaves.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mockserver import create_app
from mockserver.config import MockConfig
from mockserver.contract.document import Contract
from mockserver.state.records import MemoryStore
from mockserver.state.records.base import Conflict, Insert, Record, Update

WsgiApp = Callable[..., Iterable[bytes]]
Rewrite = Callable[[str, str, dict[str, Any], int, Any], tuple[int, Any]]
"""(method, path, request body, status, response body) -> (status, response body)."""

RETRIEVE = re.compile(r"^/v1/virtual-keys/[^/]+$")
LIST = "/v1/virtual-keys"
DECLARED_ITEMS = re.compile(
    "|".join(
        "^" + re.sub(r"\{[^}]+\}", "[^/]+", Contract.load().operations[r.operations["retrieve"]].path) + "$"
        for r in Contract.load().resources
        if "retrieve" in r.operations
    )
)
"""The item paths of every resource the contract declares (`/v1/configs/[^/]+`, ...)."""
LOG_ITEM = re.compile(r"^/v1/logs/(?!exports$)[^/]+$")
"""A log by id (`GET /logs/{logId}`), not the exports' list beside it."""


def rewriting(app: WsgiApp, rewrite: Rewrite) -> WsgiApp:
    """`app` with each JSON answer passed through `rewrite`."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split()[0]), headers

        body = b"".join(app(environ, capture))
        try:
            request_body = json.loads(raw) if raw else {}
        except ValueError:
            request_body = {}
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        status, answer = rewrite(method, path, request_body, captured["status"], json.loads(body))
        payload = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(f"{status} X", [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    return wrapped


def drops_a_required_field(config: MockConfig) -> WsgiApp:
    """Retrieve answers without `created_at`."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and RETRIEVE.match(path) and status == 200:
            body.pop("created_at", None)
        return status, body

    return rewriting(create_app(config), rewrite)


def answers_201_on_create(config: MockConfig) -> WsgiApp:
    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        return (201 if method == "POST" and status == 200 else status), body

    return rewriting(create_app(config), rewrite)


def echoes_the_secret(config: MockConfig) -> WsgiApp:
    """Create answers with the provider key it was sent."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "POST" and status == 200 and isinstance(sent, dict) and "key" in sent:
            body["data"]["key"] = sent["key"]
        return status, body

    return rewriting(create_app(config), rewrite)


def accepts_invalid_creates(config: MockConfig) -> WsgiApp:
    """A create the mock refuses with 400 answers 200 anyway."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "POST" and status == 400:
            return 200, {"success": True, "data": {"slug": "accepted-000000"}}
        return status, body

    return rewriting(create_app(config), rewrite)


def fails_on_bedrock(config: MockConfig) -> WsgiApp:
    """A valid create for Bedrock answers 500."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        bedrock = isinstance(sent, dict) and sent.get("provider") == "bedrock"
        if method == "POST" and bedrock and status == 200:
            return 500, {"success": False, "data": {"message": "Internal error", "errorCode": "AB04"}}
        return status, body

    return rewriting(create_app(config), rewrite)


def wrong_error_envelope(config: MockConfig) -> WsgiApp:
    """Errors come back as `{"error": {"message"}}`, not Portkey's envelope."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status >= 400:
            return status, {"error": {"message": body["data"]["message"]}}
        return status, body

    return rewriting(create_app(config), rewrite)


def not_found_without_error_code(config: MockConfig) -> WsgiApp:
    """A 404 keeps Portkey's envelope but drops `errorCode`."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 404:
            body["data"].pop("errorCode", None)
        return status, body

    return rewriting(create_app(config), rewrite)


def not_found_with_wrong_code(config: MockConfig) -> WsgiApp:
    """A 404 carries AB01 (Portkey's code for a bad request), not AB08."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if status == 404:
            body["data"]["errorCode"] = "AB01"
        return status, body

    return rewriting(create_app(config), rewrite)


def lists_nothing(config: MockConfig) -> WsgiApp:
    """The list is always empty, with a total to match: the keys are there, the list omits them."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == LIST and status == 200:
            body["data"], body["total"] = [], 0
        return status, body

    return rewriting(create_app(config), rewrite)


def total_one_short(config: MockConfig) -> WsgiApp:
    """A list's `total` is one less than the keys it holds."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == LIST and status == 200 and body["total"] > 0:
            body["total"] -= 1
        return status, body

    return rewriting(create_app(config), rewrite)


def mask_shows_too_much(config: MockConfig) -> WsgiApp:
    """Retrieve masks the provider key as 4 characters, 4 asterisks, 4 characters."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and RETRIEVE.match(path) and status == 200 and body.get("masked_api_key"):
            body["masked_api_key"] = "sk-p****1234"
        return status, body

    return rewriting(create_app(config), rewrite)


def refuses_valid_bedrock_creates(config: MockConfig) -> WsgiApp:
    """A valid create for Bedrock answers 400, as if the body broke the contract."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        bedrock = isinstance(sent, dict) and sent.get("provider") == "bedrock"
        if method == "POST" and bedrock and status == 200:
            message = "body.provider: is not supported"
            return 400, {"success": False, "data": {"message": message, "errorCode": "AB01"}}
        return status, body

    return rewriting(create_app(config), rewrite)


def applies_part_of_a_refused_update(config: MockConfig) -> WsgiApp:
    """An update answered 400 still writes a `note` before it is refused."""
    app = create_app(config)

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(app(environ, capture))
        if environ["REQUEST_METHOD"] == "PUT" and captured["status"].startswith("400"):
            partial = json.dumps({"note": "half of a refused update"}).encode()
            replay = {**environ, "wsgi.input": io.BytesIO(partial), "CONTENT_LENGTH": str(len(partial))}
            replay["CONTENT_TYPE"] = "application/json"
            b"".join(app(replay, lambda *args: None))
        start_response(captured["status"], captured["headers"])
        return [body]

    return wrapped


def ignores_auth(config: MockConfig) -> WsgiApp:
    """Every request is served as if it carried the keys file's first API key, whatever it carries."""
    app = create_app(config)
    first_key = json.loads(config.keys_path.read_text())["api_keys"][0]["key"]

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["HTTP_X_PORTKEY_API_KEY"] = first_key
        return app(environ, start_response)

    return wrapped


class ForgetfulStore(MemoryStore):
    """Says every insert succeeded, keeps none of them."""

    def insert(self, namespace: str, record: Record) -> bool:
        return True


class UndeletableStore(MemoryStore):
    """Says every delete of an existing key succeeded, deletes nothing."""

    def delete(self, namespace: str, slug: str) -> bool:
        return self.get(namespace, slug) is not None


class ReadOnlyUpdateStore(MemoryStore):
    """Says every update of an existing record was made, makes none."""

    def write(self, update: Update | None, inserts: Sequence[Insert] = ()) -> Conflict | None:
        if update is not None and not inserts:
            return None if self.get_text(update.namespace, update.slug) is not None else Conflict()
        return super().write(update, inserts)


class DroppingStore(MemoryStore):
    """Saves every change of an update but `dropped`."""

    dropped = ""

    def write(self, update: Update | None, inserts: Sequence[Insert] = ()) -> Conflict | None:
        if update is not None:
            kept = {k: v for k, v in update.changes.items() if k != self.dropped}
            update = dataclasses.replace(update, changes=kept)
        return super().write(update, inserts)


class NoteDroppingStore(DroppingStore):
    """Saves every change of an update but `note`."""

    dropped = "note"


class UnrotatedMaskStore(DroppingStore):
    """Keeps the first mask when the provider key is rotated (the key's mask goes stale)."""

    dropped = "masked_api_key"


class DeletedStillListedStore(MemoryStore):
    """Deletes a key, but its list pages still show it (counted in the total too)."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: dict[str, list[bytes]] = {}

    def delete(self, namespace: str, slug: str) -> bool:
        text = self.get_text(namespace, slug)
        if text is not None:
            self.deleted.setdefault(namespace, []).append(text)
        return super().delete(namespace, slug)

    def page_text(self, namespace: str, offset: int, limit: int) -> tuple[int, list[bytes]]:
        total, texts = super().page_text(namespace, offset, limit)
        ghosts = self.deleted.get(namespace, [])
        return total + len(ghosts), [*texts, *ghosts][:limit]


class OneNamespaceStore(MemoryStore):
    """Keeps every workspace's keys together, so they leak across API keys."""

    def insert(self, namespace: str, record: Record) -> bool:
        return super().insert("shared", record)

    def get_text(self, namespace: str, slug: str) -> bytes | None:
        return super().get_text("shared", slug)  # get() reads through get_text()

    def page_text(self, namespace: str, offset: int, limit: int) -> tuple[int, list[bytes]]:
        return super().page_text("shared", offset, limit)

    def update(self, namespace: str, slug: str, changes: Record) -> Record | None:
        return super().update("shared", slug, changes)

    def write(self, update: Update | None, inserts: Sequence[Insert] = ()) -> Conflict | None:
        shared = [dataclasses.replace(i, namespace="shared") if i.store is self else i for i in inserts]
        return super().write(update and dataclasses.replace(update, namespace="shared"), shared)

    def delete(self, namespace: str, slug: str) -> bool:
        return super().delete("shared", slug)


def loses_declared_records(config: MockConfig) -> WsgiApp:
    """A declared resource's retrieve answers 404 for a record it holds."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and DECLARED_ITEMS.match(path) and status == 200:
            return 404, {"success": False, "data": {"message": "Not found", "errorCode": "AB08"}}
        return status, body

    return rewriting(create_app(config), rewrite)


def keeps_declared_names(config: MockConfig) -> WsgiApp:
    """A declared resource's update answers 200 and saves every change but the name."""
    app = create_app(config)
    store, write = app.state.resources, app.state.resources.write

    def without_names(update: Any, inserts: Any = ()) -> Any:
        if update is not None:
            update = dataclasses.replace(
                update, changes={k: v for k, v in update.changes.items() if k != "name"}
            )
        return write(update, inserts)

    store.write = without_names  # type: ignore[method-assign]
    return app


def keeps_deleted_declared_records(config: MockConfig) -> WsgiApp:
    """A declared resource's delete answers 200 and deletes nothing."""
    app = create_app(config)
    store = app.state.resources
    store.delete = lambda namespace, slug: store.get_text(namespace, slug) is not None  # type: ignore[method-assign]
    return app


MCP_SERVER = re.compile(r"^/v1/mcp-servers/[^/]+$")


def tests_mcp_servers_off_contract(config: MockConfig) -> WsgiApp:
    """An MCP server's `test` answers without `success`, which the contract requires."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        tested = path.startswith("/v1/mcp-servers/") and path.endswith("/test")
        if method == "POST" and tested and status == 200:
            body.pop("success", None)
        return status, body

    return rewriting(create_app(config), rewrite)


def refuses_mcp_server_capabilities(config: MockConfig) -> WsgiApp:
    """A valid bulk update of an MCP server's capabilities answers 400, as if it broke a rule."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        server_capabilities = path.startswith("/v1/mcp-servers/") and path.endswith("/capabilities")
        if method == "PUT" and server_capabilities and status == 200:
            message = "body.capabilities: is not supported"
            return 400, {"success": False, "data": {"message": message, "errorCode": "AB01"}}
        return status, body

    return rewriting(create_app(config), rewrite)


def keeps_deleted_mcp_servers(config: MockConfig) -> WsgiApp:
    """An MCP server's delete answers 200 and deletes nothing (its integration's delete works)."""
    app = create_app(config)

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "DELETE" and MCP_SERVER.match(environ["PATH_INFO"]):
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
            return [b"{}"]
        return app(environ, start_response)

    return wrapped


def graphs_without_points(config: MockConfig) -> WsgiApp:
    """An analytics graph answers its summary without its `data_points`."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith("/v1/analytics/graphs/") and status == 200 and isinstance(body, dict):
            body.pop("data_points", None)
        return status, body

    return rewriting(create_app(config), rewrite)


def loses_inserted_logs(config: MockConfig) -> WsgiApp:
    """A log's insert answers its id, but reading the log by that id answers 404."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and LOG_ITEM.match(path) and status == 200:
            return 404, {"success": False, "data": {"message": "Log not found", "errorCode": "AB08"}}
        return status, body

    return rewriting(create_app(config), rewrite)


def downloads_off_contract(config: MockConfig) -> WsgiApp:
    """A finished export's download answers its file's address as `url`, not `signed_url`."""

    def rewrite(method: str, path: str, sent: Any, status: int, body: Any) -> tuple[int, Any]:
        if path.endswith("/download") and status == 200 and isinstance(body, dict):
            body = {"url": body.pop("signed_url", None)}
        return status, body

    return rewriting(create_app(config), rewrite)


def with_store(store_class: type[MemoryStore]) -> Callable[[MockConfig], WsgiApp]:
    def build(config: MockConfig) -> WsgiApp:
        return create_app(config, store=store_class())

    build.__name__ = store_class.__name__
    return build


VARIANTS: dict[str, tuple[Callable[[MockConfig], WsgiApp], str]] = {
    "response missing a required field": (drops_a_required_field, "response_conforms"),
    "wrong status code": (answers_201_on_create, "response_conforms"),
    "secret echoed back": (echoes_the_secret, "secret_never_returned"),
    "lost create": (with_store(ForgetfulStore), "created_key_retrievable"),
    "delete that does not delete": (with_store(UndeletableStore), "deleted_key_gone"),
    "update not persisted": (with_store(ReadOnlyUpdateStore), "update_visible"),
    "invalid body accepted with 200": (accepts_invalid_creates, "invalid_request_rejected"),
    "500 on some valid input": (fails_on_bedrock, "no_server_error"),
    "auth ignored": (ignores_auth, "auth_enforced"),
    "keys leaking across workspaces": (with_store(OneNamespaceStore), "isolated_between_api_keys"),
    "wrong error envelope": (wrong_error_envelope, "error_envelope"),
    "404 without errorCode": (not_found_without_error_code, "error_envelope"),
    "404 with the wrong errorCode": (not_found_with_wrong_code, "error_envelope"),
    "list omits keys": (lists_nothing, "listed_with_total"),
    "deleted key still listed": (with_store(DeletedStillListedStore), "listed_with_total"),
    "total one short": (total_one_short, "listed_with_total"),
    "note not saved": (with_store(NoteDroppingStore), "update_visible"),
    "mask not rotated with its key": (with_store(UnrotatedMaskStore), "masked_key_matches"),
    "mask of the wrong form": (mask_shows_too_much, "masked_api_key_form"),
    "valid create answered 400": (refuses_valid_bedrock_creates, "valid_request_accepted"),
    "refused update partly applied": (applies_part_of_a_refused_update, "failed_update_changes_nothing"),
    "declared record lost": (loses_declared_records, "record_retrievable"),
    "declared record's rename not saved": (keeps_declared_names, "record_update_visible"),
    "declared record not deleted": (keeps_deleted_declared_records, "record_delete_final"),
    "MCP server's test off the contract": (tests_mcp_servers_off_contract, "response_conforms"),
    "MCP server's valid capabilities update refused": (
        refuses_mcp_server_capabilities,
        "valid_request_accepted",
    ),
    "MCP server not deleted": (keeps_deleted_mcp_servers, "record_delete_final"),
}
"""Each defect: how to build it, and the check of `contracts verify` that must name it."""
PERMANENT_VARIANTS: dict[str, tuple[Callable[[MockConfig], WsgiApp], str, str]] = {
    "inserted log not found": (loses_inserted_logs, "GET /logs/{logId}", "valid_request_accepted"),
    "export download off the contract": (
        downloads_off_contract,
        "GET /logs/exports/{exportId}/download",
        "response_conforms",
    ),
}
"""Defects only `verify --permanent-writes` reaches (a log, feedback, exports): how to build each, the
operation where it shows, and the check that must name it there."""
