"""Which update of a referral stands, and whether it was cancelled: what a referral says now,
after the decision behind it was revised, the referral was updated, or it was called off.

A referral the authority holds is never sent twice; a revised decision reaches it as an update
(see :mod:`plugin_core.rules.supersede`). Anyone reading the referral later (its document, the
script for a phone call) must read it as it now stands, not as first sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from plugin_core.model import Referral, ReferralAction, ReferralStatus


def standing_update(
    original: Referral, referrals: Iterable[tuple[Referral, ReferralStatus]]
) -> Referral | None:
    """The latest update of ``original`` that was not withdrawn, or None when there is none
    (or ``original`` is itself an update or a cancellation)."""
    if original.action is not ReferralAction.NEW:
        return None
    updates = [
        r
        for r, status in referrals
        if r.amends == original.id
        and r.action is ReferralAction.UPDATE
        and status is not ReferralStatus.CANCELLED
    ]
    return max(updates, key=lambda r: r.created_at, default=None)


def cancellation_of(
    original: Referral, referrals: Iterable[tuple[Referral, ReferralStatus]]
) -> Referral | None:
    """The cancellation sent to the authority for ``original``, or None when none was (a
    referral withdrawn before it was sent has none: its own status says so)."""
    if original.action is ReferralAction.CANCEL:
        return None
    cancels = [
        r for r, _ in referrals if r.amends == original.id and r.action is ReferralAction.CANCEL
    ]
    return min(cancels, key=lambda r: r.created_at, default=None)
