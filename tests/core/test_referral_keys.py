"""Idempotency keys: one function makes them, and their spelling never changes, because
receivers match resends, updates and cancellations to a referral by its key."""

from __future__ import annotations

from plugin_core.model import ReferralAction, Route, referral_id, referral_key
from plugin_core.rules.decide import amendment, idempotency_key
from plugin_core.settings.trust_config import TrustConfig

from .builders import make_referral, utc


def test_a_referral_key_is_its_id_after_the_tf_prefix_as_receivers_already_hold_it() -> None:
    rid = referral_id("decision-1", Route.FRONT_DOOR.value)
    assert rid == "2522a72c3770b138434af4673e2357b3"
    assert referral_key(rid) == "tf-2522a72c3770b138434af4673e2357b3"
    assert idempotency_key("decision-1", Route.FRONT_DOOR) == referral_key(rid)


def test_an_update_has_its_own_key_and_names_the_key_of_the_referral_it_changes(
    config: TrustConfig,
) -> None:
    original = make_referral()
    update = amendment(
        original,
        action=ReferralAction.UPDATE,
        amendment_id="a-1",
        reasons="The child has moved to another address.",
        rules=config.rules,
        now=utc(2026, 3, 3, 9, 0),
    )
    assert (
        update.id == referral_id(original.id, "update", "a-1") == "cfdff712fd9e0dd2ad345d7cf0dd1398"
    )
    assert update.idempotency_key == referral_key(update.id)
    assert update.original_key == referral_key(original.id)
    assert original.original_key == original.idempotency_key
