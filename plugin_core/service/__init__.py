"""The service: the only door to the store, with the read views and state transitions that
adapters, the API, the pages, the outbox worker and the commands may use.

Parts by concern: ``records`` (read views), ``contacts``, ``decisions``, ``referrals``,
``delivery`` (what the outbox worker asks), ``audit`` (the entries written), ``errors``.
"""

from __future__ import annotations

from plugin_core.service.decisions import RecordedDecision
from plugin_core.service.delivery import AwaitedCall, Outcome
from plugin_core.service.errors import (
    DecisionConflict,
    DuplicateDecision,
    ReferralConflict,
    UnknownContact,
    UnknownReferral,
)
from plugin_core.service.records import ContactRecord, Health, Records, open_records
from plugin_core.service.service import Service
from plugin_core.store.records import Claim, HostTask, StoredContact, StoredReferral

__all__ = [
    "AwaitedCall",
    "Claim",
    "ContactRecord",
    "DecisionConflict",
    "DuplicateDecision",
    "Health",
    "HostTask",
    "Outcome",
    "RecordedDecision",
    "Records",
    "ReferralConflict",
    "Service",
    "StoredContact",
    "StoredReferral",
    "UnknownContact",
    "UnknownReferral",
    "open_records",
]
