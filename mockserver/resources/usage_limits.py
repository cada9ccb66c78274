"""A usage-limits policy's entities and their reset; the engine serves the policies themselves.

An entity is one value of the policy's `group_by` (an API key, a user) with the usage counted for
it. The mock meters no traffic, so a policy has no entities: its list is an empty page and resetting
an entity answers 404, as Portkey's spec documents for an entity it does not know. Both answer 404
for a policy the caller has not got.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver import responses
from mockserver.errors import NotFound
from mockserver.resources import Call, Handler
from mockserver.resources.engine import DeclaredResource


class UsageLimitEntities:
    """`GET .../entities` and `PUT .../entities/{entityId}/reset` of a usage-limits policy."""

    riding: frozenset[str] = frozenset()

    def __init__(self, policies: DeclaredResource, not_found_status: int = 404) -> None:
        self.policies = policies
        self.not_found_status = not_found_status

    def handlers(self) -> Mapping[str, Handler]:
        return {"listUsageLimitsPolicyEntities": self._entities, "resetUsageLimitsPolicyEntity": self._reset}

    def _entities(self, call: Call) -> Any:
        self.policies.find_for(call)
        return responses.page(0, [])

    def _reset(self, call: Call) -> Any:
        self.policies.find_for(call)
        entity = call.request.path_params["entityId"]
        shown = entity if len(entity) <= 100 else entity[:100] + "..."
        raise NotFound(f"Usage limits policy entity not found: {shown}", self.not_found_status)
