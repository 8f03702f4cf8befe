"""The store: one class made of one part per concern, over one body of SQL and two backends."""

from __future__ import annotations

from plugin_core.store.contacts import Contacts
from plugin_core.store.counters import Counters
from plugin_core.store.decisions import Decisions
from plugin_core.store.host_tasks import HostTasks
from plugin_core.store.journal import Journal
from plugin_core.store.referrals import Referrals
from plugin_core.store.trail import AuditTrail


class Store(Journal, Contacts, Decisions, Referrals, HostTasks, Counters, AuditTrail):
    """Contacts, decisions, referrals (the outbox), delivery attempts, host write-backs to
    retry, the audit trail, counters and the inbound journal. Only the service holds one."""
