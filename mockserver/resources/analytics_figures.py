"""The figures of each analytics answer, computed from the logs and feedback a call matched.

A graph answers one data point per bucket of the window (zeros where nothing happened) and a
summary over the whole window. Counts and sums in the summary are the sums of the buckets; means,
rates, percentiles and distinct users are computed over the window's logs (a user seen in two
buckets is one user). Every figure is an integer, as the contract's schemas say, rounded half away
from zero; a mean or rate of nothing is 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.contract.date_times import timestamp
from mockserver.resources.analytics_query import HITS, Window, is_hit, made_at, whole
from mockserver.state.records.base import Record

GRAPH, SUMMARY, GROUP = "analytics-graph", "analytics-summary", "analytics-group"


@dataclass(frozen=True)
class Sample:
    """What one call matched: its window, its logs, the feedback in its window, and each trace's
    feedback (of any time) for the figures that join feedback to logs."""

    window: Window
    logs: list[Record]
    feedback: list[Record]
    models: Mapping[str, list[str]]
    """trace id -> the models that answered its logs (first seen first)."""

    def buckets(self, records: Iterable[Record]) -> list[list[Record]]:
        cut: list[list[Record]] = [[] for _ in range(self.window.count)]
        for record in records:
            cut[self.window.bucket_of(made_at(record))].append(record)
        return cut


def mean(values: list[float]) -> int:
    return whole(sum(values) / len(values)) if values else 0


def percent(part: int, total: int) -> int:
    return whole(100 * part / total) if total else 0


def percentile(values: list[int], rank: int) -> int:
    """The nearest-rank percentile: the smallest value at least `rank`% of the values reach."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[max(0, -(-rank * len(ordered) // 100) - 1)]


def weighted(feedback: Record) -> float:
    return float(feedback["value"]) * float(feedback.get("weight", 1))


def _metric(name: str) -> Callable[[Record], Any]:
    return lambda log: log["metrics"].get(name) or 0


def _graph(sample: Sample, records: list[Record], point: Callable[[list[Record]], dict[str, Any]],
           summary: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    points = [
        {"timestamp": timestamp(start), **point(bucket)}
        for start, bucket in zip(sample.window.starts(), sample.buckets(records), strict=True)
    ]
    return {"summary": summary, "data_points": points, "object": GRAPH}


def _total_and_mean(sample: Sample, value: Callable[[Record], Any]) -> dict[str, Any]:
    def point(logs: list[Record]) -> dict[str, Any]:
        return {"total": whole(sum(map(value, logs))), "avg": mean([value(log) for log in logs])}

    return _graph(sample, sample.logs, point, point(sample.logs))


def requests(sample: Sample) -> dict[str, Any]:
    return _graph(sample, sample.logs, lambda logs: {"total": len(logs)}, {"total": len(sample.logs)})


def cost(sample: Sample) -> dict[str, Any]:
    return _total_and_mean(sample, _metric("cost"))


def tokens(sample: Sample) -> dict[str, Any]:
    return _total_and_mean(sample, _metric("total_units"))


def latency(sample: Sample) -> dict[str, Any]:
    def point(logs: list[Record]) -> dict[str, Any]:
        times = [int(_metric("response_time")(log)) for log in logs]
        return {"avg": mean(list(map(float, times)))} | {f"p{r}": percentile(times, r) for r in (50, 90, 99)}

    return _graph(sample, sample.logs, point, point(sample.logs))


def _users(logs: list[Record]) -> set[str]:
    return {log["metrics"]["user"] for log in logs if log["metrics"].get("user")}


def users(sample: Sample) -> dict[str, Any]:
    return _graph(
        sample, sample.logs, lambda logs: {"total": len(_users(logs))}, {"total": len(_users(sample.logs))}
    )


def user_requests(sample: Sample) -> dict[str, Any]:
    """Requests that name a user, per distinct user."""

    def avg(logs: list[Record]) -> int:
        named = [log for log in logs if log["metrics"].get("user")]
        return whole(len(named) / len(_users(named))) if named else 0

    named = [log for log in sample.logs if log["metrics"].get("user")]
    summary = {"total": len(named), "unique": len(_users(named)), "avg": avg(named)}
    return _graph(sample, sample.logs, lambda logs: {"avg": avg(logs)}, summary)


def _failed(logs: list[Record]) -> list[Record]:
    return [log for log in logs if not log["metrics"].get("is_success")]


def errors(sample: Sample) -> dict[str, Any]:
    failed = _failed(sample.logs)
    return _graph(sample, failed, lambda logs: {"total": len(logs)}, {"total": len(failed)})


def error_rate(sample: Sample) -> dict[str, Any]:
    def rate(logs: list[Record]) -> dict[str, Any]:
        return {"rate": percent(len(_failed(logs)), len(logs))}

    return _graph(sample, sample.logs, rate, rate(sample.logs))


def _codes(logs: list[Record]) -> Counter[int]:
    return Counter(int(log["metrics"]["response_status_code"]) for log in _failed(logs))


def error_stacks(sample: Sample) -> dict[str, Any]:
    def stats(logs: list[Record]) -> dict[str, Any]:
        counted = sorted(_codes(logs).items())
        return {"stats": [{"response_status_code": code, "count": n} for code, n in counted]}

    return _graph(sample, sample.logs, stats, {"total": len(_failed(sample.logs))})


def error_status_codes(sample: Sample) -> dict[str, Any]:
    counted = _codes(sample.logs)
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return {
        "summary": {"total_errors": sum(counted.values()), "unique_error_codes": len(counted)},
        "data_points": [{"status_code": code, "count": n} for code, n in ordered],
        "object": GRAPH,
    }


def rescued(sample: Sample) -> dict[str, Any]:
    """Retries and fallbacks happen in the gateway: no inserted log was rescued."""
    return _graph(sample, [], lambda _: {"retry": [], "fallback": 0}, {"retry": 0, "fallback": 0})


def cache_hit_rate(sample: Sample) -> dict[str, Any]:
    saved = {"simple": 0.0, "semantic": 0.0}  # running sums across buckets

    def point(logs: list[Record]) -> dict[str, Any]:
        kinds = Counter(HITS[str(log["metrics"]["cache_status"]).upper()] for log in logs if is_hit(log))
        for log in filter(is_hit, logs):
            saved[HITS[str(log["metrics"]["cache_status"]).upper()]] += _metric("cost")(log)
        return {
            "simple_hits": kinds["simple"],
            "semantic_hits": kinds["semantic"],
            "rate": percent(kinds.total(), len(logs)),
            "cumulative_simple_cache_savings": whole(saved["simple"]),
            "cumulative_semantic_cache_savings": whole(saved["semantic"]),
        }

    hits = sum(map(is_hit, sample.logs))
    summary = {"total": hits, "rate": percent(hits, len(sample.logs))}
    return _graph(sample, sample.logs, point, summary)


def cache_latency(sample: Sample) -> dict[str, Any]:
    hits = [log for log in sample.logs if is_hit(log)]
    return _graph(
        sample, hits, lambda logs: {"avg": mean([_metric("response_time")(log) for log in logs])}, {}
    )


def cache_summary(sample: Sample) -> dict[str, Any]:
    hits = [log for log in sample.logs if is_hit(log)]
    misses = [log for log in sample.logs if not is_hit(log)]
    hit_time = mean([_metric("response_time")(log) for log in hits])
    miss_time = mean([_metric("response_time")(log) for log in misses])
    speedup = percent(miss_time - hit_time, miss_time) if hits and miss_time else 0
    summary = {
        "hits": len(hits),
        "avg_latency": hit_time,
        "total_requests": len(sample.logs),
        "cache_speedup": speedup,
    }
    return {"summary": summary, "object": SUMMARY}


def feedbacks(sample: Sample) -> dict[str, Any]:
    return _graph(
        sample, sample.feedback, lambda given: {"total": len(given)}, {"total": len(sample.feedback)}
    )


def feedback_scores(sample: Sample) -> dict[str, Any]:
    scores = Counter(int(given["value"]) for given in sample.feedback)
    return {
        "summary": {"total": len(sample.feedback)},
        "data_points": [{"score": score, "total": n} for score, n in sorted(scores.items())],
        "object": GRAPH,
    }


def weighted_feedbacks(sample: Sample) -> dict[str, Any]:
    def avg(given: list[Record]) -> dict[str, Any]:
        return {"avg": mean([weighted(one) for one in given])}

    return _graph(sample, sample.feedback, avg, avg(sample.feedback))


def feedback_models(sample: Sample) -> dict[str, Any]:
    """Feedback per model that answered a log of its trace (feedback on a trace with no model: left out)."""
    per_model: dict[str, list[float]] = {}
    for given in sample.feedback:
        for model in sample.models.get(str(given["trace_id"]), []):
            per_model.setdefault(model, []).append(weighted(given))
    ordered = sorted(per_model.items(), key=lambda item: (-len(item[1]), item[0]))
    points = [
        {"ai_model": m, "total": len(scores), "avg_weighted_feedback": mean(scores)} for m, scores in ordered
    ]
    return {"summary": {}, "data_points": points, "object": GRAPH}


GRAPHS: dict[str, Callable[[Sample], dict[str, Any]]] = {
    "getRequestsGraph": requests,
    "getCostGraph": cost,
    "getLatencyGraph": latency,
    "getTokensGraph": tokens,
    "getUsersGraph": users,
    "getUserRequestsGraph": user_requests,
    "getErrorsGraph": errors,
    "getErrorRateGraph": error_rate,
    "getErrorStacksGraph": error_stacks,
    "getErrorStatusCodesGraph": error_status_codes,
    "getRescuedRequestsGraph": rescued,
    "getCacheHitRateGraph": cache_hit_rate,
    "getCacheLatencyGraph": cache_latency,
    "getFeedbacksGraph": feedbacks,
    "getFeedbackScoresGraph": feedback_scores,
    "getWeightedFeedbacksGraph": weighted_feedbacks,
    "getFeedbackAiModelsGraph": feedback_models,
    "getCacheSummary": cache_summary,
}
"""operationId -> the figures it answers, for every graph and the cache summary."""
