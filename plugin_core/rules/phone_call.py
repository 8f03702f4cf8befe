"""When a referral needs a phone call, and what a recorded call must say.

A call is needed for a referral not yet acknowledged that goes to the police, goes by phone
at this hour (a phone-only route, or out of hours to a phone-only duty team), or carries a call
prompt (delivery failed, or it is overdue and escalated). A call recorded with the
authority's reference acknowledges the referral; one without is a delivery only, so the
referral still waits for acknowledgement and escalates when overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from plugin_core.errors import ThinkFamilyError
from plugin_core.model import Channel, Destination, PhoneCall, Prompt, ReferralStatus, Route
from plugin_core.rules.decide import FieldProblem
from plugin_core.rules.referral_states import SETTLED

MAX_TEXT = 2_000
CLOCK_SLACK = timedelta(minutes=5)
"""A call time this far ahead of the server's clock is taken as a clock difference, not an error."""


class CallInvalid(ThinkFamilyError, ValueError):
    """A phone call that cannot be recorded as it stands; ``problems`` names each field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def needs_call(status: ReferralStatus, prompt: Prompt | None, where: Destination) -> bool:
    """True when the professional should ring about this referral now or when the route opens."""
    if status in SETTLED:
        return False
    return prompt is not None or where.channel is Channel.PHONE or where.route is Route.POLICE


def call_problems(call: PhoneCall, *, now: datetime) -> list[FieldProblem]:
    """Every fault in a call to record; empty when it can be recorded."""
    found: list[FieldProblem] = []
    if not call.answered_by.strip():
        found.append(FieldProblem("answered_by", "enter the name and role of who answered"))
    if not call.number.strip():
        found.append(FieldProblem("number", "enter the number you rang"))
    if call.called_at > now + CLOCK_SLACK:
        found.append(FieldProblem("called_at", "the time of the call must not be in the future"))
    for name, value in (
        ("answered_by", call.answered_by),
        ("number", call.number),
        ("reference", call.reference),
        ("advice", call.advice),
    ):
        if len(value) > MAX_TEXT:
            found.append(FieldProblem(name, f"keep this under {MAX_TEXT:,} characters"))
    return found
