"""Where virtual keys live. The store knows records and namespaces, nothing of the domain's rules."""

from mockserver.store.base import Store
from mockserver.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
