"""Faults on demand: a plan of latency, error answers, connection faults and rate limits."""
