"""Starting a Node.js test peer that prints ``{"listening": PORT}`` as its first line.

The peers bind port 0 on loopback and say which port they got, so parallel runs never clash;
the wait for that line is bounded, and a peer that never says it is stopped.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from pathlib import Path


def start_node_peer(
    folder: Path, env: dict[str, str], *, name: str, timeout: float, stderr: int
) -> tuple[subprocess.Popen[bytes], int]:
    """The running ``node server.mjs`` in ``folder`` and the port it listens on."""
    process = subprocess.Popen(
        ["node", "server.mjs"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=dict(os.environ, PEER_PORT="0", **env),
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        line += chunk
    selector.close()
    try:
        return process, int(json.loads(line.splitlines()[0])["listening"])
    except (ValueError, KeyError, IndexError):
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"the {name} peer did not start within {timeout}s") from None


def stop_node_peer(process: subprocess.Popen[bytes]) -> None:
    """End the peer (terminate, then kill if it lingers) and close its output."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
