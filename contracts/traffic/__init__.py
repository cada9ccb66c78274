"""`contracts check-traffic` and the httpx recorder: recorded traffic judged against a contract.

`command.py` reads and judges traffic and reports it, `cli.py` parses its arguments,
`recording.py` records a live client through httpx event hooks.
"""

from contracts.traffic.recording import ExchangeRecorder

__all__ = ["ExchangeRecorder"]
