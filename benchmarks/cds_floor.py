"""The floors the CDS Hooks benchmark measures the service against.

* ``serve_floor(port)``: a minimal Starlette app under uvicorn, configured as ``thinkfamily
  serve`` configures it, that reads a CDS Hooks call's body, parses it and answers no cards.
* ``drive(...)``: a light HTTP/1.1 keep-alive client on asyncio, one connection per simulated
  EHR client, so the client costs little next to the servers it measures.
* ``profiled_serve``: ``thinkfamily serve`` with every thread under cProfile, the profiles
  merged into one file when the service stops.

    python benchmarks/cds_floor.py floor PORT
    python benchmarks/cds_floor.py profile OUT.prof serve ...
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def _call(request: Request) -> Response:
    body = json.loads(await request.body())
    if not isinstance(body, dict) or body.get("hook") != "patient-view":
        return JSONResponse({"error": "not a patient-view call"}, status_code=400)
    return JSONResponse({"cards": []})


FLOOR = Starlette(routes=[Route("/cds-services/{service_id}", _call, methods=["POST"])])


def serve_floor(port: int) -> None:
    import uvicorn

    uvicorn.Server(
        uvicorn.Config(
            FLOOR,
            host="127.0.0.1",
            port=port,
            access_log=False,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=20,
        )
    ).run()


def profiled_serve(out: str, argv: Sequence[str]) -> None:
    """Run the CLI with each thread profiled by its own CPU time (so time spent waiting for a
    lock, the disk or the interpreter lock is not counted); write the merged profile before the process ends
    (``serve`` ends by raising the signal it was stopped with, so that is where it is written)."""
    import cProfile
    import pstats
    import signal
    import threading

    profiles: list[cProfile.Profile] = []

    def start(frame: object, event: str, arg: object) -> None:
        # Called once in each new thread (pool workers included): hands over to a profiler.
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    main = cProfile.Profile(time.thread_time)
    profiles.append(main)
    original_raise = signal.raise_signal

    def dump() -> None:
        main.disable()
        stats = pstats.Stats(main)
        for profile in profiles[1:]:
            profile.snapshot_stats()  # the thread may still run: read, do not stop it
            if profile.stats:  # type: ignore[attr-defined]
                stats.add(profile)
        stats.dump_stats(out)

    def raise_signal(sig: int) -> None:
        dump()
        original_raise(sig)

    signal.raise_signal = raise_signal
    from plugin_core.cli import main as cli

    sys.argv = ["thinkfamily", *argv]
    main.enable()
    try:
        cli()
    finally:
        dump()


async def _client(
    host: str, port: int, requests: Sequence[bytes], latencies: list[float], statuses: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for raw in requests:
            started = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses.append(int(head.split(b" ", 2)[1]))
    finally:
        writer.close()


def drive(
    host: str, port: int, requests: Sequence[bytes], concurrency: int
) -> tuple[list[float], float, list[int]]:
    """Send ``requests`` over ``concurrency`` keep-alive connections, each waiting for its
    answer before sending the next; returns latencies, elapsed seconds and statuses."""
    latencies: list[float] = []
    statuses: list[int] = []

    async def main() -> float:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _client(host, port, requests[i::concurrency], latencies, statuses)
                for i in range(concurrency)
            )
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    return latencies, elapsed, statuses


def post(host: str, port: int, path: str, body: bytes, token: str) -> bytes:
    """One keep-alive POST as an EHR sends it."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


if __name__ == "__main__":
    if sys.argv[1] == "floor":
        serve_floor(int(sys.argv[2]))
    elif sys.argv[1] == "profile":
        profiled_serve(sys.argv[2], sys.argv[3:])
