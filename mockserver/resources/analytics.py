"""Analytics: 17 graphs, a cache summary and 3 groups, computed on every call from the logs and
feedback the mock holds (`resources/logs.py`), never stored.

- A call reads one workspace's logs, as logs are kept: a workspace API key its own (the published
  `workspace_slug` is then not taken into account), a key that may choose its workspace the one
  `workspace_slug` names (the same name a log's `workspace_id` was inserted under), else its own; an
  organisation admin key without one is refused (400 naming `query.workspace_slug`), as the mock
  knows no default workspace of an organisation.
- The logs are those the window and filters match (`analytics_query.py`); the feedback those given
  in the window, and, when a filter narrows the logs, only on the traces of the logs it kept.
- The figures are `analytics_figures.py`; the groups here: one item per user, model or value of a
  metadata key, the most requests first (then by name), paged by `current_page` (from 0) and
  `page_size` (20 by default), `total` counting every group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mockserver.access import Workspace
from mockserver.contract.date_times import timestamp
from mockserver.errors import ValidationFailed
from mockserver.resources import Call, Handler
from mockserver.resources.analytics_figures import GRAPHS, GROUP, Sample, mean, weighted
from mockserver.resources.analytics_query import Query, made_at, whole
from mockserver.resources.logs import Logs
from mockserver.state.records.base import Record
from mockserver.violations import Violation

DEFAULT_PAGE_SIZE = 20


class Analytics:
    """Serves every analytics operation from the logs and feedback of `logs`."""

    riding: frozenset[str] = frozenset()

    def __init__(self, logs: Logs) -> None:
        self.logs = logs

    def handlers(self) -> Mapping[str, Handler]:
        served: dict[str, Handler] = {op: self._graph(figures) for op, figures in GRAPHS.items()}
        served |= {
            "getUsersGroup": self._group(_by_user),
            "getAiModelsGroup": self._group(_by_model),
            "getMetadataGroup": self._group(_by_metadata),
        }
        return served

    def sample(self, call: Call) -> tuple[Sample, Mapping[str, list[Record]]]:
        """What the call matched, and each trace's feedback (of any time)."""
        query = Query.of(call.request.query)
        workspace = workspace_of(call)
        organisation = workspace.organisation_id
        logs = self.logs.logs_of(organisation, workspace.workspace_id)
        given = self.logs.feedback_of(organisation, workspace.workspace_id)
        by_trace: dict[str, list[Record]] = {}
        for one in given:
            by_trace.setdefault(str(one["trace_id"]), []).append(one)
        scores = {trace: sum(map(weighted, ones)) / len(ones) for trace, ones in by_trace.items()}
        kept = sorted(
            (log for log in logs if query.matches(log, scores)), key=lambda log: (made_at(log), log["id"])
        )
        traces = {str(log["trace_id"]) for log in kept}
        in_window = [
            one for one in given
            if query.window.holds(made_at(one)) and (not query.narrows() or str(one["trace_id"]) in traces)
        ]  # fmt: skip
        models: dict[str, list[str]] = {}
        for log in kept:
            model = log["metrics"].get("ai_model")
            named = models.setdefault(str(log["trace_id"]), [])
            if model and model not in named:
                named.append(model)
        return Sample(query.window, kept, in_window, models), by_trace

    def _graph(self, figures: Callable[[Sample], dict[str, Any]]) -> Handler:
        return lambda call: figures(self.sample(call)[0])

    def _group(
        self, grouping: Callable[[Call, Sample, Mapping[str, list[Record]]], list[dict[str, Any]]]
    ) -> Handler:
        def handler(call: Call) -> dict[str, Any]:
            sample, by_trace = self.sample(call)
            groups = grouping(call, sample, by_trace)
            page, size = call.request.query.get("current_page", 0), call.request.query.get("page_size")
            size = DEFAULT_PAGE_SIZE if size is None else size
            shown = groups[page * size : (page + 1) * size]
            return {"object": "list", "total": len(groups), "data": shown}

        return handler


def workspace_of(call: Call) -> Workspace:
    """The workspace whose logs a call reads (the module's docstring says which)."""
    if call.workspace is not None:  # a key bound to its workspace
        return call.workspace
    principal, named = call.principal, call.request.query.get("workspace_slug")
    own = principal.workspace
    if named is None or (own is not None and named == own.workspace_id):
        if own is None:
            rule = "is required for organisation admin API keys"
            raise ValidationFailed([Violation("query.workspace_slug", rule)])
        return own
    return Workspace(principal.organisation_id, named, named)


def _grouped(logs: list[Record], key: Callable[[Record], str | None]) -> list[tuple[str, list[Record]]]:
    """Logs by a key (a log without one left out), the most first, then by key."""
    groups: dict[str, list[Record]] = {}
    for log in logs:
        name = key(log)
        if name is not None:
            groups.setdefault(name, []).append(log)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def _cost(logs: list[Record]) -> float:
    return float(sum(log["metrics"].get("cost") or 0 for log in logs))


def _by_user(_: Call, sample: Sample, __: Mapping[str, list[Record]]) -> list[dict[str, Any]]:
    grouped = _grouped(sample.logs, lambda log: log["metrics"].get("user") or None)
    return [
        {"user": user, "requests": str(len(logs)), "cost": _text(_cost(logs)), "object": GROUP}
        for user, logs in grouped
    ]


def _by_model(_: Call, sample: Sample, __: Mapping[str, list[Record]]) -> list[dict[str, Any]]:
    grouped = _grouped(sample.logs, lambda log: log["metrics"].get("ai_model") or None)
    return [{"ai_model": model, "requests": str(len(logs)), "object": GROUP} for model, logs in grouped]


def _by_metadata(call: Call, sample: Sample, by_trace: Mapping[str, list[Record]]) -> list[dict[str, Any]]:
    key = call.request.path_params["metadataKey"]
    grouped = _grouped(sample.logs, lambda log: _value_text((log.get("metadata") or {}).get(key, None)))
    items = []
    for value, logs in grouped:
        judged = [log for log in logs if by_trace.get(str(log["trace_id"]))]
        scores = [weighted(one) for log in judged for one in by_trace[str(log["trace_id"])]]
        items.append(
            {
                "metadata_value": value,
                "requests": len(logs),
                "cost": whole(_cost(logs)),
                "avg_tokens": mean([log["metrics"].get("total_units") or 0 for log in logs]),
                "avg_weighted_feedback": mean(scores),
                "requests_with_feedback": len(judged),
                "last_seen": timestamp(max(made_at(log) for log in logs)),
                "object": GROUP,
            }
        )
    return items


def _value_text(value: Any) -> str | None:
    """A metadata value as a group's name: text as it is, others as JSON writes them; absent: None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(cents: float) -> str:
    """Cents as the users group writes them (a string): at most 6 decimals, no trailing zeros."""
    return f"{cents:.6f}".rstrip("0").rstrip(".") or "0"
