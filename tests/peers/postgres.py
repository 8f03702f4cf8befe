"""A real PostgreSQL server from Debian's package, started in a temporary directory on loopback.

initdb refuses to run as root, so as root the cluster is owned by the ``postgres`` system
user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.peers.ports import free_port


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def postgres_server(timeout: float = 60.0) -> Iterator[str]:
    """Yields an admin URL ``postgresql://postgres@127.0.0.1:PORT/postgres``; stops on exit."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run .ci/setup")
    root = Path(tempfile.mkdtemp(prefix="tf-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        os.chmod(root, 0o700)
    port = free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        subprocess.run(
            _as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=on -c max_connections=100",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=timeout + 10,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _wait_ready(url, timeout)
        yield url
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    [
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "30",
                        "stop",
                    ]
                ),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(url: str, timeout: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def create_database(admin_url: str, name: str) -> str:
    """A fresh, empty database on the server; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
