"""HTTP in and out for `/v1`: authenticate, validate against the contract, call the domain, answer.

Routes are derived from the contract's operations; each operationId has one handler here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.datastructures import EnvironHeaders

from mockserver import wire
from mockserver.contract import Contract, Operation
from mockserver.validation import IncomingRequest, RequestValidator, ValidRequest
from mockserver.virtual_keys import VirtualKeys
from mockserver.workspaces import AccessPolicy, Workspace

API_KEY_HEADER = "x-portkey-api-key"

Handler = Callable[[VirtualKeys, ValidRequest, Workspace], Any]


def _list(keys: VirtualKeys, req: ValidRequest, workspace: Workspace) -> Any:
    total, records = keys.page(workspace, req.query.get("current_page", 0), req.query.get("page_size", 50))
    return {"object": "list", "total": total, "data": [wire.listed(r, keys.status(r)) for r in records]}


def _create(keys: VirtualKeys, req: ValidRequest, workspace: Workspace) -> Any:
    fields = {name: value for name, value in (req.body or {}).items() if name != "workspace_id"}
    record = keys.create(workspace, fields)
    return {"success": True, "data": {"slug": record["slug"]}}


def _retrieve(keys: VirtualKeys, req: ValidRequest, workspace: Workspace) -> Any:
    record = keys.retrieve(workspace, req.path_params["slug"])
    return wire.retrieved(record, keys.status(record))


def _update(keys: VirtualKeys, req: ValidRequest, workspace: Workspace) -> Any:
    keys.update(workspace, req.path_params["slug"], req.body or {})
    return {}


def _delete(keys: VirtualKeys, req: ValidRequest, workspace: Workspace) -> Any:
    keys.delete(workspace, req.path_params["slug"])
    return {}


HANDLERS: dict[str, Handler] = {
    "listVirtualKeys": _list,
    "createVirtualKey": _create,
    "retrieveVirtualKey": _retrieve,
    "updateVirtualKey": _update,
    "deleteVirtualKey": _delete,
}


def api_blueprint(
    contract: Contract, validator: RequestValidator, policy: AccessPolicy, keys: VirtualKeys
) -> Blueprint:
    """A blueprint serving every operation of `contract` that has a handler."""
    missing = set(contract.operations) - set(HANDLERS)
    if missing:
        raise ValueError(f"the contract has operations the mock cannot serve: {sorted(missing)}")
    blueprint = Blueprint("api", __name__)

    def serve(operation: Operation, **path_params: str) -> Response:
        principal = policy.authenticate(request.headers.get(API_KEY_HEADER))
        if operation.scope:
            policy.require(principal, operation.scope)
        valid = validator.validate(operation, incoming(path_params))
        g.operation = operation.operation_id
        requested = (valid.body or {}).get("workspace_id") or valid.query.get("workspace_id")
        where = "body" if valid.body and "workspace_id" in valid.body else "query"
        workspace = policy.workspace_for(principal, requested, where)
        return jsonify(HANDLERS[operation.operation_id](keys, valid, workspace))

    for operation in contract.operations.values():
        blueprint.add_url_rule(
            _flask_rule(operation.path),
            endpoint=operation.operation_id,
            view_func=_bind(serve, operation),
            methods=[operation.method.upper()],
        )
    return blueprint


def incoming(path_params: dict[str, str]) -> IncomingRequest:
    """The current Flask request as the validator sees it.

    On every request's path, so it reads the WSGI environ once and parses only what is there:
    no query string, no body, and headers only when someone asks for them.
    """
    environ = request.environ
    has_body = bool(environ.get("CONTENT_LENGTH") or environ.get("HTTP_TRANSFER_ENCODING"))
    return IncomingRequest(
        method=environ["REQUEST_METHOD"],
        path=request.path,
        query=request.args.to_dict(flat=False) if environ.get("QUERY_STRING") else {},
        headers=HeaderView(request.headers),
        body=request.get_data(cache=True) if has_body else b"",
        content_type=environ.get("CONTENT_TYPE"),
        path_params=path_params,
    )


class HeaderView(Mapping[str, str]):
    """A request's headers as a read-only mapping, read from the WSGI environ only when asked.

    Copying every header into a dict cost a third of the validator's share of a request.
    """

    def __init__(self, headers: EnvironHeaders) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        value = self._headers.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers.keys())

    def __len__(self) -> int:
        return len(self._headers)


def _bind(serve: Callable[..., Response], operation: Operation) -> Callable[..., Response]:
    def view(**path_params: str) -> Response:
        return serve(operation, **path_params)

    return view


def _flask_rule(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", r"<\1>", template)
