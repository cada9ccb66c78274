"""Resources the contract declares: a collection path item marked `x-portkey-resource`.

A CRUD-shaped resource needs no Python of its own: the marker says which operations it has (the
collection's GET and POST, the item's GET, PUT and DELETE, a versions list), which fields name a
record, how its slugs look, what a new record holds besides its body and what each answer carries;
the operations themselves (their scopes, workspace rule, schemas and secrets) are the contract's.
`mockserver/resources/engine.py` serves what is declared here. A marker promising an operation the
contract lacks stops the mock from loading the contract at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SecretsIn = Callable[[Iterable[dict[str, Any] | None]], frozenset[str]]

MARKER = "x-portkey-resource"
KINDS = {"list": ("", "get"), "create": ("", "post"), "retrieve": ("item", "get")}
KINDS |= {"update": ("item", "put"), "delete": ("item", "delete"), "versions": ("versions", "get")}
"""Each kind of operation a marker may promise: on which path (the collection's, `item`'s or
`versions`') and by which method."""
STAMPS = frozenset({"created_at", "last_updated_at", "owner_id", "updated_by", "version_id"})
"""Fields the mock sets on a record itself (a create sets them all, an update all but `created_at`
and `owner_id`), when the marker names them."""
FINDERS = ("slug", "id")


class DeclarationError(ValueError):
    """A marker that cannot be served: it names something unknown, or promises a missing operation."""


@dataclass(frozen=True)
class Declaration:
    """One declared resource, read from its marker and checked against the contract."""

    name: str
    """Its records' name: in the store, in `object` and in the not-found message (`config`)."""
    operations: dict[str, str]
    """kind (`list`, `create`, ...) -> the operationId serving it."""
    item_parameter: str
    """The item path's parameter naming one record (`slug`, `guardrailId`)."""
    found_by: tuple[str, ...]
    """The record fields that parameter may hold, `slug` first if at all (records are kept by slug;
    finding by id reads the namespace)."""
    slug_prefix: str
    slug_length: int
    """How much of the name a new slug keeps (`pc-` and 6 characters for a config)."""
    slugged: bool
    """Whether records have a slug (`slug: false`: none; such records are kept and found by id)."""
    slug_sent: bool
    """Whether a create may name its record's slug (`slug: {sent: true}`); else the mock makes it."""
    organisation_level: bool
    """Whether records always belong to the organisation (`level: organisation`), whatever workspace
    the caller acts in; else to the caller's workspace (or the organisation, naming none)."""
    stored_as: dict[str, str]
    """A body field kept under another name (`isDefault` -> `is_default`, as answers spell it)."""
    defaults: dict[str, Any]
    stamps: tuple[str, ...]
    create_answer: tuple[str, ...]
    create_wrapped: bool
    """Whether create answers `{success: true, data: {...}}` rather than the fields themselves."""
    update_answer: tuple[str, ...]
    list_omits: tuple[str, ...]
    secret_fields: frozenset[str]
    """Its bodies' `writeOnly` fields: kept masked (a string) or not at all."""

    @property
    def versioned(self) -> bool:
        """Whether each create and update keeps a version of the record (a versions list is promised)."""
        return "versions" in self.operations


def declarations(
    paths: dict[str, Any], bodies: Mapping[str, dict[str, Any] | None], secrets_in: SecretsIn
) -> list[Declaration]:
    """Every resource the contract's `paths` declare, in document order, checked against its
    operations (operationId -> body schema); `DeclarationError` names a broken marker."""
    found = []
    for template, item in paths.items():
        marker = item.get(MARKER) if isinstance(item, dict) else None
        if marker is not None:
            found.append(_declaration(paths, bodies, secrets_in, template, marker))
    return found


def _declaration(
    paths: dict[str, Any],
    bodies: Mapping[str, dict[str, Any] | None],
    secrets_in: SecretsIn,
    template: str,
    marker: Any,
) -> Declaration:
    where = f"{template} {MARKER}"
    if not isinstance(marker, dict) or not isinstance(marker.get("name"), str):
        raise DeclarationError(f"{where}: must be an object with a `name`")
    places = {"": template, "item": marker.get("item"), "versions": marker.get("versions")}
    promised = marker.get("operations") or []
    operations: dict[str, str] = {}
    for kind in promised:
        if kind not in KINDS:
            raise DeclarationError(f"{where}: unknown operation kind {kind!r} (known: {sorted(KINDS)})")
        place, method = KINDS[kind]
        path = places[place]
        spec = (paths.get(path) or {}).get(method) if isinstance(path, str) else None
        if not isinstance(spec, dict) or spec.get("operationId") not in bodies:
            shown = path if isinstance(path, str) else f"(no `{place}` path)"
            raise DeclarationError(f"{where}: promises {kind}, but {method.upper()} {shown} is not declared")
        operations[kind] = spec["operationId"]
    item = places["item"]
    parameters = [part[1:-1] for part in str(item or "").split("/") if part.startswith("{")]
    on_items = any(kind in operations for kind in ("retrieve", "update", "delete", "versions"))
    if on_items and len(parameters) != 1:
        raise DeclarationError(f"{where}: the item path must have one parameter, naming a record")
    found_by = tuple(marker.get("found-by") or ["slug"])
    if not found_by or any(field not in FINDERS for field in found_by) or len(set(found_by)) < len(found_by):
        raise DeclarationError(f"{where}: found-by names fields among {list(FINDERS)}, each once")
    stamps = tuple(marker.get("stamps") or ())
    if not set(stamps) <= STAMPS:
        raise DeclarationError(f"{where}: unknown stamps {sorted(set(stamps) - STAMPS)}")
    slug = marker.get("slug", {})
    slugged = slug is not False
    if not slugged and found_by != ("id",):
        raise DeclarationError(f"{where}: a resource without slugs (`slug: false`) is found by id only")
    slug = slug or {}
    create: Any = marker.get("create-answer") or []
    wrapped = isinstance(create, dict)
    return Declaration(
        name=marker["name"],
        operations=operations,
        item_parameter=parameters[0] if parameters else "",
        found_by=tuple(sorted(found_by, key=FINDERS.index)),
        slug_prefix=str(slug.get("prefix", "")),
        slug_length=int(slug.get("length", 15)),
        slugged=slugged,
        slug_sent=bool(slug.get("sent", False)),
        organisation_level=marker.get("level") == "organisation",
        stored_as=dict(marker.get("stored-as") or {}),
        defaults=dict(marker.get("defaults") or {}),
        stamps=stamps,
        create_answer=tuple((create.get("success-data") or ()) if wrapped else create),
        create_wrapped=wrapped,
        update_answer=tuple(marker.get("update-answer") or ()),
        list_omits=tuple(marker.get("list-omits") or ()),
        secret_fields=secrets_in(bodies[op] for op in operations.values()),
    )
