"""The store: one class made of one part per concern, over one body of SQL and two backends."""

from __future__ import annotations

from plugin_core.store.calls import PhoneCalls
from plugin_core.store.contacts import Contacts
from plugin_core.store.counters import Counters
from plugin_core.store.decisions import Decisions
from plugin_core.store.host_tasks import HostTasks
from plugin_core.store.household import HouseholdAnswers
from plugin_core.store.journal import Journal
from plugin_core.store.outbox import Outbox
from plugin_core.store.referrals import Referrals
from plugin_core.store.reminders import Reminders
from plugin_core.store.reports import Reports
from plugin_core.store.trail import AuditTrail
from plugin_core.store.web_sessions import WebSessions


class Store(
    Journal,
    Contacts,
    Decisions,
    Referrals,
    Outbox,
    Reminders,
    HostTasks,
    Counters,
    AuditTrail,
    Reports,
    HouseholdAnswers,
    PhoneCalls,
    WebSessions,
):
    """Contacts, decisions, referrals (the outbox), delivery attempts, host write-backs to
    retry, the audit trail and counters, the inbound journal, households recorded, phone calls
    made and the pages' sign-in sessions. Only the service holds one."""
