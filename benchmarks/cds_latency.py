"""CDS Hooks latency under concurrent load, beside a trivial endpoint of the same server.

Starts ``thinkfamily serve`` on loopback (SQLite file), then, in one run, drives ``GET
/healthz`` and ``POST /cds-services/thinkfamily-patient-view`` with the same concurrency. Each
hook call carries a realistic prefetch (the adult, two children, a condition, a household
answer, a flag) and a fresh ES384 JWT that the service verifies; tokens are signed before the
clock starts, so the figures are the server's. Prints medians, 99th percentiles and ratios.

    python benchmarks/cds_latency.py [--requests 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fhir.conftest import Keys, cds_token, ec_key, fhir_toml, rsa_key  # noqa: E402
from tests.fhir.test_fhir_cds_service import prefetched_call  # noqa: E402
from tests.peers.ports import free_port  # noqa: E402
from tests.peers.service import ServiceProcess, write_trust_config  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def drive(jobs: list[Any], concurrency: int) -> tuple[list[float], float]:
    """Run ``jobs`` (callables taking a session) on ``concurrency`` keep-alive sessions."""
    sessions = [requests.Session() for _ in range(concurrency)]
    latencies: list[float] = []

    def worker(index: int) -> list[float]:
        session = sessions[index]
        out = []
        for job in jobs[index::concurrency]:
            start = time.perf_counter()
            status = job(session)
            out.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"unexpected HTTP {status}")
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for result in pool.map(worker, range(concurrency)):
            latencies.extend(result)
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.close()
    return latencies, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as raw:
        directory = Path(raw)
        keys = Keys(directory, ec_key("bench-ehr"), rsa_key("bench-smart"))
        keys.ehr_jwks.write_text(json.dumps({"keys": [keys.ehr.public_jwk]}))
        port = free_port()
        config = write_trust_config(
            directory / "trust",
            extra_toml=fhir_toml(audience=f"http://127.0.0.1:{port}", keys=keys),
        )
        service = ServiceProcess(
            config, f"sqlite:///{directory / 'bench.db'}", directory, name="bench"
        )
        service.http_port = port
        service.start()
        try:
            url = f"{service.url}/cds-services/thinkfamily-patient-view"
            bodies = [json.dumps(prefetched_call(f"B{i}")).encode() for i in range(args.requests)]
            tokens = [cds_token(keys.ehr, url) for _ in range(args.requests + 40)]
            size = len(bodies[0])

            def hook(i: int) -> Any:
                return lambda s: (
                    s.post(
                        url,
                        data=bodies[i % len(bodies)],
                        headers={
                            "Authorization": f"Bearer {tokens[i]}",
                            "Content-Type": "application/json",
                        },
                        timeout=30,
                    ).status_code
                )

            def health(s: requests.Session) -> int:
                return s.get(f"{service.url}/healthz", timeout=30).status_code

            drive([health] * 40, args.concurrency)  # warm-up
            drive([hook(args.requests + i) for i in range(40)], args.concurrency)
            trivial, trivial_time = drive([health] * args.requests, args.concurrency)
            cds, cds_time = drive([hook(i) for i in range(args.requests)], args.concurrency)
        finally:
            service.stop()

    def row(name: str, values: list[float], elapsed: float) -> str:
        return (
            f"| {name} | {statistics.median(values) * 1000:.1f} ms | "
            f"{percentile(values, 0.99) * 1000:.1f} ms | {len(values) / elapsed:.0f}/s |"
        )

    print(
        f"{args.requests} requests per endpoint, {args.concurrency} concurrent clients, prefetch {size} bytes"
    )
    print("| endpoint | median | p99 | throughput |")
    print("|---|---|---|---|")
    print(row("GET /healthz (baseline)", trivial, trivial_time))
    print(row("POST /cds-services/thinkfamily-patient-view", cds, cds_time))
    print(
        f"ratio CDS/baseline: median {statistics.median(cds) / statistics.median(trivial):.1f}x, "
        f"p99 {percentile(cds, 0.99) / percentile(trivial, 0.99):.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
