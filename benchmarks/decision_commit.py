"""How much of a decision with its referral is the commit alone, beside a bare durable insert.

One caller records decisions through the service on a SQLite file (WAL, ``synchronous=FULL``),
each after its contact was accepted, with the referrer's phone as a referral is meant to be made;
for each it reads the time the writer's commit took. In the same run, on the same disk, a plain
connection makes bare one-row durable inserts, as ``store_throughput.py``'s baseline does.
Prints medians: the decision, its commit, the bare insert, and the time 0.5× of the bare insert's
rate leaves for a whole decision.

    python benchmarks/decision_commit.py [--n 600] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from store_throughput import NOW, PHONE, _service  # noqa: E402

from plugin_core.formats.contact_json import contact_from_dict  # noqa: E402
from plugin_core.formats.decision_json import decision_from_dict  # noqa: E402
from plugin_core.store import open_store  # noqa: E402
from tests.service.conftest import contact_doc, decision_doc  # noqa: E402

WARM = 300
"""Decisions recorded before timing, so statements are prepared and the file has grown."""


def decisions(directory: Path, n: int) -> tuple[list[float], list[float]]:
    """Each decision's whole time and its commit's, in seconds."""
    service = _service(f"sqlite:///{directory / 'decisions.db'}", directory / "cfg", 2525)
    try:
        contacts = [
            contact_from_dict(contact_doc(f"c-{uuid.uuid4().hex}"), service.config.code_lists)
            for _ in range(WARM + n)
        ]
        for contact in contacts:
            service.accept_contact(contact)
        whole: list[float] = []
        commits: list[float] = []
        for index, contact in enumerate(contacts):
            decision = decision_from_dict(decision_doc(phone=PHONE), contact_id=contact.id, now=NOW)
            started = time.perf_counter()
            service.record_decision(decision)
            if index >= WARM:
                whole.append(time.perf_counter() - started)
                commits.append(service.store.writer.last_commit)
        return whole, commits
    finally:
        service.store.shutdown()


def bare_inserts(directory: Path, n: int) -> list[float]:
    """Each bare one-row durable insert's time, in seconds, on the service's schema."""
    path = directory / "bare.db"
    open_store(f"sqlite:///{path}").shutdown()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        times = []
        for i in range(n):
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO counters (name, value) VALUES (?, ?)", (f"row-{i}", i))
            conn.execute("COMMIT")
            times.append(time.perf_counter() - started)
        return times
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="timed decisions (and inserts) a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| round | decision | its commit | bare insert | 0.5× allows a decision |")
    print("|---|---|---|---|---|")
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as raw:
            directory = Path(raw)
            whole, commits = decisions(directory, args.n)
            bare = statistics.median(bare_inserts(directory, args.n)) * 1000
        print(
            f"| {round_} | {statistics.median(whole) * 1000:.2f} ms"
            f" | {statistics.median(commits) * 1000:.2f} ms | {bare:.2f} ms | {bare * 2:.2f} ms |"
        )


if __name__ == "__main__":
    main()
