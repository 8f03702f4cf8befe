"""`thinkfamily serve` stops cleanly and starts only with an audit key it can keep sealing with.

On SIGTERM the SQLite database is folded into its file, so a copy of the ``.db`` alone holds
everything; a shared database never runs with an unkeyed trail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plugin_core.store import open_store
from plugin_core.store.audit import AuditEntry
from plugin_core.store.audit_key import AuditKey, AuditKeys
from tests.peers.ports import free_port
from tests.peers.service import ServiceProcess
from tests.peers.smtp import SmtpReceiver

from .conftest import contact_doc, decision_doc

pytestmark = pytest.mark.integration

THINKFAMILY = str(Path(sys.executable).with_name("thinkfamily"))
NO_KEY = {"THINKFAMILY_AUDIT_KEY": ""}


def _verify(db_url: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [THINKFAMILY, "audit", "verify", "--db", db_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ) | (env or {}),
    )


def _serve_once(config: Path, db_url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A start that is expected to be refused: the process exits by itself."""
    return subprocess.run(
        [THINKFAMILY, "serve", "--config", str(config), "--db", db_url,
         "--http-port", str(free_port()), "--mllp-port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ) | env,
    )  # fmt: skip


def test_after_sigterm_a_copy_of_the_database_file_alone_holds_every_entry(
    make_config: Any, smtp: SmtpReceiver, tmp_path: Path
) -> None:
    path = tmp_path / "live" / "tf.db"
    service = ServiceProcess(make_config(smtp.port), f"sqlite:///{path}", tmp_path / "logs")
    service.start()
    try:
        assert service.api("POST", "/api/contacts", json=contact_doc("c-stop")).status_code == 201
        response = service.api("POST", "/api/contacts/c-stop/decision", json=decision_doc())
        assert response.status_code == 201, response.text
    finally:
        code = service.stop()
    assert code == -signal.SIGTERM, "the process still ends by the signal it was sent"
    assert "database closed" in service.log_text()
    # The journal worker's stop event is let go with it: nothing is left for the system.
    assert "leaked semaphore" not in service.log_text()
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the log was folded into the file"
    copy = tmp_path / "copy" / "tf.db"
    copy.parent.mkdir()
    shutil.copy(path, copy)  # the .db file only
    result = _verify(f"sqlite:///{copy}")
    assert result.returncode == 0, result.stderr
    entries = int(result.stdout.split("intact: ")[1].split(" entries")[0])
    assert entries >= 3, result.stdout  # the contact, the decision and its referral at least
    assert "1 decision(s)" in result.stdout


def test_serve_on_sqlite_without_a_key_makes_one_beside_the_database_and_warns(
    make_config: Any, smtp: SmtpReceiver, tmp_path: Path
) -> None:
    path = tmp_path / "tf.db"
    service = ServiceProcess(
        make_config(smtp.port), f"sqlite:///{path}", tmp_path / "logs", env=NO_KEY
    )
    service.start()
    try:
        assert service.api("POST", "/api/contacts", json=contact_doc("c-nokey")).status_code == 201
    finally:
        service.stop()
    key_file = Path(f"{path}.audit-key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    warnings = [
        json.loads(line)
        for line in service.log_text().splitlines()
        if line.startswith("{") and "audit key beside the database" in line
    ]
    assert warnings and warnings[0]["level"] == "warning"
    result = _verify(f"sqlite:///{path}", NO_KEY)
    assert result.returncode == 0, result.stderr
    assert "all sealed with the audit key" in result.stdout
    assert "read from beside the database" in result.stderr
    assert key_file.read_text().strip() not in service.log_text()


def test_serve_on_postgresql_without_a_key_refuses_to_start(
    pg_url: str, make_config: Any, tmp_path: Path
) -> None:
    result = _serve_once(make_config(2525), pg_url, NO_KEY)
    assert result.returncode == 2
    assert "THINKFAMILY_AUDIT_KEY" in result.stderr and "shared database" in result.stderr


def test_serve_refuses_a_key_that_is_too_short(make_config: Any, tmp_path: Path) -> None:
    result = _serve_once(
        make_config(2525), f"sqlite:///{tmp_path / 'tf.db'}", {"THINKFAMILY_AUDIT_KEY": "short"}
    )
    assert result.returncode == 2 and "at least 32 characters" in result.stderr
    assert "short" not in result.stderr.replace("too short", "")


def test_serve_refuses_a_trail_whose_last_entry_another_key_sealed(
    make_config: Any, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'tf.db'}"
    other = AuditKey(b"the-key-this-trail-was-sealed-with-until-now-0001", "test")
    store = open_store(db_url, audit_keys=AuditKeys(other))
    store.append_audit([AuditEntry("cds.feedback", "ehr", "card", {})], _now())
    store.shutdown()
    result = _serve_once(make_config(2525), db_url, {})
    assert result.returncode == 2
    assert other.id in result.stderr and "THINKFAMILY_AUDIT_PREVIOUS_KEYS" in result.stderr


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
