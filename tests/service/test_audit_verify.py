"""`thinkfamily audit verify` detects an edited, a deleted and a reordered entry."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugin_core.store import open_store
from plugin_core.store.audit import AuditEntry

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
THINKFAMILY = str(Path(sys.executable).with_name("thinkfamily"))


def _trail(db_url: str, entries: int = 5) -> None:
    store = open_store(db_url)
    store.append_audit(
        [
            AuditEntry("cds.feedback", f"ehr-{n}", f"card-{n}", {"accepted": n % 2 == 0})
            for n in range(1, entries + 1)
        ],
        NOW,
    )
    store.close()


def _sql(db_url: str, *statements: str) -> None:
    store = open_store(db_url, migrate=False)
    with store.transaction() as tx:
        for statement in statements:
            tx.execute(statement)
    store.close()


def _verify(db_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [THINKFAMILY, "audit", "verify", "--db", db_url], capture_output=True, text=True, timeout=60
    )


def test_intact_trail_verifies(db_url: str) -> None:
    _trail(db_url)
    result = _verify(db_url)
    assert result.returncode == 0, result.stderr
    assert "intact: 5 entries" in result.stdout


def test_edited_entry_is_named(db_url: str) -> None:
    _trail(db_url)
    _sql(db_url, "UPDATE audit SET details = '{\"accepted\":true}' WHERE seq = 3")
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 3" in result.stderr and "edited" in result.stderr


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(db_url: str) -> None:
    _trail(db_url)
    _sql(db_url, "UPDATE audit SET actor = 'someone-else', hash = 'f00d' WHERE seq = 2")
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 2" in result.stderr


def test_deleted_entry_is_named(db_url: str) -> None:
    _trail(db_url)
    _sql(db_url, "DELETE FROM audit WHERE seq = 2")
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 3" in result.stderr and "deleted" in result.stderr


def test_deleted_last_entry_is_detected(db_url: str) -> None:
    _trail(db_url)
    _sql(db_url, "DELETE FROM audit WHERE seq = 5")
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 5" in result.stderr


def test_reordered_entries_are_named(db_url: str) -> None:
    _trail(db_url)
    # Swap the contents of entries 2 and 3, keeping sequence numbers in place.
    _sql(
        db_url,
        "UPDATE audit SET seq = -2 WHERE seq = 2",
        "UPDATE audit SET seq = 2 WHERE seq = 3",
        "UPDATE audit SET seq = 3 WHERE seq = -2",
    )
    result = _verify(db_url)
    assert result.returncode == 1
    assert "entry 2" in result.stderr


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/sub/tf.db", "mysql://x"])
def test_unusable_database_url_exits_2_with_reason(url: str) -> None:
    result = _verify(url)
    assert result.returncode == 2
    assert "thinkfamily:" in result.stderr


def test_contacts_command_lists_ids_and_states_without_patient_details(db_url: str) -> None:
    from plugin_core.formats.contact_json import contact_from_dict
    from plugin_core.service import Service
    from plugin_core.settings.load import load_trust_config

    from .conftest import IDENTIFIERS, contact_doc

    config = load_trust_config()
    service = Service(config, open_store(db_url), entry_points=False)
    for n in range(3):
        service.accept_contact(contact_from_dict(contact_doc(f"c-list-{n}"), config.code_lists))
    service.store.close()
    result = subprocess.run(
        [THINKFAMILY, "contacts", "--db", db_url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert all(f"c-list-{n}" in result.stdout for n in range(3))
    assert "3 contact(s)" in result.stdout and "consider-children" in result.stdout
    assert not any(value in result.stdout for value in IDENTIFIERS)
    only_referred = subprocess.run(
        [THINKFAMILY, "contacts", "--db", db_url, "--state", "referred"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "0 contact(s)" in only_referred.stdout


def test_audit_list_gives_a_lead_each_decision_with_who_and_why(db_url: str) -> None:
    store = open_store(db_url)
    store.append_audit(
        [AuditEntry("contact.accepted", "hl7", "c-1", {"prompts": ["consider-children:warning"]})],
        NOW,
    )
    store.append_audit(
        [
            AuditEntry(
                "decision.recorded",
                "nurse-17",
                "d-1",
                {"share": False, "reasons": "Needs met by the other parent."},
            )
        ],
        NOW.replace(day=5),
    )
    store.close()
    result = subprocess.run(
        [
            THINKFAMILY,
            "audit",
            "list",
            "--db",
            db_url,
            "--kind",
            "decision.recorded",
            "--since",
            "2026-03-04",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    entry = json.loads(line)
    assert (entry["actor"], entry["subject"], entry["details"]["share"]) == (
        "nurse-17",
        "d-1",
        False,
    )
    assert entry["details"]["reasons"] == "Needs met by the other parent."
    later = subprocess.run(
        [THINKFAMILY, "audit", "list", "--db", db_url, "--since", "2026-03-06T00:00:00+00:00"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert later.stdout == "" and "0 entries" in later.stderr
