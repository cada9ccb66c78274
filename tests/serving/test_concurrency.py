"""Many clients at once against one running mock: nothing lost, nothing duplicated, no 5xx."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from mockserver import MockServer, create_app

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

THREADS = 8
OPERATIONS_PER_THREAD = 250
HEADERS = {"x-portkey-api-key": "pk-concurrency"}


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


def client_session(base_url: str, seed: int) -> Outcome:
    """One client's mixed workload; it only updates and deletes keys it created itself."""
    rng, outcome = random.Random(seed), Outcome()
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as http:
        for number in range(OPERATIONS_PER_THREAD):
            live = [s for s in outcome.created if s not in outcome.deleted]
            roll = rng.random()
            if roll < 0.4 or not live:
                body = {
                    "name": f"client {seed} key {number}",
                    "provider": "openai",
                    "key": f"sk-{seed:02}-{number:06}-secret",
                }
                response = http.post("/virtual-keys", json=body)
                if response.status_code == 200:
                    outcome.created.append(response.json()["data"]["slug"])
            elif roll < 0.6:
                response = http.get(f"/virtual-keys/{rng.choice(live)}")
            elif roll < 0.75:
                response = http.get(
                    "/virtual-keys", params={"page_size": 20, "current_page": rng.randrange(3)}
                )
            elif roll < 0.9:
                response = http.put(f"/virtual-keys/{rng.choice(live)}", json={"note": f"note {number}"})
            else:
                slug = rng.choice(live)
                response = http.delete(f"/virtual-keys/{slug}")
                if response.status_code == 200:
                    outcome.deleted.append(slug)
            outcome.statuses[response.status_code] += 1
    return outcome


def test_eight_clients_and_two_thousand_mixed_operations_lose_nothing():
    server = MockServer(create_app(), threads=8).start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(lambda seed: client_session(server.base_url, seed), range(THREADS)))
        statuses = sum((o.statuses for o in outcomes), Counter())
        created = [slug for o in outcomes for slug in o.created]
        deleted = {slug for o in outcomes for slug in o.deleted}

        assert sum(statuses.values()) == THREADS * OPERATIONS_PER_THREAD
        assert set(statuses) == {200}, statuses
        assert len(created) == len(set(created)), "a slug was handed out twice"
        with httpx.Client(base_url=server.base_url, headers=HEADERS) as http:
            listing = http.get("/virtual-keys", params={"page_size": 10_000}).json()
            assert listing["total"] == len(created) - len(deleted)
            assert {item["slug"] for item in listing["data"]} == set(created) - deleted
            for slug in set(created) - deleted:
                assert http.get(f"/virtual-keys/{slug}").status_code == 200
            for slug in deleted:
                assert http.get(f"/virtual-keys/{slug}").status_code == 404
    finally:
        server.stop()
