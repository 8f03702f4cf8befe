"""How long the leads' dashboard and a ward's worklist take to count, against listing the same
number of contacts through the existing read view, measured in the same run.

Contacts are synthetic, spread over twelve weeks and twenty wards; a third lack a household,
a half are decided. Run: ``python benchmarks/dashboard.py [--rounds 5] [--n 5000]``. Prints
medians and ratios as a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.service import write_trust_config
from tests.service.conftest import TEST_AUTHORITIES, FakeClock
from tests.service.test_reports import NOW, adult, decision


def build(folder: Path, n: int) -> Service:
    config = load_trust_config(write_trust_config(folder, authorities=TEST_AUTHORITIES))
    clock = FakeClock(NOW)
    service = Service(
        config, open_store(f"sqlite:///{folder / 'tf.db'}"), entry_points=False, clock=clock
    )
    per_week = -(-n // 12)
    for week in range(12):
        at = NOW - timedelta(weeks=week)
        clock.now = at
        ids = [f"x{week}-{k}" for k in range(per_week)]
        batch = [
            contact_from_dict(
                adult(i, f"RFH/WARD{k % 20}/BED{k % 30}", at, household=k % 3 != 0),
                config.code_lists,
            )
            for k, i in enumerate(ids)
        ]
        service.accept_contacts([(c, None) for c in batch])
        for k, i in enumerate(ids):
            if k % 2 and k % 3:
                doc = decision(i, level=2 + k % 3)
                service.record_decision(decision_from_dict(doc, contact_id=i, now=at))
    clock.now = NOW
    return service


def median_ms(call: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        service = build(Path(folder), args.n)
        baseline = median_ms(lambda: service.contacts(limit=args.n), args.rounds)
        rows = [
            ("dashboard, 12 weeks, every ward", lambda: service.dashboard(weeks=12)),
            (
                "dashboard, 12 weeks, one ward",
                lambda: service.dashboard(weeks=12, unit="RFH/WARD3"),
            ),
            ("worklist, one ward", lambda: service.worklist(scope=["RFH/WARD3"])),
        ]
        print(f"{args.n:,} contacts, SQLite, median of {args.rounds} rounds\n")
        print("| measure | median | baseline: list every contact | ratio |")
        print("|---|---|---|---|")
        for name, call in rows:
            took = median_ms(call, args.rounds)
            print(f"| {name} | {took:.0f} ms | {baseline:.0f} ms | {took / baseline:.2f} |")
        service.store.shutdown()


if __name__ == "__main__":
    main()
