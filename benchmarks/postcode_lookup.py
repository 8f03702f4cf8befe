"""Postcode lookup: import speed from an NSPL-shaped CSV, opening time, and lookup cost.

The CSV is synthetic (never downloaded): 2.7 million rows in the NSPL's shape (36 columns,
quoted codes, sorted by postcode, about a third terminated, a few with no authority).
Each figure is set beside a baseline measured in the same run:
- import: reading the same file with the ``csv`` module, keeping the same three columns;
- opening: unpickling a plain ``dict`` of the same postcodes;
- lookup: ``dict.get`` on a postcode already normalised; and, as the other format considered,
  a SQLite table keyed by postcode.

Run: ``python benchmarks/postcode_lookup.py [--rows 2700000] [--rounds 5] [--csv PATH]``.
Prints medians and ratios as Markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import pickle
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin_core.rules.postcodes import postcode_key
from plugin_core.settings.postcodes import import_postcodes, open_lookup

HEADER = (
    "pcd,pcd2,pcds,dointr,doterm,usertype,oseast1m,osnrth1m,osgrdind,oa21,cty,ced,laua,ward,"
    "nhser,ctry,rgn,pcon,ttwa,itl,npark,oa11,lsoa21,msoa21,wz11,sicbl,bua24,ru11ind,oac11,"
    "lat,long,lep1,lep2,pfa,imd,icb"
)
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters the inward code uses
AREAS = [
    a + b
    for a in "BCDEGHKLMNPRSTW"
    for b in "ABCDEGHKLMNPRSTY"
    if a + b not in {"BC", "BE", "CE", "DE", "GE", "HE", "KE", "ME", "PE", "RE", "SE", "TE"}
][:120]


def synthetic_nspl(path: Path, rows: int, seed: int = 2026) -> None:
    """Write an NSPL-shaped CSV of ``rows`` synthetic postcodes, sorted as ONS sorts them."""
    rng = random.Random(seed)
    authorities = [f"E0{k}{n:06d}" for k in (6, 7, 8, 9) for n in range(1, 96)]
    per_sector = min(400, -(-rows // (len(AREAS) * 20 * 10)))
    units = [f"{d}{a}{b}" for d in "0123456789" for a in UNIT_LETTERS for b in UNIT_LETTERS]
    records: list[tuple[str, str]] = []
    for area in AREAS:
        for district in range(1, 21):
            outward = f"{area}{district}"
            home, neighbour = rng.sample(authorities, 2)
            for sector in "0123456789":
                # Some sectors cross a boundary: their postcodes split between two authorities.
                split = rng.random() < 0.15
                chosen = rng.sample(units[int(sector) * 400 : int(sector) * 400 + 400], per_sector)
                for inward in chosen:
                    authority = neighbour if split and rng.random() < 0.5 else home
                    if rng.random() < 0.001:
                        authority = "L99999999"  # no local authority
                    records.append((f"{outward:<4}{inward}", authority))
    records.sort()
    del records[rows:]
    with path.open("w", newline="") as out:
        out.write(HEADER + "\n")
        for pcd, authority in records:
            pcds = f"{pcd[:4].strip()} {pcd[4:]}"
            pcd2 = f"{pcd[:4].strip():<5}{pcd[4:]}"
            ended = (
                f"{rng.randrange(1990, 2024)}{rng.randrange(1, 13):02d}"
                if rng.random() < 0.33
                else ""
            )
            lat = 50 + rng.random() * 8
            lon = -5 + rng.random() * 6
            out.write(
                f'"{pcd}","{pcd2}","{pcds}","198001","{ended}","0","{rng.randrange(100000, 650000)}",'
                f'"{rng.randrange(10000, 1200000):07d}","1","E00{rng.randrange(10**6):06d}",'
                f'"E99999999","E99999999","{authority}","E05{rng.randrange(10**6):06d}","E40000007",'
                f'"E92000001","E12000007","E14001{rng.randrange(1000):03d}","E30000234","E06000001",'
                f'"E65000001","E00{rng.randrange(10**6):06d}","E01{rng.randrange(10**6):06d}",'
                f'"E02{rng.randrange(10**6):06d}","E33{rng.randrange(10**6):06d}","E38000001",'
                f'"E63{rng.randrange(10**6):06d}","A1","1A1",{lat:.6f},{lon:.6f},"E37000051",'
                f'"","E23000001",{rng.randrange(1, 32845)},"E54000027"\n'
            )


def median_of(rounds: int, step: Callable[[], float]) -> float:
    return statistics.median(step() for _ in range(rounds))


def csv_rows_per_second(path: Path) -> float:
    """Baseline: the csv module reading every row and keeping the same three columns."""
    start = time.perf_counter()
    count = 0
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        names = next(reader)
        pcds, laua, doterm = names.index("pcds"), names.index("laua"), names.index("doterm")
        for row in reader:
            (row[pcds], row[laua], row[doterm])
            count += 1
    return count / (time.perf_counter() - start)


def plain_dict(path: Path) -> dict[str, str]:
    """Live postcodes with an authority, normalised as a lookup sees them."""
    table: dict[str, str] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if not row["doterm"] and not row["laua"].endswith("99999999"):
                table[row["pcds"].replace(" ", "")] = row["laua"]
    return table


def sqlite_table(path: Path, table: dict[str, str]) -> Path:
    db = path.with_suffix(".sqlite")
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE p (key INTEGER PRIMARY KEY, code TEXT NOT NULL) WITHOUT ROWID")
    con.executemany("INSERT INTO p VALUES (?, ?)", ((postcode_key(k), v) for k, v in table.items()))
    con.commit()
    con.close()
    return db


def per_lookup_us(rounds: int, queries: list[str], lookup: Callable[[str], object]) -> float:
    def once() -> float:
        start = time.perf_counter()
        for q in queries:
            lookup(q)
        return (time.perf_counter() - start) / len(queries) * 1e6

    return median_of(rounds, once)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_700_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--import-rounds", type=int, default=3)
    parser.add_argument("--csv", type=Path, help="reuse (or keep) the synthetic CSV here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = args.csv or folder / "nspl.csv"
        if not source.exists():
            print(f"writing {args.rows:,} synthetic rows …", file=sys.stderr)
            synthetic_nspl(source, args.rows)
        out = folder / "postcodes.lookup"

        # Interleaved, so a change in the machine's load touches both alike.
        baseline_rates, reports = [], []
        for _ in range(args.import_rounds):
            baseline_rates.append(csv_rows_per_second(source))
            reports.append(import_postcodes(source, out))
        baseline_rate = statistics.median(baseline_rates)
        import_rate = statistics.median(r.rows_per_second for r in reports)
        import_seconds = statistics.median(r.seconds for r in reports)
        report = reports[-1]

        table = plain_dict(source)
        pickled = folder / "postcodes.pickle"
        pickled.write_bytes(pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL))
        db = sqlite_table(source, table)

        def open_ms() -> float:
            start = time.perf_counter()
            lookup = open_lookup(out)
            elapsed = time.perf_counter() - start
            lookup.release()
            return elapsed * 1e3

        def unpickle_ms() -> float:
            start = time.perf_counter()
            pickle.loads(pickled.read_bytes())
            return (time.perf_counter() - start) * 1e3

        lookup = open_lookup(out)
        rng = random.Random(7)
        live = rng.sample(sorted(table), 100_000)
        # As recorded in records: mixed case and spacing; a tenth not in the table.
        queries = [
            (p[:-3] + "  " + p[-3:]).lower() if i % 2 else f"{p[:-3]} {p[-3:]}"
            for i, p in enumerate(live)
        ]
        queries[::10] = ["ZZ9 9ZZ"] * len(queries[::10])
        normalised = ["".join(q.split()).upper() for q in queries]
        for q, n in zip(queries, normalised, strict=True):
            found = lookup.area(q)
            assert (found[0] if found else None) == table.get(n)

        con = sqlite3.connect(db)
        select = "SELECT code FROM p WHERE key = ?"

        def sqlite_get(q: str) -> object:
            return con.execute(select, (postcode_key(q),)).fetchone()

        ours = per_lookup_us(args.rounds, queries, lookup.codes_for)
        dict_us = per_lookup_us(args.rounds, normalised, table.get)
        sqlite_us = per_lookup_us(args.rounds, queries, sqlite_get)
        opened = median_of(args.rounds, open_ms)
        unpickled = median_of(min(args.rounds, 3), unpickle_ms)

        mb = 1024 * 1024
        print(
            f"\nImport ({report.rows:,} rows, {source.stat().st_size / mb:,.0f} MB CSV; kept "
            f"{report.written:,} live postcodes in {report.authorities} authorities; "
            f"{report.terminated:,} terminated and {report.without_authority:,} without an "
            f"authority left out):\n"
        )
        print("| measure | median | baseline in the same run | baseline | ratio |")
        print("|---|---|---|---|---|")
        print(
            f"| `postcodes import`, rows/s | {import_rate:,.0f} ({import_seconds:.1f} s) "
            f"| `csv.reader`, rows/s | {baseline_rate:,.0f} | {import_rate / baseline_rate:.1f}× |"
        )
        print(
            f"| opening the lookup, ms | {opened:.1f} ({out.stat().st_size / mb:.1f} MB) "
            f"| unpickling a `dict`, ms | {unpickled:,.0f} "
            f"({pickled.stat().st_size / mb:.0f} MB) | {opened / unpickled:.3f}× |"
        )
        print(
            f"| lookup, µs | {ours:.2f} | `dict.get`, normalised key, µs | {dict_us:.2f} "
            f"| {ours / dict_us:.1f}× |"
        )
        print(
            f"| SQLite by key (considered), µs | {sqlite_us:.2f} | `dict.get`, µs | {dict_us:.2f} "
            f"| {sqlite_us / dict_us:.1f}× |"
        )
        con.close()
        lookup.release()


if __name__ == "__main__":
    main()
