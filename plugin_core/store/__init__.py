"""Durable storage for contacts, decisions, referrals, delivery attempts and the audit trail.

``open_store(url)`` gives the backend for ``sqlite:///PATH`` (the embedded default) or
``postgresql://...`` (shared by several service instances). Only the service holds a store:
adapters and the outbox worker ask the service.
"""

from __future__ import annotations

from plugin_core.store.backends import open_store
from plugin_core.store.base import StoreError
from plugin_core.store.store import Store

__all__ = ["Store", "StoreError", "open_store"]
