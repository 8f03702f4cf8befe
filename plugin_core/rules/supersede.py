"""What a decision that supersedes another does to the referrals already made.

An authority should hear of a revised decision as a change to the referral it holds, never as
a second referral: so each live referral of the decision superseded is withdrawn if it was
never sent (the store decides, at the moment of recording), or else updated with the new
decision. The new decision's own referral to the same route and authority is then written as
that update rather than as a new referral.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from plugin_core.model import Decision, Referral, ReferralAction, ReferralStatus
from plugin_core.rules.decide import amendment
from plugin_core.rules.trust_rules import TrustRules


@dataclass(frozen=True, slots=True)
class Successor:
    """One referral the authority may hold, and the update that carries the new decision."""

    original: Referral
    update: Referral
    replaces: str | None
    """The new decision's referral the update stands for, when it makes one there."""


def live_originals(
    decision_id: str, referrals: Sequence[tuple[Referral, ReferralStatus]]
) -> list[Referral]:
    """The original referrals a decision stands behind and that are not cancelled: its own
    new referrals, and those of earlier decisions it updated when it superseded them."""
    by_id = {r.id: (r, status) for r, status in referrals}
    found: dict[str, Referral] = {}
    for referral, _ in referrals:
        if referral.decision_id != decision_id or referral.action is ReferralAction.CANCEL:
            continue
        original_id = referral.amends or referral.id
        held = by_id.get(original_id)
        if held is None or held[1] is ReferralStatus.CANCELLED:
            continue
        found.setdefault(original_id, held[0])
    return list(found.values())


def successors(
    decision: Decision,
    made: Sequence[Referral],
    originals: Sequence[Referral],
    *,
    rules: TrustRules,
    now: datetime,
) -> list[Successor]:
    """For each original, the update to send if it went: the new decision's referral to the
    same route and authority when there is one, otherwise the decision's reasons and level."""
    result = []
    for original in originals:
        change = amendment(
            original,
            action=ReferralAction.UPDATE,
            amendment_id=f"supersede:{decision.id}",
            reasons=decision.reasons,
            rules=rules,
            now=now,
        )
        same = next(
            (
                r
                for r in made
                if r.route is original.route and r.authority_id == original.authority_id
            ),
            None,
        )
        if same is not None:
            update = replace(
                change,
                decision_id=decision.id,
                level_of_need=same.level_of_need,
                urgent=same.urgent,
                due_by=same.due_by,
                child_refs=same.child_refs,
                lawful_basis=same.lawful_basis,
            )
        else:
            update = replace(
                change,
                decision_id=decision.id,
                level_of_need=decision.level_of_need,
                child_refs=decision.child_refs or original.child_refs,
            )
        result.append(Successor(original, update, same.id if same else None))
    return result
