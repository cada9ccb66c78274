"""Any vendor's OpenAPI 3.0 or 3.1 document, read the way the mock and the toolkit need it.

A published document is written for people and generators, not for a validator that routes
recorded traffic: its servers are absolute URLs, its operations may have no `operationId`, and it
may break rules of OpenAPI itself. Here, once, at load:

- every server URL becomes the path prefix it serves under (`https://api.portkey.ai/v1` -> `/v1`);
- an operation without an `operationId` is named `METHOD /path` (`GET /virtual-keys`);
- an operation whose body is not JSON, or that reaches a `$ref` which does not resolve, is left out;
- problems of the document itself (a `default` its own schema refuses, `nullable` with an `enum`
  that lacks null, a broken `$ref`) are listed as `Problem`s, for the tools to report once.

Nothing here stops on a problem: the tools go on with every operation they can use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

METHODS = ("get", "put", "post", "delete", "patch")


class ContractUnusable(Exception):
    """The document cannot be used at all (unreadable, not OpenAPI 3.x, no usable operation)."""


@dataclass(frozen=True)
class Problem:
    """Something wrong with the document itself, at a JSON pointer into it."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def check_shape(document: Any, name: str) -> dict[str, Any]:
    """`document` if it is an OpenAPI 3.0 or 3.1 document with paths, else `ContractUnusable`."""
    if not isinstance(document, dict):
        raise ContractUnusable(f"{name} is not an OpenAPI document (not a YAML or JSON mapping)")
    version = str(document.get("openapi", ""))
    if not version.startswith(("3.0", "3.1")):
        found = f"openapi: {version}" if version else "no openapi field"
        raise ContractUnusable(f"{name} is not an OpenAPI 3.0 or 3.1 document ({found})")
    if not isinstance(document.get("paths"), dict):
        raise ContractUnusable(f"{name} has no paths")
    return document


def adapt(document: dict[str, Any]) -> list[Problem]:
    """Rewrite `document` in place as the module doc says; the operations left out, as problems."""
    left_out: list[Problem] = []
    document["servers"] = path_prefixes(document.get("servers"))
    # One walk over the whole document finds any broken reference; only then is each operation's
    # reach followed (per operation, the walk took half of a start's `create_app`).
    any_broken = next(iter(broken_refs(document, [document])), None) is not None
    for template, item in document["paths"].items():
        if not isinstance(item, dict):
            continue
        if "servers" in item:
            item["servers"] = path_prefixes(item["servers"])
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            name = f"{method.upper()} {template}"
            roots = [item.get("parameters"), operation]
            broken = next(iter(broken_refs(document, roots)), None) if any_broken else None
            if broken is not None:
                left_out.append(Problem(_pointer("paths", template, method), f"left out: {broken.what}"))
                del item[method]
                continue
            if not _takes_json_or_nothing(document, operation):
                del item[method]  # a file upload, a form: nothing the JSON validators can judge
                continue
            operation.setdefault("operationId", name)
            if "servers" in operation:
                operation["servers"] = path_prefixes(operation["servers"])
    return left_out


def path_prefixes(servers: Any) -> list[dict[str, str]]:
    """Each server as the path it serves under; placeholders (`SELF_HOSTED_URL`) are dropped."""
    prefixes: list[str] = []
    for server in servers if isinstance(servers, list) else []:
        url = str(server.get("url", "")) if isinstance(server, dict) else ""
        path = urlsplit(url).path.rstrip("/")
        if (path.startswith("/") or (not path and "://" in url)) and path not in prefixes:
            prefixes.append(path)
    return [{"url": path or "/"} for path in prefixes] or [{"url": "/"}]


def resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    """The node a local `$ref` names; KeyError if it does not resolve."""
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node


def reachable_refs(document: dict[str, Any], roots: Iterable[Any]) -> Iterator[str]:
    """Every `$ref` reachable from `roots`, following references into the document, each once."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                yield ref
                with contextlib.suppress(KeyError):
                    stack.append(resolve_pointer(document, ref))
            stack.extend(value for key, value in node.items() if key != "$ref")
        elif isinstance(node, list):
            stack.extend(node)


def broken_refs(document: dict[str, Any], roots: Iterable[Any]) -> Iterator[Problem]:
    for ref in reachable_refs(document, roots):
        try:
            resolve_pointer(document, ref)
        except KeyError:
            yield Problem(ref, f"$ref {ref!r} does not resolve")


def schema_problems(document: dict[str, Any]) -> list[Problem]:
    """Schemas of `document` that break OpenAPI's own rules, each named by its JSON pointer."""
    nullable_keyword = str(document.get("openapi", "")).startswith("3.0")
    found: list[Problem] = []
    for where, node in _schemas(document, "#"):
        allows_null = _allows_null(node, nullable_keyword)
        if "default" in node and not _fits(node["default"], node, allows_null):
            found.append(Problem(where, f"default {_shown(node['default'])} breaks its own schema"))
        enum = node.get("enum")
        if nullable_keyword and node.get("nullable") is True and isinstance(enum, list) and None not in enum:
            found.append(Problem(where, "nullable, but its enum lacks null: null is refused"))
    return found


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _fits(value: Any, schema: dict[str, Any], allows_null: bool) -> bool:
    """Does `value` keep to the schema's own `type` and `enum` (the checks a default can fail alone)?"""
    if value is None:
        return allows_null or (isinstance(schema.get("enum"), list) and None in schema["enum"])
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    if kinds:
        ok = any(
            isinstance(value, _TYPES.get(kind, ()))
            and not (isinstance(value, bool) and kind in ("integer", "number"))
            for kind in kinds
        )
        if not ok:
            return False
    enum = schema.get("enum")
    return not isinstance(enum, list) or value in enum


def _allows_null(schema: dict[str, Any], nullable_keyword: bool) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    if nullable_keyword and schema.get("nullable") is True:
        return True
    return "type" not in schema and "enum" not in schema  # an unconstrained schema takes null


def _schemas(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping under `node` that looks like a schema (has `type`, `enum` or `default`)."""
    stack: list[tuple[str, Any]] = [(where, node)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            if ("type" in node or "enum" in node) and not isinstance(node.get("type"), dict):
                yield where, node
            for key, value in node.items():
                if key not in ("example", "examples", "default", "enum", "x-code-samples"):
                    stack.append((f"{where}/{_escape(str(key))}", value))
        elif isinstance(node, list):
            stack.extend((f"{where}/{index}", value) for index, value in enumerate(node))


def _takes_json_or_nothing(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    body = operation.get("requestBody")
    try:
        while isinstance(body, dict) and "$ref" in body:
            body = resolve_pointer(document, body["$ref"])
    except KeyError:
        return False
    return body is None or "application/json" in (body.get("content") or {})


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(_escape(part) for part in parts)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _shown(value: Any) -> str:
    return "null" if value is None else repr(value)
