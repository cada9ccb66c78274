"""The mock's own control plane under `/__mock/`: health, reset, seeding, the journal, faults."""

CONTROL_PREFIX = "/__mock"
"""Where the control plane's paths start; every other path is the API's."""


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
