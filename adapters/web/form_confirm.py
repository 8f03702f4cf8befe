"""What the confirmation shows of a recorded decision: the decision, the referrals it sent
(with the call to make where one is needed) and its escalations."""

from __future__ import annotations

from typing import Any

from adapters.web.confirmation import Sent
from plugin_core import model
from plugin_core.model import Channel, DecisionEscalation, ReferralAction, ReferralStatus
from plugin_core.service import Service

_SETTLED = (ReferralStatus.ACKNOWLEDGED, ReferralStatus.DELIVERED, ReferralStatus.CANCELLED)


def load_confirmation(
    service: Service, contact_id: str, decision_id: str
) -> tuple[Any, list[Sent], list[DecisionEscalation]]:
    """The decision (None when the contact has no such decision), what it sent, and its
    escalations; blocking, so run it in a thread."""
    decision = next((d for d in service.decisions(contact_id) if d.id == decision_id), None)
    if decision is None:
        return None, [], []
    escalations = [
        e
        for e in service.decision_escalations(contact_id=contact_id)
        if e.decision_id == decision_id
    ]
    escalations.sort(key=lambda e: e.kind.value)
    now = service.clock()
    sent = []
    rows = service.referrals(contact_id=contact_id)
    made_by = {row.referral.id: row.referral.decision_id for row in rows}
    for row in rows:
        referral = row.referral
        if referral.decision_id != decision_id or not _sent_for(referral, made_by):
            continue
        where = service.engine.destination_for(referral, now)
        needs_call = (
            where.channel is Channel.PHONE or referral.route is model.Route.POLICE
        ) and row.status not in _SETTLED
        call = service.engine.call_prompt(referral, where) if needs_call else None
        sent.append(Sent(referral, where, call))
    return decision, sent, escalations


def _sent_for(referral: model.Referral, made_by: dict[str, str]) -> bool:
    """True for a referral a decision sent: a new one, or the update of an earlier decision's
    referral that it sent instead when it superseded that decision."""
    if referral.action is ReferralAction.NEW:
        return True
    return (
        referral.action is ReferralAction.UPDATE
        and made_by.get(referral.amends or "") != referral.decision_id
    )
