"""SCIM group to workspace mappings: what their marker cannot say.

The engine serves the list, create and delete from `openapi.yaml`; this module joins a new mapping
to the rest (docs/admin-workspaces-and-people.md): its workspace, named by id or slug, must be one
of the organisation's (else the workspace's own not-found answer, 403, as an invite naming one
gets), and is kept by its id; a group named by `scim_group_name` is made, with an id derived from
the organisation and the name (so two mappings of one new group share it); a group named by id
keeps the name an earlier mapping gave it, if any. The mock provisions no SCIM users.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from mockserver.access import derived_id
from mockserver.resources import Call
from mockserver.resources.engine import DeclaredResource
from mockserver.responses import each_readable
from mockserver.state.records.base import Record

NAME = "scim-workspace-mapping"


class ScimMappings:
    """Hooks a mapping's create to the workspaces it names; serves no operation of its own."""

    def __init__(self, mappings: DeclaredResource, workspaces: DeclaredResource) -> None:
        self.mappings = mappings
        self.workspaces = workspaces
        mappings.creating.append(self._joined)

    @classmethod
    def joining(cls, resources: Iterable[DeclaredResource]) -> ScimMappings | None:
        """The module over the contract's declared resources; None unless it declares both."""
        by_name = {resource.declaration.name: resource for resource in resources}
        if NAME in by_name and "workspace" in by_name:
            return cls(by_name[NAME], by_name["workspace"])
        return None

    def _joined(self, call: Call, mapping: Record) -> None:
        organisation = call.principal.organisation_id
        named = str(call.body["workspace_id"])
        workspace = self.workspaces.find(self.workspaces.namespace_in(organisation), named)[0]
        mapping["workspace_id"] = workspace["id"]
        name = mapping.pop("scim_group_name", None)
        if name is not None:
            group_id = derived_id("scim-group", f"{organisation}/{name}")
            mapping |= {"scim_group": name, "scim_group_id": group_id}
        else:
            mapping["scim_group"] = self._group_name(organisation, mapping["scim_group_id"])

    def _group_name(self, organisation: str, group_id: str) -> str | None:
        """The name an earlier mapping of the organisation gave this group, if one did."""
        texts = self.mappings.store.page_text(self.mappings.namespace_in(organisation), 0, 2**31)[1]
        for other in each_readable(texts, json.loads):
            if other.get("scim_group_id") == group_id and other.get("scim_group"):
                return str(other["scim_group"])
        return None
