"""The running service: one class, one part per concern, implementing the service port."""

from __future__ import annotations

from plugin_core.service.calls import Calls
from plugin_core.service.contacts import Contacts
from plugin_core.service.decisions import Decisions
from plugin_core.service.delivery import Delivery
from plugin_core.service.gauges import Gauges
from plugin_core.service.hook_calls import HookCalls
from plugin_core.service.household import Household
from plugin_core.service.journal import Journal
from plugin_core.service.referrals import Referrals
from plugin_core.service.reminders import Reminders
from plugin_core.service.reports import Reports
from plugin_core.service.web_sessions import WebSessions


class Service(
    Journal,
    HookCalls,
    Contacts,
    Decisions,
    Referrals,
    Delivery,
    Reminders,
    Gauges,
    Reports,
    Household,
    Calls,
    WebSessions,
):
    """The engine bound to a store: the only door to the store.

    Adapters, the pages, the API and the outbox worker ask it for read views and state
    transitions; none of them holds the store. Decisions and their referrals are written in
    one transaction; delivery happens later, from the outbox. Safe to call from several
    threads.
    """
