"""`contracts drift`: how two contracts of one API differ, and whom each difference breaks.

`command.py` compares, `cli.py` parses its arguments, `shapes.py` reads schemas for the comparison.
"""

from contracts.drift.command import Accepted, Difference, compare, drift, drift_table, read_accepted

__all__ = ["Accepted", "Difference", "compare", "drift", "drift_table", "read_accepted"]
