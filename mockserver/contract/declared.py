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
KINDS = {"list": ("", "get"), "create": ("create-at", "post"), "retrieve": ("item", "get")}
KINDS |= {"update": ("item", "put"), "delete": ("item", "delete"), "versions": ("versions", "get")}
"""Each kind of operation a marker may promise: on which path (the collection's, `item`'s,
`versions`' or `create-at`'s, which is the collection's unless the marker names another) and by
which method."""
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
    per_organisation: bool = False
    """`kept-per: organisation`: one namespace per organisation, whatever workspace a record names;
    a call acting in a workspace sees only that workspace's records (API keys)."""
    private: tuple[str, ...] = ()
    """Fields a record keeps that no answer shows (a domain module's own bookkeeping)."""
    organisation_level: bool = False
    """`level: organisation`: records live in the caller's organisation whatever workspace the call
    names (workspaces, users); else in the call's workspace, or the organisation when it names none."""
    parent: tuple[str, str] | None = None
    """`parent: {parameter, resource}`: the collection path's parameter naming a record of another
    declared resource (a workspace's members); the records live under it, and a missing parent
    answers as that resource's missing record does."""
    paging: tuple[str, str] = ("current_page", "page_size")
    """The list's query parameters for the page (from 0) and its size."""
    filters: tuple[str, ...] = ()
    """`filters: [...]`: list query parameters that keep the records whose field of that name equals them."""
    search: str | None = None
    """`search: name`: the list's `search` query parameter keeps the records whose field of that name
    holds its text, whatever the case (collections, labels)."""
    has_slug: bool = True
    """Whether records get a slug (the marker names its form; `slug: false` or none: no slug, and the
    record is kept under its id)."""
    slug_sent: bool = False
    """`slug: {sent: true}`: a create may name its record's slug (a secret reference's); else the
    mock makes it from the name."""
    workspace_keys: bool = False
    """`workspace-keys: allowed`: a workspace API key may reach an organisation-level resource (its
    records still live in the organisation); by default it is refused 403."""
    missing_status: int | None = None
    """`missing: 403`: the status a record that is not there answers (default: the mock's 404)."""
    list_answer: tuple[str, str] | None = None
    """`list-answer: {data: mappings, total: total_count}`: the list's keys for the page's records
    and the total, answered alone; without it, Portkey's page (`object: list`, `total`, `data`)."""
    delete_answer: Mapping[str, Any] | None = None
    """`delete-answer: {success: true}`: what a delete answers (default: an empty object)."""
    with_object: bool = True
    """`object: false`: records are answered without an `object` naming their kind."""
    records: str | None = None
    """`records: keys`: the records live in the virtual-key store, one namespace per workspace
    (`<organisation>/<workspace>`), shared by every resource naming it (virtual keys and providers
    are two views of the same records); `records: integrations`: in the integration store, one
    namespace per organisation; by default, in the declared resources' store."""
    slug_taken_status: int = 400
    """`slug: {taken: 409}`: what a create naming a slug that is taken answers (default 400)."""

    @property
    def kept_by_id(self) -> bool:
        """A resource whose marker gives no slug form: its records have none and are kept by id."""
        return not self.has_slug

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
    names = {declaration.name for declaration in found}
    for declaration in found:
        if declaration.parent and declaration.parent[1] not in names:
            raise DeclarationError(f"{declaration.name}: parent {declaration.parent[1]!r} is not declared")
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
    places["create-at"] = marker.get("create-at", template)
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
    parent = marker.get("parent")
    if parent is not None and not (
        isinstance(parent, dict)
        and f"{{{parent.get('parameter')}}}" in template
        and isinstance(parent.get("resource"), str)
    ):
        raise DeclarationError(f"{where}: parent names a `parameter` of {template} and a `resource`")
    outer = {parent["parameter"]} if parent else set()
    parameters = [
        part[1:-1] for part in str(item or "").split("/") if part.startswith("{") and part[1:-1] not in outer
    ]
    on_items = any(kind in operations for kind in ("retrieve", "update", "delete", "versions"))
    if on_items and len(parameters) != 1:
        raise DeclarationError(f"{where}: the item path must have one parameter, naming a record")
    found_by = tuple(marker.get("found-by") or ["slug"])
    if not found_by or any(field not in FINDERS for field in found_by) or len(set(found_by)) < len(found_by):
        raise DeclarationError(f"{where}: found-by names fields among {list(FINDERS)}, each once")
    stamps = tuple(marker.get("stamps") or ())
    if not set(stamps) <= STAMPS:
        raise DeclarationError(f"{where}: unknown stamps {sorted(set(stamps) - STAMPS)}")
    slug = marker.get("slug") or {}
    has_slug = marker.get("slug", False) is not False
    if not has_slug and "slug" in found_by:
        raise DeclarationError(f"{where}: a resource without slugs is found by id only (`found-by: [id]`)")
    paging = marker.get("paging") or {}
    listed = marker.get("list-answer") or {}
    level = marker.get("level", "workspace")
    if level not in ("workspace", "organisation"):
        raise DeclarationError(f"{where}: level is `workspace` or `organisation`, not {level!r}")
    workspace_keys = marker.get("workspace-keys", "refused")
    if workspace_keys not in ("refused", "allowed"):
        raise DeclarationError(f"{where}: workspace-keys is `refused` or `allowed`, not {workspace_keys!r}")
    search = marker.get("search")
    listed_at = (paths.get(template) or {}).get("get") or {}
    if search is not None and not any(
        p.get("name") == "search" and p.get("in") == "query" for p in listed_at.get("parameters") or []
    ):
        raise DeclarationError(f"{where}: search needs the list to declare a `search` query parameter")
    create: Any = marker.get("create-answer") or []
    wrapped = isinstance(create, dict)
    records = marker.get("records")
    if records not in (None, "keys", "integrations"):
        raise DeclarationError(f"{where}: records is `keys`, `integrations` or left out, not {records!r}")
    return Declaration(
        name=marker["name"],
        operations=operations,
        item_parameter=parameters[0] if parameters else "",
        found_by=tuple(sorted(found_by, key=FINDERS.index)),
        slug_prefix=str(slug.get("prefix", "")),
        slug_length=int(slug.get("length", 15)),
        stored_as=dict(marker.get("stored-as") or {}),
        defaults=dict(marker.get("defaults") or {}),
        stamps=stamps,
        create_answer=tuple((create.get("success-data") or ()) if wrapped else create),
        create_wrapped=wrapped,
        update_answer=tuple(marker.get("update-answer") or ()),
        list_omits=tuple(marker.get("list-omits") or ()),
        secret_fields=secrets_in(bodies[op] for op in operations.values()),
        per_organisation=_kept_per(where, marker.get("kept-per", "workspace")),
        private=tuple(marker.get("private") or ()),
        organisation_level=level == "organisation",
        parent=(parent["parameter"], parent["resource"]) if parent else None,
        paging=(str(paging.get("page", "current_page")), str(paging.get("size", "page_size"))),
        filters=tuple(marker.get("filters") or ()),
        search=search,
        has_slug=has_slug,
        slug_sent=bool(slug.get("sent", False)),
        workspace_keys=workspace_keys == "allowed",
        missing_status=int(marker["missing"]) if "missing" in marker else None,
        list_answer=(str(listed.get("data", "data")), str(listed.get("total", "total"))) if listed else None,
        delete_answer=marker.get("delete-answer"),
        with_object=marker.get("object", True) is not False,
        records=records,
        slug_taken_status=int(slug.get("taken", 400)),
    )


def _kept_per(where: str, kept_per: Any) -> bool:
    if kept_per not in ("workspace", "organisation"):
        raise DeclarationError(f"{where}: kept-per is `workspace` or `organisation`, not {kept_per!r}")
    return kept_per == "organisation"
