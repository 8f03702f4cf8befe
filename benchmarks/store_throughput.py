"""Decisions with referral committed per second, and outbox delivery throughput.

Each figure is set beside a baseline measured in the same run on the same machine:
- decisions: a bare single-row insert per durable transaction on the same database, with the
  same durability settings, each caller on its own plain connection (SQLite's callers queue on
  one lock, as SQLite has one writer; PostgreSQL's commit side by side);
- delivery: sending the same emails straight to the same SMTP receiver with smtplib.

Decisions and bare inserts run with one caller and with ``--callers`` at once (threads), each
caller waiting for its commit before the next. Also printed: the peak resident memory of the
process over the whole run.

Run: ``python benchmarks/store_throughput.py [--rounds 5] [--n 300] [--callers 8]``
(PostgreSQL from Debian's package is started on loopback when installed). Prints medians and
ratios as a Markdown table.
"""

from __future__ import annotations

import argparse
import resource
import smtplib
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from plugin_core.store.backends import sqlite_path
from tests.peers.postgres import create_database, postgres_bin, postgres_server
from tests.peers.service import write_trust_config
from tests.peers.smtp import SmtpReceiver
from tests.service.conftest import TEST_AUTHORITIES, contact_doc, decision_doc, outbox_toml

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
PHONE = "020 7946 0017"
"""The referrer's phone, as a referral is meant to be made."""


def median_rate(rounds: int, n: int, step: Callable[[int], float]) -> float:
    """Median items per second over ``rounds``; ``step`` returns the seconds it timed."""
    return statistics.median(n / step(n) for _ in range(rounds))


def _service(url: str, config_dir: Path, smtp_port: int) -> Service:
    path = write_trust_config(
        config_dir, extra_toml=outbox_toml(smtp_port, poll=0.01), authorities=TEST_AUTHORITIES
    )
    return Service(load_trust_config(path), open_store(url), entry_points=False)


def _in_threads(callers: int, count: int, work: Callable[[int, range], None]) -> float:
    """Split ``count`` items over ``callers`` threads; the seconds until all are done."""
    shares = [range(i, count, callers) for i in range(callers)]
    threads = [threading.Thread(target=work, args=(i, share)) for i, share in enumerate(shares)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def bench_decisions(
    url_factory: Callable[[], str], rounds: int, n: int, config_dir: Path, callers: int
) -> tuple[float, float]:
    def decisions(count: int) -> float:
        service = _service(url_factory(), config_dir, 2525)
        contacts = [
            contact_from_dict(contact_doc(f"c-{uuid.uuid4().hex}"), service.config.code_lists)
            for _ in range(count)
        ]
        for contact in contacts:
            service.accept_contact(contact)

        def work(_: int, share: range) -> None:
            for i in share:
                service.record_decision(
                    decision_from_dict(
                        decision_doc(phone=PHONE), contact_id=contacts[i].id, now=NOW
                    )
                )

        elapsed = _in_threads(callers, count, work)
        service.store.shutdown()
        return elapsed

    def bare(count: int) -> float:
        url = url_factory()
        open_store(url).shutdown()  # the same schema, made before the clock starts
        path = sqlite_path(url)
        one_writer = threading.Lock()

        def work(_: int, share: range) -> None:
            if path is not None:
                conn = sqlite3.connect(path, isolation_level=None, timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                for i in share:
                    with one_writer:
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute(
                            "INSERT INTO counters (name, value) VALUES (?, ?)", (f"row-{i}", i)
                        )
                        conn.execute("COMMIT")
                conn.close()
                return
            import psycopg

            with psycopg.connect(url) as pg:
                for i in share:
                    pg.execute(
                        "INSERT INTO counters (name, value) VALUES (%s, %s)", (f"row-{i}", i)
                    )
                    pg.commit()

        return _in_threads(callers, count, work)

    return median_rate(rounds, n, decisions), median_rate(rounds, n, bare)


def bench_delivery(
    url_factory: Callable[[], str], rounds: int, n: int, config_dir: Path
) -> tuple[float, float]:
    with SmtpReceiver() as smtp:

        def outbox(count: int) -> float:
            service = _service(url_factory(), config_dir, smtp.port)
            for _ in range(count):
                contact = contact_from_dict(
                    contact_doc(f"c-{uuid.uuid4().hex}"), service.config.code_lists
                )
                service.accept_contact(contact)
                service.record_decision(
                    decision_from_dict(decision_doc(phone=PHONE), contact_id=contact.id, now=NOW)
                )
            worker = OutboxWorker(service)
            worker.batch = 50  # one cycle claims many; the trust's own setting is smaller
            start = time.perf_counter()
            delivered = 0
            while delivered < count:
                delivered += worker.run_once()
            elapsed = time.perf_counter() - start
            service.store.close()
            return elapsed

        def bare(count: int) -> float:
            start = time.perf_counter()
            for i in range(count):
                message = EmailMessage()
                message["Subject"] = f"Safeguarding referral {i}"
                message["From"] = "thinkfamily@trust.example"
                message["To"] = "front-door@testborough.example"
                message.set_content("referral body " * 40)
                with smtplib.SMTP("127.0.0.1", smtp.port, timeout=5) as client:
                    client.send_message(message)
            return time.perf_counter() - start

        return median_rate(rounds, n, outbox), median_rate(rounds, n, bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=300, help="decisions (or deliveries) per round")
    parser.add_argument("--callers", type=int, default=8, help="callers at once, besides one")
    parser.add_argument("--no-delivery", action="store_true", help="decisions only")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, float, str, float]] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        backends: list[tuple[str, Callable[[], str]]] = [
            ("SQLite (WAL, synchronous=FULL)", lambda: f"sqlite:///{tmp / uuid.uuid4().hex}.db")
        ]
        if postgres_bin() is not None and not args.sqlite_only:
            admin = stack.enter_context(postgres_server())
            backends.append(
                (
                    "PostgreSQL (fsync on)",
                    lambda: create_database(admin, f"b_{uuid.uuid4().hex[:10]}"),
                )
            )
        for name, factory in backends:
            for callers in dict.fromkeys((1, args.callers)):
                rate, base = bench_decisions(factory, args.rounds, args.n, tmp / "cfg", callers)
                who = "1 caller" if callers == 1 else f"{callers} callers"
                rows.append(
                    (
                        f"decisions with referral committed/s, {name}, {who}",
                        rate,
                        f"bare 1-row durable insert/s, {who}",
                        base,
                    )
                )
            if not args.no_delivery:
                rate, base = bench_delivery(factory, args.rounds, max(50, args.n // 3), tmp / "cfg")
                rows.append(
                    (f"outbox deliveries/s by email, {name}", rate, "bare smtplib sends/s", base)
                )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"medians of {args.rounds} rounds; peak RSS of the process {peak_mb:.0f} MB\n")
    print("| measure | median | baseline (same run) | baseline median | ratio |")
    print("|---|---|---|---|---|")
    for name, rate, base_name, base in rows:
        print(f"| {name} | {rate:,.0f} | {base_name} | {base:,.0f} | {rate / base:.2f}× |")


if __name__ == "__main__":
    main()
