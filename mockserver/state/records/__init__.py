"""Where virtual keys live. The store knows records and namespaces, nothing of the domain's rules."""

from mockserver.state.records.base import Store
from mockserver.state.records.memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
