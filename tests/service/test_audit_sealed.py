"""The audit trail sealed with a key kept outside the database, anchored by checkpoints, and
each decision and referral row checked against the entries written with it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import ReferralAction
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store
from plugin_core.store.audit import AuditEntry, entry_hash, seal_for
from plugin_core.store.audit_key import NO_KEYS, AuditKey, AuditKeyError, AuditKeys
from plugin_core.store.referrals import insert_referral

from .conftest import FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
THINKFAMILY = str(Path(sys.executable).with_name("thinkfamily"))
OTHER_KEY = "a-different-key-that-an-insider-might-hold-9876543210"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [THINKFAMILY, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ) | (env or {}),
    )


def _verify(db_url: str, *extra: str, env: dict[str, str] | None = None) -> Any:
    return _run("audit", "verify", "--db", db_url, *extra, env=env)


def _trail(db_url: str, entries: int = 5, *, keys: AuditKeys | None = None) -> None:
    store = open_store(db_url, audit_keys=keys)
    for n in range(1, entries + 1):
        store.append_audit(
            [AuditEntry("cds.feedback", f"ehr-{n}", f"card-{n}", {"accepted": n % 2 == 0})], NOW
        )
    store.close()


def _sql(db_url: str, *statements: str, params: tuple[Any, ...] = ()) -> None:
    store = open_store(db_url, migrate=False)
    with store.transaction() as tx:
        for statement in statements:
            tx.execute(statement, params)
    store.close()


def _rows(db_url: str, sql: str) -> list[Any]:
    store = open_store(db_url, migrate=False)
    with store.transaction() as tx:
        rows = tx.all(sql)
    store.close()
    return rows


def _checkpoint(db_url: str, folder: Path) -> Path:
    result = _run("audit", "checkpoint", "--db", db_url)
    assert result.returncode == 0, result.stderr
    path = folder / "checkpoint.json"
    path.write_text(result.stdout)
    return path


# The keyed chain ------------------------------------------------------------------------------


def test_an_entry_edited_and_its_chain_recomputed_without_the_key_is_detected(db_url: str) -> None:
    _trail(db_url)
    # What someone with the database but not the key can do: edit entry 3, then recompute
    # every hash from there on as the unkeyed chain did, and move the head along.
    rows = _rows(
        db_url, "SELECT seq, at, kind, actor, subject, details, prev_hash FROM audit ORDER BY seq"
    )
    (prev,) = _rows(db_url, "SELECT hash FROM audit WHERE seq = 2")[0]
    for seq, at, kind, actor, subject, details, _ in rows[2:]:
        if seq == 3:
            details = '{"accepted":true}'
        digest = entry_hash(seq, at, kind, actor, subject, details, prev)
        _sql(
            db_url,
            "UPDATE audit SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            params=(details, prev, digest, seq),
        )
        prev = digest
    _sql(db_url, "UPDATE audit_head SET hash = ?, seal = '' WHERE id = 1", params=(prev,))
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 3" in result.stderr and "without the key" in result.stderr


def test_an_entry_resealed_with_another_key_is_not_taken_as_proof(db_url: str) -> None:
    _trail(db_url)
    _sql(db_url, "UPDATE audit SET details = '{\"accepted\":true}' WHERE seq = 5")
    forged = open_store(db_url, migrate=False, audit_keys=AuditKeys(_key(OTHER_KEY)))
    (last,) = [e for e in forged.audit_entries() if e.seq == 5]
    _sql(
        db_url, "UPDATE audit SET hash = ? WHERE seq = 5", params=(seal_for(_key(OTHER_KEY), last),)
    )
    forged.close()
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 5" in result.stderr and "not configured" in result.stderr


def test_entries_cut_from_the_end_with_an_old_head_put_back_are_caught_by_a_checkpoint(
    db_url: str, tmp_path: Path
) -> None:
    _trail(db_url, 3)
    (saved_head,) = _rows(db_url, "SELECT seq, hash, seal FROM audit_head")
    _trail(db_url, 2)  # entries 4 and 5
    checkpoint = _checkpoint(db_url, tmp_path)
    assert json.loads(checkpoint.read_text())["entries"] == 5
    # Cut entries 4 and 5 and put back the head as it was after entry 3.
    _sql(db_url, "DELETE FROM audit WHERE seq > 3")
    _sql(
        db_url, "UPDATE audit_head SET seq = ?, hash = ?, seal = ? WHERE id = 1", params=saved_head
    )
    assert _verify(db_url).returncode == 0, "the trail alone cannot show what was cut"
    result = _verify(db_url, "--checkpoint", str(checkpoint))
    assert result.returncode == 1
    assert "entry 4" in result.stderr and "held 5" in result.stderr and "cut" in result.stderr


def test_the_head_moved_back_without_its_seal_is_detected(db_url: str) -> None:
    _trail(db_url)
    (row,) = _rows(db_url, "SELECT hash FROM audit WHERE seq = 3")
    _sql(db_url, "DELETE FROM audit WHERE seq > 3")
    _sql(db_url, "UPDATE audit_head SET seq = 3, hash = ? WHERE id = 1", params=(row[0],))
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 4" in result.stderr and "head" in result.stderr


def test_a_trail_rewritten_by_someone_holding_the_key_differs_from_the_checkpoint(
    db_url: str, tmp_path: Path
) -> None:
    _trail(db_url)
    checkpoint = _checkpoint(db_url, tmp_path)
    # An insider with the key drops entry 2 and seals the rest again, one more added.
    kept = [e for e in open_store(db_url).audit_entries() if e.seq != 2]
    _sql(db_url, "DELETE FROM audit", "UPDATE audit_head SET seq = 0, hash = 'genesis', seal = ''")
    store = open_store(db_url)
    for e in kept:
        store.append_audit([AuditEntry(e.kind, e.actor, e.subject, json.loads(e.details))], NOW)
    store.append_audit([AuditEntry("cds.feedback", "ehr-6", "card-6", {})], NOW)
    store.close()
    assert _verify(db_url).returncode == 0
    result = _verify(db_url, "--checkpoint", str(checkpoint))
    assert result.returncode == 1
    assert "entry 5" in result.stderr and "rewritten" in result.stderr


def test_a_checkpoint_altered_after_signing_is_refused(db_url: str, tmp_path: Path) -> None:
    _trail(db_url)
    checkpoint = _checkpoint(db_url, tmp_path)
    data = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps(data | {"entries": 3, "last_seq": 3}))
    result = _verify(db_url, "--checkpoint", str(checkpoint))
    assert result.returncode == 1 and "signature does not match" in result.stderr
    checkpoint.write_text("not json")
    assert _verify(db_url, "--checkpoint", str(checkpoint)).returncode == 2


def test_checkpoint_carries_count_last_entry_and_time_signed_with_the_key(
    db_url: str, tmp_path: Path
) -> None:
    _trail(db_url, 4)
    data = json.loads(_checkpoint(db_url, tmp_path).read_text())
    (last,) = _rows(db_url, "SELECT hash FROM audit WHERE seq = 4")
    assert (data["entries"], data["last_seq"], data["last_mac"]) == (4, 4, last[0])
    assert data["at"].endswith("Z") and len(data["signature"]) == 64
    assert data["key_id"] == _key(os.environ["THINKFAMILY_AUDIT_KEY"]).id
    assert os.environ["THINKFAMILY_AUDIT_KEY"] not in json.dumps(data)
    result = _verify(db_url, "--checkpoint", str(tmp_path / "checkpoint.json"))
    assert result.returncode == 0, result.stderr
    assert "everything the checkpoint recorded" in result.stdout


def test_checkpoint_needs_the_key(db_url: str) -> None:
    _trail(db_url)
    result = _run("audit", "checkpoint", "--db", db_url, env={"THINKFAMILY_AUDIT_KEY": ""})
    assert result.returncode == 2 and "THINKFAMILY_AUDIT_KEY" in result.stderr


def test_verify_without_the_key_says_which_key_it_needs(db_url: str) -> None:
    _trail(db_url)
    result = _verify(db_url, env={"THINKFAMILY_AUDIT_KEY": ""})
    assert result.returncode == 2
    assert _key(os.environ["THINKFAMILY_AUDIT_KEY"]).id in result.stderr


def test_the_key_is_never_written_to_the_database(tmp_path: Path) -> None:
    path = tmp_path / "tf.db"
    _trail(f"sqlite:///{path}")
    secret = os.environ["THINKFAMILY_AUDIT_KEY"].encode()
    assert secret not in path.read_bytes()
    assert not Path(f"{path}-wal").exists() or secret not in Path(f"{path}-wal").read_bytes()


# Trails written before the key ----------------------------------------------------------------


def test_an_unkeyed_trail_written_before_the_key_still_verifies_and_says_unkeyed(
    db_url: str,
) -> None:
    _trail(db_url, 3, keys=NO_KEYS)
    entry = _rows(
        db_url, "SELECT seq, at, kind, actor, subject, details, prev_hash, hash FROM audit"
    )[0]
    # The unkeyed format is unchanged: SHA-256 over the fields joined by the unit separator.
    body = "\x1f".join((str(entry[0]), *entry[1:7])).encode()
    assert entry[7] == hashlib.sha256(body).hexdigest()
    result = _verify(db_url)
    assert result.returncode == 0, result.stderr
    assert "intact: 3 entries, unkeyed" in result.stdout
    assert "could rewrite this trail unseen" in result.stderr
    # Once the service seals new entries, they protect the old ones before them.
    _trail(db_url, 2)
    result = _verify(db_url)
    assert result.returncode == 0, result.stderr
    assert "intact: 5 entries, sealed with the audit key from entry 4" in result.stdout
    _sql(db_url, "UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    assert _verify(db_url).returncode == 1


def test_a_keyed_trail_is_never_continued_without_the_key(db_url: str) -> None:
    _trail(db_url, 2)
    store = open_store(db_url, audit_keys=NO_KEYS)
    with pytest.raises(AuditKeyError, match="THINKFAMILY_AUDIT_KEY"):
        store.append_audit([AuditEntry("cds.feedback", "ehr", "card", {})], NOW)
    store.close()
    assert _verify(db_url).returncode == 0


def test_entries_sealed_before_a_key_change_verify_with_the_previous_key(db_url: str) -> None:
    _trail(db_url, 2, keys=AuditKeys(_key(OTHER_KEY)))
    _trail(db_url, 2)
    assert _verify(db_url).returncode == 1
    result = _verify(db_url, env={"THINKFAMILY_AUDIT_PREVIOUS_KEYS": OTHER_KEY})
    assert result.returncode == 0, result.stderr
    assert "intact: 4 entries, all sealed" in result.stdout


# Decisions and referrals against their entries -----------------------------------------------


@pytest.fixture
def decided(db_url: str, make_config: Any) -> Service:
    """A contact, a decision to share (with its referrals) and an update to one referral."""
    config = load_trust_config(make_config(2525))
    service = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(NOW))
    service.accept_contact(contact_from_dict(contact_doc("c-aud"), config.code_lists))
    service.record_decision(
        decision_from_dict(decision_doc(decision_id="d-aud"), contact_id="c-aud", now=NOW)
    )
    first = service.store.list_referrals(contact_id="c-aud")[0]
    service.amend_referral(
        first.referral.id,
        action=ReferralAction.UPDATE,
        amendment_id="u-1",
        by="nurse-17",
        reasons="The child's school was added.",
    )
    return service


def test_decisions_and_referrals_made_by_the_service_match_their_entries(
    decided: Service, db_url: str
) -> None:
    result = _verify(db_url)
    assert result.returncode == 0, result.stderr
    referrals = len(decided.store.list_referrals(contact_id="c-aud"))
    assert f"1 decision(s) and {referrals} referral(s) match" in result.stdout


def test_a_decision_edited_in_its_table_is_named(decided: Service, db_url: str) -> None:
    _sql(db_url, "UPDATE decisions SET share = 0 WHERE id = 'd-aud'")
    result = _verify(db_url)
    assert result.returncode == 1
    assert "decision d-aud" in result.stderr and "share" in result.stderr


def test_a_decision_whose_reasons_were_rewritten_is_named_without_showing_them(
    decided: Service, db_url: str
) -> None:
    (row,) = _rows(db_url, "SELECT decision FROM decisions WHERE id = 'd-aud'")
    record = json.loads(row[0])
    record["reasons"] = "Nothing of concern."
    _sql(
        db_url,
        "UPDATE decisions SET decision = ? WHERE id = 'd-aud'",
        params=(json.dumps(record),),
    )
    result = _verify(db_url)
    assert result.returncode == 1
    assert "decision d-aud" in result.stderr and "edited" in result.stderr
    assert "Nothing of concern" not in result.stderr + result.stdout


def test_a_referral_without_its_audit_entry_is_named(decided: Service, db_url: str) -> None:
    original = decided.store.list_referrals(contact_id="c-aud")[0].referral
    extra = dataclasses.replace(original, id="r-unrecorded", idempotency_key="tf-unrecorded")
    with decided.store.transaction() as tx:
        insert_referral(tx, extra)  # into the outbox with no audit entry
    result = _verify(db_url)
    assert result.returncode == 1
    assert "referral r-unrecorded" in result.stderr and "no audit entry" in result.stderr


def test_a_referral_made_non_urgent_in_its_table_is_named(decided: Service, db_url: str) -> None:
    referral = decided.store.list_referrals(contact_id="c-aud")[0].referral
    _sql(db_url, "UPDATE referrals SET urgent = 1 - urgent WHERE id = ?", params=(referral.id,))
    result = _verify(db_url)
    assert result.returncode == 1
    assert f"referral {referral.id}" in result.stderr and "urgent" in result.stderr


def test_a_referral_whose_record_was_rewritten_is_named(decided: Service, db_url: str) -> None:
    referral = decided.store.list_referrals(contact_id="c-aud")[0].referral
    (row,) = _rows(db_url, f"SELECT referral FROM referrals WHERE id = '{referral.id}'")
    record = json.loads(row[0])
    record["reasons"] = "Sent to the wrong place on purpose."
    _sql(
        db_url,
        "UPDATE referrals SET referral = ? WHERE id = ?",
        params=(json.dumps(record), referral.id),
    )
    result = _verify(db_url)
    assert result.returncode == 1
    assert f"referral {referral.id}" in result.stderr and "edited" in result.stderr


def test_a_decision_deleted_from_its_table_is_named(decided: Service, db_url: str) -> None:
    _sql(
        db_url,
        "DELETE FROM delivery_attempts",
        "DELETE FROM referrals",
        "DELETE FROM decision_facts",
        "DELETE FROM decision_escalations",
        "DELETE FROM decisions",
    )
    result = _verify(db_url)
    assert result.returncode == 1
    assert "decision d-aud" in result.stderr and "deleted" in result.stderr


def _key(text: str) -> AuditKey:
    return AuditKey(text.encode(), "test")


def test_many_entries_appended_at_once_are_chained_in_order_and_verify(db_url: str) -> None:
    store = open_store(db_url)
    many = [AuditEntry("cds.feedback", f"ehr-{n}", f"card-{n}", {"n": n}) for n in range(250)]
    store.append_audit(many, NOW)
    store.append_audit([AuditEntry("cds.feedback", "ehr-last", "card-last", {})], NOW)
    stored = store.audit_entries()
    store.close()
    assert [e.seq for e in stored] == list(range(1, 252))
    assert [e.subject for e in stored] == [*(f"card-{n}" for n in range(250)), "card-last"]
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(stored))
    result = _verify(db_url)
    assert result.returncode == 0, result.stderr
