"""What an analytics call asks for: its window, cut into time buckets, and the filters a log must pass.

- The window is `time_of_generation_min` to `time_of_generation_max`, both included. A window, or a
  range filter, whose end is before its start holds nothing: a schema-valid request is answered,
  with empty figures and, for a window, no buckets.
- Buckets have one width, the smallest of a minute, an hour, a day or a week that cuts the window
  into at most `MAX_BUCKETS`; a longer window takes whole weeks. They are aligned on UTC boundaries
  of that width (weeks start on Monday), from the one holding the start to the one holding the
  end, so a log of the window falls in exactly one bucket and the same call always answers the
  same buckets.
- Filters on what a log keeps (tokens, cost, status, trace, span, metadata, cache status, weighted
  feedback of its trace) narrow the logs; filters on what only Portkey's gateway records
  (`GATEWAY_ONLY`: virtual keys, configs, API keys, prompts, provider and model pairs) match no
  inserted log, so any value of them answers empty figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from mockserver.contract.date_times import parse, query_moment
from mockserver.errors import ValidationFailed
from mockserver.state.records.base import Record
from mockserver.violations import Violation

MAX_BUCKETS = 100
WIDTHS = (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(weeks=1))
ORIGIN = datetime(1970, 1, 5, tzinfo=UTC)
"""Where buckets are counted from: a Monday at midnight UTC, so days and weeks align on UTC dates."""
GATEWAY_ONLY = ("virtual_keys", "configs", "api_key_ids", "prompt_slug", "ai_org_model")
RANGES = {
    "total_units": "total_units",
    "cost": "cost",
    "prompt_token": "req_units",
    "completion_token": "res_units",
}
"""Range filters (`<name>_min`, `<name>_max`) -> the log metric they bound."""
LISTS = {"trace_id": "trace_id", "span_id": "span_id"}
"""Comma-separated filters -> where a log keeps the value (`span_id` in its metadata)."""
HITS = {"HIT": "simple", "SEMANTIC HIT": "semantic"}
"""Cache statuses that are hits, and their kind."""


def is_hit(log: Record) -> bool:
    return str(log["metrics"].get("cache_status") or "").upper() in HITS


def made_at(record: Record) -> datetime:
    moment = parse(str(record.get("created_at", "")))
    return moment if moment is not None else ORIGIN


@dataclass(frozen=True)
class Window:
    """The requested window and its buckets."""

    start: datetime
    end: datetime
    width: timedelta = field(init=False)
    first: datetime = field(init=False)

    def __post_init__(self) -> None:
        span = self.end - self.start
        width = next((w for w in WIDTHS if span // w < MAX_BUCKETS), None)
        if width is None:  # whole weeks, as few as keep the count in bound
            width = WIDTHS[-1] * (span // (WIDTHS[-1] * MAX_BUCKETS) + 1)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "first", ORIGIN + ((self.start - ORIGIN) // width) * width)

    @property
    def count(self) -> int:
        return (self.end - self.first) // self.width + 1 if self.start <= self.end else 0

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end

    def bucket_of(self, moment: datetime) -> int:
        return (moment - self.first) // self.width

    def starts(self) -> list[datetime]:
        return [self.first + i * self.width for i in range(self.count)]


@dataclass(frozen=True)
class Query:
    """An analytics call's window and filters, checked."""

    window: Window
    filters: Mapping[str, Any]
    metadata: Mapping[str, Any]
    statuses: frozenset[int] | None
    cache_statuses: frozenset[str] | None

    @classmethod
    def of(cls, query: Mapping[str, Any]) -> Query:
        """The call's query, or 400 naming the first value that cannot be used."""
        start, end = (query_moment(query, f"time_of_generation_{end}") for end in ("min", "max"))
        return cls(
            Window(start, end),
            query,
            _metadata(query.get("metadata")),
            _statuses(query.get("status_code")),
            _words(query.get("cache_status")),
        )

    def narrows(self) -> bool:
        """Whether any filter beyond the window and workspace is given (feedback then follows the logs)."""
        return any(k not in ("time_of_generation_min", "time_of_generation_max", "workspace_slug",
                             "current_page", "page_size") for k in self.filters)  # fmt: skip

    def matches(self, log: Record, weighted: Mapping[str, float]) -> bool:
        """Whether `log` passes every filter; `weighted`: each trace's mean weighted feedback."""
        metrics, metadata = log["metrics"], log.get("metadata") or {}
        if not self.window.holds(made_at(log)) or any(self.filters.get(k) for k in GATEWAY_ONLY):
            return False
        for name, metric in RANGES.items():
            value = metrics.get(metric) or 0
            low, high = self.filters.get(f"{name}_min"), self.filters.get(f"{name}_max")
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        if self.statuses is not None and metrics.get("response_status_code") not in self.statuses:
            return False
        if (
            self.cache_statuses is not None
            and str(metrics.get("cache_status")).upper() not in self.cache_statuses
        ):
            return False
        for name, where in LISTS.items():
            wanted = self.filters.get(name)
            kept = log.get(where) if where == "trace_id" else metadata.get(where)
            if wanted is not None and str(kept) not in wanted.split(","):
                return False
        if any(k not in metadata or metadata[k] != v for k, v in self.metadata.items()):
            return False
        low, high = self.filters.get("weighted_feedback_min"), self.filters.get("weighted_feedback_max")
        if low is not None or high is not None:
            score = weighted.get(str(log.get("trace_id")))
            if score is None or (low is not None and score < low) or (high is not None and score > high):
                return False
        return True


def _refuse(name: str, rule: str) -> NoReturn:
    raise ValidationFailed([Violation(f"query.{name}", rule)])


def _metadata(text: Any) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        _refuse("metadata", "is not a JSON object of metadata keys and values")
    return dict(value)


def _statuses(text: Any) -> frozenset[int] | None:
    if text is None:
        return None
    parts = [part.strip() for part in str(text).split(",")]
    if not all(part.isascii() and part.isdigit() and 100 <= int(part) <= 599 for part in parts):
        _refuse("status_code", "is not a comma-separated list of HTTP statuses (100 to 599)")
    return frozenset(int(part) for part in parts)


def _words(text: Any) -> frozenset[str] | None:
    return None if text is None else frozenset(part.strip().upper() for part in str(text).split(","))


def whole(value: float) -> int:
    """A figure as the contract's integers: rounded half away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))
