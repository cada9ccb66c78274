"""The floor under the Redis store: an app whose every answer is one trip to Redis and nothing else.

One script call (EVALSHA) per request, reading one key, on the same server and settings as the
mock, and on a connection per thread as the mock's requests make their trip. No design that makes
one round trip per request can serve more than this, so the harness shows it beside the mock with
Redis and the mock in memory (`vs memory`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import redis

from mockserver.state.redis_keys import RedisNamespace

ANSWER = b'{"success":true,"data":{"slug":"redis-trip"}}'
"""What every request is answered with (read from Redis); a create's shape, so the harness can seed."""


def create_redis_trip_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    keys = RedisNamespace(redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]), "bench-redis-trip")
    key = keys.key("answer")
    keys.client.set(key, ANSWER)
    read = keys.client.register_script("return redis.call('GET', KEYS[1])")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body: bytes = read([key], [], keys.own_client())
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app
