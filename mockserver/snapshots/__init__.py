"""Snapshots: a proxy's traffic recorded with its secrets out (`record.py`, `redact.py`), made
byte-stable on request (`stable.py`), and folded back into a mock as state (`replay.py`).

`ids.py` knows which values a service made (ids, slugs, timestamps) and maps recorded ones to
those a new run gets; `document.py` reads and writes the file.
"""
