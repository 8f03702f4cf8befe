"""CDS Hooks patient-view under concurrent load, beside a minimal Starlette app, in one run.

Starts ``thinkfamily serve`` on loopback (SQLite file, WAL, ``synchronous=FULL``) and a minimal
Starlette app under the same uvicorn settings that reads the same body, parses it and answers
no cards (``benchmarks/cds_floor.py``). The same light asyncio client drives both, with the
same concurrency (20 EHR clients by default, each on its own keep-alive connection, sending its
next call when the last is answered). Each hook call carries a six-resource prefetch (the
adult, two related people, a condition, a household answer, a flag) and its own ES384 JWT,
which the service verifies; tokens are signed before the clock starts. Rounds alternate the
floor and the service; the medians of the rounds are reported with their ratios, and the
service's peak resident memory (``VmHWM``) at the end.

    python benchmarks/cds_latency.py [--requests 2000] [--concurrency 20] [--rounds 3]
        [--db sqlite|postgresql] [--signature-processes 0] [--profile cds.prof]

``--db postgresql`` runs the service on a local PostgreSQL server started for the run.
The service's CPU and memory are read over its processes (the HL7 journal worker included).

``--profile`` runs the service with every thread under cProfile, timed by the CPU time of
its thread, and writes the merged profile
(read it with ``python -m pstats cds.prof``); the figures of a profiled run are not the
service's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cds_floor import drive, post  # noqa: E402

from tests.fhir.conftest import Keys, cds_token, ec_key, fhir_toml, rsa_key  # noqa: E402
from tests.fhir.test_fhir_cds_service import prefetched_call  # noqa: E402
from tests.peers.ports import free_port, wait_for  # noqa: E402
from tests.peers.postgres import create_database, postgres_server  # noqa: E402
from tests.peers.service import ServiceProcess, write_trust_config  # noqa: E402

PATH = "/cds-services/thinkfamily-patient-view"
HOST = "127.0.0.1"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def family(pid: int) -> list[int]:
    """The process and every process it started, from ``/proc`` (the service's other HTTP
    processes and its HL7 journal worker)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
    found = [pid]
    for candidate in found:
        found += [p for p, parent in parents.items() if parent == candidate]
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time so far of a process and those it started, from ``/proc``."""
    total = 0
    for member in family(pid):
        with contextlib.suppress(OSError):
            fields = _stat(member)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def mean_commit_ms(service: ServiceProcess) -> float | None:
    """The mean time of a hook call's transaction, from the service's own ``/metrics``."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(
        f"{service.url}/metrics", headers={"Authorization": f"Bearer {service.token}"}, timeout=10
    )
    if response.status_code != 200:
        return None  # a version of the service without metrics
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.labels.get("operation") == "hook_call":
                found[sample.name] = sample.value
    count = found.get("thinkfamily_store_commit_seconds_count", 0)
    return found["thinkfamily_store_commit_seconds_sum"] / count * 1000 if count else None


def fdatasync_ms(directory: Path, n: int = 200) -> float:
    """The median time of one small write and ``fdatasync`` beside the database: the disk's
    floor for one durable commit at the time of the run."""
    times = []
    fd = os.open(directory / "sync-probe", os.O_WRONLY | os.O_CREAT)
    try:
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
    return statistics.median(times) * 1000


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--signature-processes",
        type=int,
        default=0,
        help="the service's [fhir.cds] signature_processes (0: check tokens in-process)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as raw, contextlib.ExitStack() as stack:
        directory = Path(raw)
        db_url = f"sqlite:///{directory / 'bench.db'}"
        if args.db == "postgresql":
            db_url = create_database(stack.enter_context(postgres_server()), "cds_bench")
        keys = Keys(directory, ec_key("bench-ehr"), rsa_key("bench-smart"))
        keys.ehr_jwks.write_text(json.dumps({"keys": [keys.ehr.public_jwk]}))
        port = free_port()
        config = write_trust_config(
            directory / "trust",
            extra_toml=fhir_toml(audience=f"http://{HOST}:{port}", keys=keys).replace(
                "[fhir.cds]\n", f"[fhir.cds]\nsignature_processes = {args.signature_processes}\n"
            ),
        )
        executable = None
        if args.profile is not None:
            executable = directory / "profiled-serve"
            executable.write_text(
                f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "benchmarks" / "cds_floor.py"}"'
                f' profile "{args.profile.resolve()}" "$@"\n'
            )
            executable.chmod(0o755)
        service = ServiceProcess(
            config,
            db_url,
            directory,
            name="bench",
            executable=executable,
        )
        service.http_port = port
        floor_port = free_port()
        floor = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "cds_floor.py"), "floor", str(floor_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        service.start()
        try:
            wait_for(lambda: _listening(floor_port), timeout=30, what="the Starlette floor")
            url = f"http://{HOST}:{port}{PATH}"
            bodies = [prefetched_call(f"B{i}") for i in range(200)]
            size = len(json.dumps(bodies[0]))

            def calls(n: int, target: int) -> list[bytes]:
                """Each call a fresh hook instance (so a fresh contact) with its own token."""
                out = []
                for i in range(n):
                    body = {**bodies[i % len(bodies)], "hookInstance": str(uuid.uuid4())}
                    token = cds_token(keys.ehr, url)
                    out.append(post(HOST, target, PATH, json.dumps(body).encode(), token))
                return out

            def checked(target: int, requests: list[bytes]) -> tuple[list[float], float]:
                latencies, elapsed, statuses = drive(HOST, target, requests, args.concurrency)
                wrong = [s for s in statuses if s != 200]
                if wrong:
                    raise RuntimeError(f"{len(wrong)} calls answered {wrong[0]}")
                return latencies, elapsed

            checked(floor_port, calls(200, floor_port))  # warm-up, both
            checked(port, calls(200, port))
            rounds: list[tuple[list[float], float, list[float], float]] = []
            cpu: list[float] = []
            assert service.process is not None
            for _ in range(args.rounds):
                base, base_time = checked(floor_port, calls(args.requests, floor_port))
                requests = calls(args.requests, port)
                before = cpu_seconds(service.process.pid)
                cds, cds_time = checked(port, requests)
                cpu.append(cpu_seconds(service.process.pid) - before)
                rounds.append((base, base_time, cds, cds_time))
            rss_each = [peak_rss_mb(p) for p in family(service.process.pid)]
            rss = max(rss_each)
            commit = mean_commit_ms(service)
            disk = fdatasync_ms(directory)
            floor_rss = peak_rss_mb(floor.pid)
        finally:
            service.stop()
            floor.terminate()
            floor.wait(timeout=30)

    def figures(values: list[float], elapsed: float) -> tuple[float, float, float]:
        return len(values) / elapsed, statistics.median(values), percentile(values, 0.99)

    base_figs = [figures(r[0], r[1]) for r in rounds]
    cds_figs = [figures(r[2], r[3]) for r in rounds]

    def mid(rows: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(
        f"{args.rounds} rounds of {args.requests} calls per server, {args.concurrency}"
        f" concurrent clients, prefetch {size} bytes, a fresh ES384 JWT per call"
    )
    print("| server | calls/s | median | p99 |")
    print("|---|---|---|---|")
    for name, rows in (
        ("minimal Starlette app (floor)", base_figs),
        ("thinkfamily serve", cds_figs),
    ):
        print(
            f"| {name} | {mid(rows, 0):,.0f} | {mid(rows, 1) * 1000:.1f} ms"
            f" | {mid(rows, 2) * 1000:.1f} ms |"
        )
    ratios = [(c[0] / b[0], c[2] / b[2]) for b, c in zip(base_figs, cds_figs, strict=True)]
    throughput = statistics.median(r[0] for r in ratios)
    p99 = statistics.median(r[1] for r in ratios)
    print(
        f"throughput ratio {throughput:.2f} (target at least 0.2; rounds "
        + ", ".join(f"{r[0]:.2f}" for r in ratios)
        + f"); p99 ratio {p99:.1f}x (target at most 4x; rounds "
        + ", ".join(f"{r[1]:.1f}" for r in ratios)
        + ")"
    )
    per_cpu = statistics.median(args.requests / c for c in cpu)
    print(
        f"service CPU: {statistics.median(c / args.requests for c in cpu) * 1000:.2f} ms a call,"
        f" {per_cpu:,.0f} calls per CPU-second; database {args.db};"
        f" signature processes {args.signature_processes}"
    )
    shown = f"{commit:.1f} ms" if commit is not None else "not reported"
    print(f"mean hook-call transaction: {shown}; disk fdatasync median {disk:.2f} ms")
    print(
        f"peak RSS: service {rss:.0f} MB in its largest process (target under 150 MB),"
        f" {sum(rss_each):.0f} MB over its {len(rss_each)} processes; floor {floor_rss:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
