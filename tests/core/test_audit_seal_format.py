"""The audit seals keep their exact format: a trail sealed before stays verifiable, and a
trail sealed now verifies with the same key anywhere."""

from __future__ import annotations

from plugin_core.store.audit import entry_hash, entry_seal, head_seal
from plugin_core.store.audit_key import AuditKey

KEY = AuditKey(b"k" * 40, "a test key")
FIELDS = (7, "2026-03-03T10:00:00.000000Z", "decision.recorded", "u-1", "d-1", '{"a":"é"}')


def test_a_key_is_named_by_the_same_id_every_time() -> None:
    assert KEY.id == "36fe65a77366"
    assert AuditKey(b"k" * 40, "elsewhere").id == KEY.id


def test_an_entry_seal_is_the_same_hmac_over_the_same_parts() -> None:
    assert entry_seal(KEY, *FIELDS, "genesis") == (
        "hmac-sha256:36fe65a77366:e58e68327b306e4cee45a0c5f44b152c55060c3d71662db1e909f6424335f7f3"
    )


def test_the_head_seal_is_the_same_hmac_over_count_and_last_seal() -> None:
    assert head_seal(KEY, 7, "prev") == (
        "hmac-sha256:36fe65a77366:e30f11ab5ae064bcb3308305273534308859c7a44d68f0b19b6d924221d25d6e"
    )


def test_an_unkeyed_entry_keeps_its_sha256_format() -> None:
    assert entry_hash(*FIELDS, "genesis") == (
        "2cd86d461f47ae562a4cba97db8758e0ed83b8713956b9503f98a6c241d80252"
    )
