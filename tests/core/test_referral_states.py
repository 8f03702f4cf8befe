"""The referral state table: complete, consistent with the requests it allows, and the same as
the table the operations guide shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin_core.model import ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.referral_states import CHANGES, TRANSITIONS, Change

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_referral_state_has_a_row_and_a_meaning() -> None:
    assert set(TRANSITIONS) == set(ReferralStatus)
    assert set(states.MEANINGS) == set(ReferralStatus)


@pytest.mark.parametrize("change", list(Change))
def test_each_request_moves_a_referral_only_along_the_table(change: Change) -> None:
    rule = CHANGES[change]
    for status in rule.allowed_in:
        if rule.moves_to is not None:
            assert rule.moves_to in TRANSITIONS[status], (change, status)


def test_a_cancelled_referral_moves_nowhere_and_can_only_be_cancelled_again() -> None:
    assert TRANSITIONS[ReferralStatus.CANCELLED] == frozenset()
    assert not states.allows(Change.ACKNOWLEDGE, ReferralStatus.CANCELLED)
    assert not states.allows(Change.UPDATE, ReferralStatus.CANCELLED)
    assert states.already_done(Change.CANCEL, ReferralStatus.CANCELLED)
    assert states.refusal(Change.UPDATE, ReferralStatus.CANCELLED) == (
        "this referral is cancelled: it cannot be updated"
    )


def test_a_delivered_referral_is_never_sent_again() -> None:
    for status in (ReferralStatus.DELIVERED, ReferralStatus.ACKNOWLEDGED):
        assert status not in states.SENDABLE
        assert not TRANSITIONS[status] & {ReferralStatus.PENDING, ReferralStatus.FAILED}


def test_the_operations_guide_shows_the_referral_state_table_from_the_code() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("<!-- referral-states:")
    start = text.index("\n", start) + 1
    end = text.index("<!-- /referral-states -->")
    assert text[start:end] == states.markdown(), (
        "docs/operations.md differs from plugin_core/rules/referral_states.py: paste"
        " markdown() between the referral-states markers"
    )
