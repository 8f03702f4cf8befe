"""When a referral must be acknowledged by, counted in the hours its route is staffed.

An urgent referral to the police or the front door is answered at any hour (out of hours the
emergency duty team takes the front door's work), so its ``urgent_ack_minutes`` run on the
clock. Every other window runs in the route's working hours (its own office hours, or the
authority's; weekends and bank holidays in England and Wales do not count): a routine referral
has ``routine_ack_hours`` of them, a LADO referral ``lado_ack_hours``, and an urgent referral
to a route that closes (early help or the LADO) its ``urgent_ack_minutes`` of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from plugin_core.model import Route
from plugin_core.rules.routing import hours_for
from plugin_core.rules.trust_rules import TrustRules

ROUND_THE_CLOCK = frozenset({Route.POLICE, Route.FRONT_DOOR, Route.OUT_OF_HOURS})
"""Routes whose urgent work someone takes at any hour."""


def acknowledge_by(
    rules: TrustRules,
    *,
    authority_id: str | None,
    route: Route,
    urgent: bool,
    sent_at: datetime,
) -> datetime:
    """The deadline for a referral on ``route`` made at ``sent_at``; past it, it escalates."""
    urgency = rules.urgency
    if urgent:
        window = timedelta(minutes=urgency.urgent_ack_minutes)
        if route in ROUND_THE_CLOCK:
            return sent_at + window
    elif route is Route.LADO:
        window = timedelta(hours=urgency.lado_ack_hours)
    else:
        window = timedelta(hours=urgency.routine_ack_hours)
    return hours_for(rules.directory, authority_id, route).after_working(sent_at, window)
