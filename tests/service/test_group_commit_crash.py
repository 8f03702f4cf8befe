"""A process killed while groups of writes wait for their commit loses nothing it acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from plugin_core.store import open_store

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys, threading
from datetime import UTC, datetime, timedelta
from plugin_core.store import open_store

store = open_store(sys.argv[1])
now = datetime(2026, 3, 3, 10, tzinfo=UTC)
until = now + timedelta(days=1)
out = threading.Lock()

def run(thread):
    for i in range(100_000):
        key = f"k{thread}-{i}"
        store.use_once(key, until=until, now=now)
        with out:  # acknowledged only once the call returned
            sys.stdout.write(key + "\\n")
            sys.stdout.flush()

threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_sigkill_while_groups_wait_for_commit_loses_no_acknowledged_write(db_url: str) -> None:
    open_store(db_url).shutdown()  # migrated before the writers start
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    acked: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while len(acked) < 400 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acked.append(line.decode().strip())
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
    acked += rest.decode().split()
    assert len(acked) >= 400, "the writer did not get going"
    store = open_store(db_url)
    try:
        with store.reading() as tx:
            stored = {row[0] for row in tx.all("SELECT key FROM once_keys")}
    finally:
        store.shutdown()
    assert set(acked) <= stored
