"""Integrations: provider credentials of an organisation (or of one workspace), granted to workspaces,
on the resource engine (`x-portkey-resource` on `/integrations`, `records: integrations`).

The engine creates, lists, retrieves, updates and deletes them, in the integration store, one
namespace per organisation. This module adds what is particular: which integrations a call sees
(a workspace only those it may use) and may change (a workspace key only its own workspace's), the
scope each needs by its type, secrets kept masked as `masked_<field>`, their answers, and what
lives on an integration's record besides: its workspace grants with their limits and its model
allow-list. Creating a workspace integration, or granting a workspace access, creates that
workspace's default provider, a virtual-key record, in the same store write, as Portkey does.

A change of grants or models is planned from the record as read and written only if the record is
still that, together with the default providers it makes, in one store write (`Store.write`); if
another request changed the record in between, it is read and planned again. So concurrent
requests, through any process, each change only what they name, and a grant never lacks its
default provider, nor a provider its grant, even when the store goes away half-way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.access import AccessPolicy, Workspace
from mockserver.contract.date_times import timestamp
from mockserver.contract.secrets import HEADER_VALUE_FIELDS, mask_secret, masked_header_values
from mockserver.errors import ApiError, Forbidden, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.engine import DeclaredResource
from mockserver.resources.virtual_keys import VirtualKeys
from mockserver.responses import each_readable, page, without_unset
from mockserver.state.records.base import Insert, Record, Update
from mockserver.violations import Violation

INTEGRATION = "integration"
"""The declared resource's name (`x-portkey-resource` on `/integrations`)."""
DEFAULT_PROVIDER_NOTE = "Created automatically on integration access grant"
"""The note Portkey gives a provider it creates on a grant (seen in live virtual-key lists)."""
UPDATABLE = ("name", "description", "secret_mappings", "pricing_adjustments")
KEPT = ("id", "slug", "organisation_id", "name", "ai_provider_id", "created_at")
"""What an integration's record keeps of the engine's new record; the rest this module sets."""
WRITE_ATTEMPTS = 100
"""How often a change is planned again because another request changed the integration first; the
winner of each round is done, so only a request outrun 100 times in a row answers 503."""


@dataclass(frozen=True)
class Found:
    """An integration as read, with the JSON text it was read from (what a write checks against)."""

    record: Record
    text: bytes


@dataclass(frozen=True)
class DefaultProvider:
    """A default provider to make with a change, and the body field that named its slug."""

    insert: Insert
    where: str


Planned = tuple[Record, list[DefaultProvider]]
"""A change of an integration (its fields) and the default providers it makes."""


class Integrations:
    """What the engine's `integration` resource cannot know, and the operations on an integration's
    models and workspace grants."""

    riding: frozenset[str] = frozenset()  # each reads before it writes, or reads two stores

    def __init__(
        self, engine: DeclaredResource, keys: VirtualKeys, policy: AccessPolicy, secret_fields: Iterable[str]
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.keys = keys
        self.policy = policy
        self.secret_fields = frozenset(secret_fields)
        engine.creating.append(self._made)
        engine.updating.append(self._changed)
        engine.reaching.append(self._reached)
        engine.listing.append(self._kept_in_list)
        engine.shown = self
        engine.particular = self

    def handlers(self) -> dict[str, Handler]:
        return {
            "listIntegrationModels": self._list_models,
            "updateIntegrationModels": self._update_models,
            "deleteIntegrationModels": self._delete_models,
            "listIntegrationWorkspaces": self._list_workspaces,
            "updateIntegrationWorkspaces": self._update_workspaces,
        }

    # -- the integration itself, hooked into the engine

    def _made(self, call: Call, record: Record) -> None:
        """Organisation-wide, or owned by the workspace named in the body (or of a workspace key);
        its secret and secret settings kept masked, with no grants and every model allowed."""
        body, workspace = call.body, call.workspace
        kind = "workspace" if workspace is not None else "organisation"
        _require(call, kind)
        kept = {name: record[name] for name in KEPT if name in record}
        record.clear()
        record |= kept | {
            "workspace_id": workspace.workspace_id if workspace else None,
            "type": kind,
            "description": body.get("description"),
            "status": "active",
            "masked_key": mask_secret(body["key"]) if body.get("key") else None,
            "configurations": self._masked_configurations(body.get("configurations") or {}),
            "secret_mappings": body.get("secret_mappings") or [],
            "pricing_adjustments": body.get("pricing_adjustments"),
            "last_updated_at": None,
            "allow_all_models": True,
            "models": [],
            "workspaces": {},
            "global_workspace_access": None,
        }

    def made(self, call: Call, record: Record) -> tuple[list[Insert], Record]:
        """A workspace integration's default provider, made with it unless the body says not."""
        workspace = call.workspace
        if workspace is None or not call.body.get("create_default_provider", True):
            return [], {}
        slug = call.body.get("default_provider_slug") or record["slug"]
        return [self._default_provider(record, workspace, slug, "body.default_provider_slug").insert], {}

    def taken(self, index: int) -> ApiError:
        return _taken_by_provider("body.default_provider_slug")

    def _changed(self, call: Call, record: Record, changes: Record) -> None:
        """An update changes the integration's own fields and its secrets, kept masked."""
        fields = call.body
        changes.clear()
        changes |= {name: fields[name] for name in UPDATABLE if name in fields}
        if "key" in fields:
            changes["masked_key"] = mask_secret(fields["key"])
        if "configurations" in fields:
            changes["configurations"] = self._masked_configurations(fields["configurations"])
        changes["last_updated_at"] = timestamp(self.engine.clock())

    def _reached(self, call: Call, record: Record) -> None:
        """A workspace key sees only the integrations its workspace may use, and changes only its
        own workspace's; every call needs the scope of the integration's type."""
        pinned = _pinned(call)
        if pinned is not None and not _usable_in(record, pinned):
            raise self.engine.not_found(call.slug)
        _require(call, record["type"])
        changing = call.request.operation.method != "get"
        if changing and pinned is not None and record["workspace_id"] != pinned.workspace_id:
            raise Forbidden("A workspace API key can change only its own workspace's integrations")

    def _kept_in_list(self, call: Call) -> Callable[[Record], bool]:
        """What `GET /integrations` shows: `type` filters by scope, to the types the caller may list;
        a workspace (always a workspace key's own) sees the integrations it may use."""
        wanted = call.request.query.get("type", "all")
        kinds = ["organisation", "workspace"] if wanted == "all" else [wanted]
        allowed = [kind for kind in kinds if f"{kind}_integrations.list" in call.principal.scopes]
        if not allowed:
            _require(call, kinds[0], "list")
        workspace = call.workspace
        return lambda r: r["type"] in allowed and (workspace is None or _usable_in(r, workspace))

    def retrieved(self, text: bytes) -> Any:
        return detail(json.loads(text))

    def page(self, total: int, texts: list[bytes]) -> Any:
        return page(total, each_readable(texts, lambda text: listed(json.loads(text))))

    # -- models

    def _list_models(self, call: Call) -> Any:
        record = self._found(call).record
        models = [_model_out(m) for m in record["models"]]
        return {
            "object": "list",
            "total": len(models),
            "models": models,
            "allow_all_models": record["allow_all_models"],
        }

    def _update_models(self, call: Call) -> Any:
        """Each model is added or replaced by slug; `allow_all_models` switches the default."""

        def plan(record: Record) -> Planned:
            models = {m["slug"]: m for m in record["models"]}
            for model in call.body["models"]:
                if "configurations" in model:
                    model = {**model, "configurations": self._masked_configurations(model["configurations"])}
                models[model["slug"]] = {**models.get(model["slug"], {}), **model}
            changes: Record = {"models": list(models.values())}
            changes["last_updated_at"] = timestamp(self.engine.clock())
            if "allow_all_models" in call.body:
                changes["allow_all_models"] = call.body["allow_all_models"]
            return changes, []

        self._change(call, plan)
        return {}

    def _delete_models(self, call: Call) -> Any:
        """Custom models named by `?slugs=a,b` (Portkey's spec) or a `{models: [...]}` body (its
        Terraform provider); naming a built-in model is refused, an unknown one is nothing to do."""
        if "slugs" in call.request.query:
            named, where = (
                [s.strip() for s in call.request.query["slugs"].split(",") if s.strip()],
                "query.slugs",
            )
        else:  # the contract requires one of the two (`x-portkey-requires-one-of`)
            named, where = (call.request.body or {}).get("models", []), "body.models"

        def plan(record: Record) -> Planned:
            known = {m["slug"]: bool(m.get("is_custom")) for m in record["models"]}
            if not named:
                raise ValidationFailed([Violation(where, "names no model")])
            if not all(known.get(slug, True) for slug in named):
                raise ValidationFailed(
                    [Violation(where, "names a built-in model; only custom models can be deleted")]
                )
            return {"models": [m for m in record["models"] if m["slug"] not in set(named)]}, []

        self._change(call, plan)
        return {}

    # -- workspace grants

    def _list_workspaces(self, call: Call) -> Any:
        record = self._found(call).record
        grants = [{"id": ws_id, **grant} for ws_id, grant in record["workspaces"].items()]
        return {
            "object": "list",
            "total": len(grants),
            "workspaces": grants,
            "global_workspace_access": record["global_workspace_access"],
        }

    def _update_workspaces(self, call: Call) -> Any:
        """Grants and revocations (`enabled: false`) with their limits; each newly enabled workspace
        gets the default provider unless `create_default_provider` is false. All or nothing: a slug
        clash changes nothing."""
        body = call.body

        def plan(record: Record) -> Planned:
            if record["type"] == "workspace" and body.get("workspaces"):
                raise Forbidden("A workspace integration cannot be granted to other workspaces")
            grants = {} if body.get("override_existing_workspace_access") else dict(record["workspaces"])
            defaults: list[DefaultProvider] = []
            for index, item in enumerate(body.get("workspaces", [])):
                where = f"body.workspaces[{index}]"
                workspace = self.policy.workspace_for(call.principal, item["id"], f"{where}.id")
                was_enabled = record["workspaces"].get(item["id"], {}).get("enabled", False)
                grants[item["id"]] = {
                    "enabled": item["enabled"],
                    "usage_limits": item.get("usage_limits"),
                    "rate_limits": item.get("rate_limits"),
                    "status": "active",
                    "last_updated_at": timestamp(self.engine.clock()),
                }
                create = item.get("create_default_provider", body.get("create_default_provider", True))
                if item["enabled"] and not was_enabled and create:
                    slug = (
                        item.get("default_provider_slug")
                        or body.get("default_provider_slug")
                        or record["slug"]
                    )
                    slug_where = (
                        f"{where}.default_provider_slug"
                        if "default_provider_slug" in item
                        else "body.default_provider_slug"
                    )
                    defaults.append(self._default_provider(record, workspace, slug, slug_where))
            changes: Record = {"workspaces": grants, "last_updated_at": timestamp(self.engine.clock())}
            if "global_workspace_access" in body:
                changes["global_workspace_access"] = body["global_workspace_access"]
            return changes, defaults

        self._change(call, plan)
        return {}

    def enabled_for(self, workspace: Workspace, ref: str) -> Record:
        """The integration `ref` (slug or id) if `workspace` may create providers on it; not found
        if there is none, 400 if it is not enabled for the workspace."""
        record, _ = self.engine.find(self.engine.namespace_in(workspace.organisation_id), ref)
        if not _usable_in(record, workspace):
            raise ValidationFailed(
                [Violation("body.integration_id", "names an integration not enabled for this workspace")]
            )
        return record

    # -- helpers

    def _found(self, call: Call) -> Found:
        """The integration of the path, if the caller may see it (and, to change it, change it)."""
        record, text, _ = self.engine.find_for(call)
        return Found(record, text)

    def _change(self, call: Call, plan: Callable[[Record], Planned]) -> None:
        """Write what `plan` makes of the integration of the path, as the integration is when it is
        written: planned from the record as read, written only if the record is still that (else
        read and planned again), with the default providers the plan makes, or not at all."""
        for _ in range(WRITE_ATTEMPTS):
            found = self._found(call)
            changes, defaults = plan(found.record)
            record = found.record
            update = Update(record["organisation_id"], record["slug"], found.text, changes)
            conflict = self.store.write(update, [default.insert for default in defaults])
            if conflict is None:
                return
            if conflict.taken is not None:
                raise _taken_by_provider(defaults[conflict.taken].where)
        busy = "The integration kept changing under this request; retry"
        raise ApiError(busy, 503, headers={"Retry-After": "1"})

    def _default_provider(
        self, integration: Record, workspace: Workspace, slug: str, where: str
    ) -> DefaultProvider:
        record = self.keys.new_record(
            workspace,
            name=integration["slug"],
            provider=integration["ai_provider_id"],
            note=DEFAULT_PROVIDER_NOTE,
            masked_api_key=integration["masked_key"],
            integration_id=integration["slug"],
            slug=slug,
        )
        return DefaultProvider(Insert(self.keys.store, workspace.namespace, record), where)

    def _masked_configurations(self, configurations: dict[str, Any]) -> dict[str, Any]:
        """Secret settings kept only masked, renamed `masked_<field>`; a secret document is dropped;
        custom headers kept with their values masked."""
        masked: dict[str, Any] = {}
        for name, value in configurations.items():
            if name in HEADER_VALUE_FIELDS:
                masked[name] = masked_header_values(value)
            elif name not in self.secret_fields:
                masked[name] = value
            elif isinstance(value, str):
                masked[f"masked_{name}"] = mask_secret(value)
        return masked


def _taken_by_provider(where: str) -> ValidationFailed:
    return ValidationFailed([Violation(where, "is already taken by a provider in that workspace")])


def _require(call: Call, kind: str, action: str | None = None) -> None:
    """The scope an integration of `kind` needs for this operation (`workspace_integrations.read`)."""
    action = action or (call.request.operation.scope or ".read").rsplit(".", 1)[1]
    AccessPolicy.require(call.principal, f"{kind}_integrations.{action}")


def _pinned(call: Call) -> Workspace | None:
    """The workspace of a workspace API key (one that cannot name another), else None."""
    return None if call.principal.may_choose_workspace else call.principal.workspace


def _usable_in(record: Record, workspace: Workspace) -> bool:
    if record["type"] == "workspace":
        return bool(record["workspace_id"] == workspace.workspace_id)
    grant = record["workspaces"].get(workspace.workspace_id)
    if grant is not None:
        return bool(grant["enabled"])
    return bool((record["global_workspace_access"] or {}).get("enabled"))


def listed(record: Record) -> dict[str, Any]:
    """An integration as `GET /integrations` lists it; `description` only when it has one (Portkey's
    published schema types a string, never null: docs/contract.md, "Rules shared across resources")."""
    answer = {
        "id": record["id"],
        "slug": record["slug"],
        "name": record["name"],
        "ai_provider_id": record["ai_provider_id"],
        "organisation_id": record["organisation_id"],
        "workspace_id": record["workspace_id"],
        "type": record["type"],
        "status": record["status"],
        "description": record["description"],
        "created_at": record["created_at"],
        "last_updated_at": record["last_updated_at"],
        "object": "integration",
    }
    return without_unset(answer, "description")


def detail(record: Record) -> dict[str, Any]:
    """An integration as `GET /integrations/{slug}` answers it: secrets only masked."""
    enabled = [grant for grant in record["workspaces"].values() if grant["enabled"]]
    return {
        **listed(record),
        "masked_key": record["masked_key"],
        "configurations": record["configurations"],
        "global_workspace_access_settings": record["global_workspace_access"],
        "allow_all_models": record["allow_all_models"],
        "workspace_count": len(enabled),
        "secret_mappings": record["secret_mappings"],
        "pricing_adjustments": record["pricing_adjustments"],
        "object": "integration",
    }


def _model_out(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": model["slug"],
        "name": model.get("name", model["slug"]),
        "enabled": model["enabled"],
        "is_custom": bool(model.get("is_custom", False)),
        "is_finetune": bool(model.get("is_finetune", False)),
        "base_model_slug": model.get("base_model_slug"),
        "configurations": model.get("configurations"),
        "pricing_config": model.get("pricing_config"),
    }
