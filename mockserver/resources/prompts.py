"""Prompts and their partials: versions, publishing, render and completions, on the engine's records.

The engine serves a prompt's and a partial's create, list and delete from their markers. A record
keeps its versions inside itself (`versions`, oldest first) with the number of the published one
(`default_version`), so saving a version, publishing one or moving a label is one compare-and-set
write of one record: concurrent writes through any process never lose one.

- A create makes version 1 and publishes it. An update naming a template field (the string, the
  model, its settings...) saves a new version from the latest, the fields it does not name copied
  forward (Portkey's `patch: true`; the mock does not insist on every field without it), and does not
  publish it; `name` and `collection_id` change the prompt itself. `makeDefault` publishes a version
  by its number, as the Terraform provider does after an update.
- A read without a version answers the published one; `?version=latest|default|<n>` and, for render
  and completions, `<prompt>@<n>`, `@latest` or `@<label name>` choose another.
- A prompt lives in a collection of its workspace, named by id or slug (else 400, the contract's state
  rule). A version's label (`label_id`) is a label of the organisation that the prompt's workspace may
  use; it leaves the prompt's other versions.
- Render fills the template (mockserver/resources/prompt_templates.py) with the call's variables and
  the partials it includes, and answers `{success, data}`: the messages (or prompt), the model and
  the saved settings with the call's own over them. Completions call no model: they answer a
  deterministic completion of that request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from mockserver.contract.date_times import timestamp
from mockserver.contract.document import Contract
from mockserver.errors import ApiError, NotFound, ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.engine import WRITE_ATTEMPTS, DeclaredResource
from mockserver.resources.ids import new_id
from mockserver.resources.prompt_templates import TemplateRefused, completion, render
from mockserver.state.records.base import Record, Update
from mockserver.state.trip import apart
from mockserver.violations import Violation

PROMPT_VERSION_FIELDS = (
    "string",
    "parameters",
    "model",
    "virtual_key",
    "functions",
    "tools",
    "tool_choice",
    "template_metadata",
    "is_raw_template",
    "prompt_metadata",
)
"""A prompt's fields that belong to a version: naming one in an update saves a new version."""
PARTIAL_VERSION_FIELDS = ("string",)
NOT_SETTINGS = ("variables", "stream", "prompt_id")
"""What a render or completion body holds besides model settings, which override the saved ones."""
SELECTOR = re.compile(r"^(?P<ref>[^@]+)(?:@(?P<version>[^@]+))?$")


@dataclass(frozen=True)
class Kind:
    """How prompts and partials differ: the fields of a version and the names answers give them."""

    version_fields: tuple[str, ...]
    number: str
    """A version's number in answers (`prompt_version`, `version`)."""
    version_id: str
    """The version's id in a read (`prompt_version_id`, `prompt_partial_version_id`)."""
    described: str
    """The field a version's description comes in (`version_description`)."""


PROMPT = Kind(PROMPT_VERSION_FIELDS, "prompt_version", "prompt_version_id", "version_description")
PARTIAL = Kind(PARTIAL_VERSION_FIELDS, "version", "prompt_partial_version_id", "version_description")


class Versioned:
    """The operations on a prompt's or a partial's versions; hooks the engine's create for version 1."""

    def __init__(self, engine: DeclaredResource, kind: Kind) -> None:
        self.engine = engine
        self.kind = kind
        engine.creating.append(self._first_version)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.engine.clock

    def _first_version(self, call: Call, record: Record) -> None:
        version = self._version(record, 1, record.pop(self.kind.described, None))
        for name in self.kind.version_fields:
            if name in record:
                version[name] = record.pop(name)
        record["versions"] = [version]
        record["default_version"] = 1
        record["version_id"] = version["id"]

    def _version(self, record: Record, number: int, description: Any) -> Record:
        return {
            "id": new_id(),
            "number": number,
            "description": description,
            "label_id": None,
            "status": "active",
            "created_at": record.get("last_updated_at") or timestamp(self.clock()),
        }

    # -- reading

    def found(self, call: Call, ref: str | None = None) -> tuple[Record, bytes, str]:
        """The record the call's item path names (or `ref`, without a version), if the call may see it."""
        if ref is not None:
            params = {**call.request.path_params, self.engine.declaration.item_parameter: ref}
            call = replace(call, request=replace(call.request, path_params=params))
        return self.engine.find_for(call)

    def chosen(self, record: Record, selector: str | None, label_id: Callable[[str], str | None]) -> Record:
        """The version `selector` names: none or `default` the published one, `latest`, a number, or
        a label's name; not found otherwise."""
        versions: list[Record] = record["versions"]
        if selector in (None, "", "default"):
            number = record["default_version"]
            return next(v for v in versions if v["number"] == number)
        if selector == "latest":
            return versions[-1]
        if selector is not None and selector.isdigit():
            for version in versions:
                if version["number"] == int(selector):
                    return version
        elif selector is not None:
            wanted = label_id(selector)
            for version in versions:
                if wanted is not None and version.get("label_id") == wanted:
                    return version
        raise NotFound(f"Version not found: {str(selector)[:100]}")

    def by_id(self, record: Record, version_id: str) -> Record:
        for version in record["versions"]:
            if version["id"] == version_id:
                return version
        raise NotFound(f"Version not found: {version_id[:100]}")

    # -- writing

    def rewrite(self, call: Call, change: Callable[[Record], Any], ref: str | None = None) -> Any:
        """Apply `change` to the record as read and write it if it is still that record; else read it
        again and retry. What `change` returns is the answer."""
        for _ in range(WRITE_ATTEMPTS):
            record, text, namespace = self.found(call, ref)
            planned = json.loads(text)
            answer = change(planned)
            changes = {k: v for k, v in planned.items() if record.get(k) != v}
            if not changes:
                return answer
            if self.engine.store.write(Update(namespace, record["slug"], text, changes)) is None:
                return answer
        raise ApiError(
            "The record kept changing under this request; retry", 503, headers={"Retry-After": "1"}
        )

    def updated(self, call: Call, own: Callable[[Record, dict[str, Any]], None]) -> Record:
        """An update: the prompt's own fields by `own`, a new latest version if the body names a
        version field (copied forward from the latest); the record as written."""
        body = call.body
        now = timestamp(self.clock())

        def change(record: Record) -> Record:
            own(record, body)
            latest = record["versions"][-1]
            sent = {name: body[name] for name in self.kind.version_fields if name in body}
            if sent:
                version = {**latest, **self._version(record, latest["number"] + 1, None)}
                version |= sent
                version["created_at"] = now
                if self.kind.described in body:
                    version["description"] = body[self.kind.described]
                record["versions"] = [*record["versions"], version]
            elif self.kind.described in body:
                record["versions"] = [
                    *record["versions"][:-1],
                    {**latest, "description": body[self.kind.described]},
                ]
            record["last_updated_at"] = now
            return record

        return dict(self.rewrite(call, change))

    def publish(self, call: Call) -> Any:
        number = call.body["version"]

        def change(record: Record) -> dict[str, Any]:
            if not any(v["number"] == number for v in record["versions"]):
                raise NotFound(f"Version not found: {number}")
            record["default_version"] = number
            record["last_updated_at"] = timestamp(self.clock())
            return {}

        return self.rewrite(call, change)


class Prompts:
    """The prompt operations no marker promises, and the hooks on the engine's prompts and partials."""

    riding: frozenset[str] = frozenset()

    def __init__(
        self,
        contract: Contract,
        prompts: DeclaredResource,
        partials: DeclaredResource | None,
        collections: DeclaredResource | None,
        labels: DeclaredResource | None,
    ) -> None:
        self.prompts = Versioned(prompts, PROMPT)
        self.partials = Versioned(partials, PARTIAL) if partials is not None else None
        self.collections = collections
        self.labels = labels
        create = contract.operations[prompts.declaration.operations["create"]]
        self.no_collection = create.state_rules.get(
            "body.collection_id", "names no collection of this workspace"
        )
        version_update = contract.operations.get("updatePromptVersion")
        self.no_label = version_update.state_rules.get("body.label_id", "") if version_update else ""
        prompts.creating.insert(0, self._in_collection)
        prompts.shown = _PromptsShown()
        prompts.listing.append(self._in_listed_collection)
        if partials is not None:
            partials.shown = _PartialsShown()
            partials.listing.append(self._in_listed_collection)

    def handlers(self) -> Mapping[str, Handler]:
        served: dict[str, Handler] = {
            "getPrompt": self._retrieve,
            "updatePrompt": self._update,
            "getPromptVersions": self._versions,
            "getPromptByVersion": self._retrieve_version,
            "updatePromptVersion": self._label_version,
            "updatePromptDefault": lambda call: self.prompts.publish(call),
            "createPromptRender": self._render,
            "createPromptCompletion": self._complete,
        }
        if self.partials is not None:
            partials = self.partials
            served |= {
                "getPromptPartial": self._retrieve_partial,
                "updatePromptPartial": self._update_partial,
                "getPromptPartialVersions": self._partial_versions,
                "updatePromptPartialDefault": lambda call: partials.publish(call),
            }
        return served

    # -- a prompt's collection

    def _collection(self, call: Call, ref: str, workspace_id: str | None) -> Record:
        """The collection `ref` names (id or slug) in the organisation, in `workspace_id` if given;
        400 naming `body.collection_id` otherwise."""
        if self.collections is None:
            raise ValidationFailed([Violation("body.collection_id", self.no_collection)])
        organisation = call.principal.organisation_id
        try:
            with apart():
                found = self.collections.find(self.collections.namespace_in(organisation), ref)[0]
        except NotFound:
            found = None
        if found is None or (workspace_id is not None and found.get("workspace_id") != workspace_id):
            raise ValidationFailed([Violation("body.collection_id", self.no_collection)])
        return found

    def _in_collection(self, call: Call, record: Record) -> None:
        collection = self._collection(call, str(record["collection_id"]), record.get("workspace_id"))
        record["collection_id"] = collection["id"]
        record["workspace_id"] = collection["workspace_id"]

    def _in_listed_collection(self, call: Call) -> Callable[[Record], bool]:
        ref = call.request.query.get("collection_id")
        if ref is None or self.collections is None:
            return lambda record: True
        try:
            namespace = self.collections.namespace_in(call.principal.organisation_id)
            wanted = self.collections.find(namespace, str(ref))[0]["id"]
        except NotFound:
            return lambda record: False
        return lambda record: record.get("collection_id") == wanted

    # -- prompts

    def _retrieve(self, call: Call) -> Any:
        record = self.prompts.found(call)[0]
        version = self.prompts.chosen(record, call.request.query.get("version"), lambda name: None)
        return prompt_at(record, version)

    def _retrieve_version(self, call: Call) -> Any:
        record = self.prompts.found(call)[0]
        return prompt_at(record, self.prompts.by_id(record, call.request.path_params["versionId"]))

    def _update(self, call: Call) -> Any:
        def own(record: Record, body: dict[str, Any]) -> None:
            if "name" in body:
                record["name"] = body["name"]
            if "collection_id" in body:
                record["collection_id"] = self._collection(
                    call, body["collection_id"], record["workspace_id"]
                )["id"]

        record = self.prompts.updated(call, own)
        return {"id": record["id"], "slug": record["slug"], "prompt_version_id": record["versions"][-1]["id"]}

    def _versions(self, call: Call) -> Any:
        record = self.prompts.found(call)[0]
        data = [
            {
                "id": v["id"],
                "prompt_id": record["id"],
                "prompt_template": v.get("string", ""),
                "prompt_version": v["number"],
                "prompt_description": v.get("description"),
                "label_id": v.get("label_id"),
                "created_at": v["created_at"],
                "status": v["status"],
                "object": "prompt",
            }
            for v in reversed(record["versions"])
        ]
        return _paged(call, data)

    def _label_version(self, call: Call) -> Any:
        version_id = call.request.path_params["versionId"]
        if "label_id" not in call.body:  # nothing to change; the version must still be there
            self.prompts.by_id(self.prompts.found(call)[0], version_id)
            return {}
        label = call.body["label_id"]

        def change(record: Record) -> dict[str, Any]:
            self.prompts.by_id(record, version_id)
            if label is not None:
                self._label(call, label, record["workspace_id"])
            record["versions"] = [
                {**v, "label_id": label}
                if v["id"] == version_id
                else ({**v, "label_id": None} if label is not None and v.get("label_id") == label else v)
                for v in record["versions"]
            ]
            return {}

        return self.prompts.rewrite(call, change)

    def _label(self, call: Call, label_id: str, workspace_id: str | None) -> Record:
        """The label `label_id` names, if the prompt's workspace may use it (its own or universal)."""
        found = None
        if self.labels is not None:
            try:
                with apart():
                    found = self.labels.find(
                        self.labels.namespace_in(call.principal.organisation_id), label_id
                    )[0]
            except NotFound:
                found = None
        if found is None or found.get("workspace_id") not in (None, workspace_id):
            raise ValidationFailed([Violation("body.label_id", self.no_label)])
        return found

    def _label_named(self, call: Call, workspace_id: str | None) -> Callable[[str], str | None]:
        """A label's id by its name, among the labels a prompt's workspace may use (its own first)."""

        def named(name: str) -> str | None:
            if self.labels is None:
                return None
            namespace = self.labels.namespace_in(call.principal.organisation_id)
            _, texts = self.labels.store.page_text(namespace, 0, 2**31)
            fitting = [json.loads(t) for t in texts]
            fitting = [
                r for r in fitting if r.get("name") == name and r.get("workspace_id") in (None, workspace_id)
            ]
            fitting.sort(key=lambda r: r.get("workspace_id") is None)
            return str(fitting[0]["id"]) if fitting else None

        return named

    def _run(self, call: Call) -> tuple[Record, Record, dict[str, Any]]:
        """The prompt and version a render or completion names, and the request rendered from them."""
        parameter = self.prompts.engine.declaration.item_parameter
        matched = SELECTOR.match(call.request.path_params[parameter])
        if matched is None:
            raise NotFound(f"Prompt not found: {call.request.path_params[parameter][:100]}")
        record = self.prompts.found(call, matched["ref"])[0]
        with apart():
            version = self.prompts.chosen(
                record, matched["version"], self._label_named(call, record["workspace_id"])
            )
            partial_text = self._partial_text(call, record.get("workspace_id"))
            try:
                filled = render(
                    str(version.get("string", "")),
                    call.body.get("variables") or {},
                    partial_text,
                    raw=version.get("is_raw_template") == 1,
                )
            except TemplateRefused:
                rule = call.request.operation.state_rules.get(f"path.{parameter}", "")
                raise ValidationFailed([Violation(f"path.{parameter}", rule)]) from None
        settings = dict(version.get("parameters") or {})
        settings |= {name: value for name, value in call.body.items() if name not in NOT_SETTINGS}
        model = settings.pop("model", None) or version.get("model")
        request = {**({"model": model} if model else {}), **settings, **filled}
        return record, version, request

    def _render(self, call: Call) -> Any:
        return {"success": True, "data": self._run(call)[2]}

    def _complete(self, call: Call) -> Any:
        _, _, request = self._run(call)
        created = int(self.prompts.clock().timestamp())
        return completion(request, str(request.get("model") or "mock-model"), created)

    def _partial_text(self, call: Call, workspace_id: str | None) -> Callable[[str], str | None]:
        """A partial's text by the name a template includes it with, in the prompt's workspace."""

        def text(name: str) -> str | None:
            if self.partials is None:
                return None
            matched = SELECTOR.match(name.strip())
            if matched is None:
                return None
            engine = self.partials.engine
            try:
                record = engine.find(engine.namespace_in(call.principal.organisation_id), matched["ref"])[0]
            except NotFound:
                return None
            if record.get("workspace_id") != workspace_id:
                return None
            try:
                return str(
                    self.partials.chosen(record, matched["version"], lambda label: None).get("string", "")
                )
            except NotFound:
                return None

        return text

    # -- partials

    def _retrieve_partial(self, call: Call) -> Any:
        assert self.partials is not None
        record = self.partials.found(call)[0]
        return partial_at(
            record, self.partials.chosen(record, call.request.query.get("version"), lambda n: None)
        )

    def _update_partial(self, call: Call) -> Any:
        assert self.partials is not None

        def own(record: Record, body: dict[str, Any]) -> None:
            for name in ("name", "status"):
                if name in body:
                    record[name] = body[name]
            if "description" in body:  # the published update's spelling of a version's description
                latest = record["versions"][-1]
                record["versions"] = [
                    *record["versions"][:-1],
                    {**latest, "description": body["description"]},
                ]

        record = self.partials.updated(call, own)
        return {"prompt_partial_version_id": record["versions"][-1]["id"]}

    def _partial_versions(self, call: Call) -> Any:
        assert self.partials is not None
        record = self.partials.found(call)[0]
        data = [
            {
                "prompt_partial_id": record["id"],
                "prompt_partial_version_id": v["id"],
                "slug": record["slug"],
                "version": v["number"],
                "string": v.get("string", ""),
                "description": v.get("description"),
                "created_at": v["created_at"],
                "prompt_version_status": v["status"],
                "object": "partial",
            }
            for v in reversed(record["versions"])
        ]
        return _paged(call, data)


def prompt_at(record: Record, version: Record) -> dict[str, Any]:
    """A prompt as a read answers it, at `version`."""
    parameters = dict(version.get("parameters") or {})
    if version.get("model"):
        parameters.setdefault("model", version["model"])  # Portkey answers the model among them too
    return {
        **prompt_summary(record, version),
        "string": version.get("string", ""),
        "parameters": parameters,
        "prompt_version": version["number"],
        "prompt_version_id": version["id"],
        "prompt_version_status": version["status"],
        "prompt_version_description": version.get("description"),
        "prompt_version_label_id": version.get("label_id"),
        "virtual_key": version.get("virtual_key"),
        "functions": version.get("functions"),
        "tools": version.get("tools"),
        "tool_choice": version.get("tool_choice"),
        "template_metadata": version.get("template_metadata") or {},
        "is_raw_template": version.get("is_raw_template") or 0,
    }


def prompt_summary(record: Record, version: Record | None = None) -> dict[str, Any]:
    """A prompt as a list answers it: its model is the published version's."""
    if version is None:
        version = next(v for v in record["versions"] if v["number"] == record["default_version"])
    return {
        "id": record["id"],
        "slug": record["slug"],
        "name": record["name"],
        "collection_id": record["collection_id"],
        "workspace_id": record["workspace_id"],
        "model": version.get("model"),
        "status": record["status"],
        "created_at": record["created_at"],
        "last_updated_at": record["last_updated_at"],
        "object": "prompt",
    }


def partial_at(record: Record, version: Record) -> dict[str, Any]:
    return {
        **partial_summary(record),
        "string": version.get("string", ""),
        "version": version["number"],
        "version_description": version.get("description"),
        "prompt_partial_version_id": version["id"],
        "prompt_partial_version_status": version["status"],
    }


def partial_summary(record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "slug": record["slug"],
        "name": record["name"],
        "collection_id": record.get("collection_id"),
        "workspace_id": record["workspace_id"],
        "created_at": record["created_at"],
        "last_updated_at": record["last_updated_at"],
        "status": record["status"],
        "object": "partial",
    }


def _paged(call: Call, data: list[dict[str, Any]]) -> dict[str, Any]:
    page, size = call.request.query.get("current_page", 0), call.request.query.get("page_size", 100)
    return {"object": "list", "total": len(data), "data": data[page * size : (page + 1) * size]}


class _PromptsShown:
    """The engine's list of prompts, as summaries."""

    def retrieved(self, text: bytes) -> Any:
        return prompt_summary(json.loads(text))

    def page(self, total: int, texts: list[bytes]) -> Any:
        from mockserver import responses

        return responses.page(total, responses.each_readable(texts, lambda t: prompt_summary(json.loads(t))))


class _PartialsShown:
    def retrieved(self, text: bytes) -> Any:
        return partial_summary(json.loads(text))

    def page(self, total: int, texts: list[bytes]) -> Any:
        from mockserver import responses

        return responses.page(total, responses.each_readable(texts, lambda t: partial_summary(json.loads(t))))
