"""Durable storage for contacts, decisions, referrals, delivery attempts and the audit trail.

``open_store(url)`` gives the backend for ``sqlite:///PATH`` (the embedded default) or
``postgresql://...`` (shared by several service instances). Only the service holds a store:
adapters and the outbox worker ask the service.

Writes go through one writer per store (:mod:`plugin_core.store.writer`): each call that writes
is one transaction, and the writer commits the transactions of requests waiting at the same
moment together, one flush to disk for the lot. A call returns only once its writes are
committed; one request's failure undoes its own writes only. Reads use a small pool of their
own connections and see committed data.

Several writes of one request in one transaction (a unit of work): ::

    with service.unit():                      # Service.unit() or Store.unit()
        if not service.use_once(f"jti:{jti}", until):
            raise Refused()                   # leaves the block: nothing of it is written
        accepted = service.accept_contact(contact, encounter_key=key)
        service.append_audit("cds.cards", caller, accepted.contact_id, details)
    answer(accepted)                          # only now: the three writes are durable

Inside the block, calls return before their writes are durable, reads see the block's own
writes, and plugins hear of what it recorded once it has committed. The transaction opens at
the first write, so work before it (reading a token, fetching from a FHIR server, assessing)
holds nothing up; keep slow work out of the block after the first write, as other requests'
writes wait for it. Enter and leave the block in one thread.
"""

from __future__ import annotations

from plugin_core.store.backends import open_store
from plugin_core.store.errors import StoreError
from plugin_core.store.store import Store

__all__ = ["Store", "StoreError", "open_store"]
