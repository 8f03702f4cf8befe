"""Checking CDS token signatures in processes of their own (``[fhir.cds] signature_processes``).

An ES384 signature check costs about 0.7 ms of CPU. The cryptography library runs it outside
the interpreter lock, so in the service's own threads it already overlaps other calls' work;
worker processes only help where the service's process is short of a core. Off by default: on
a 2-core machine handing the check over cost more than it saved. A worker takes that one step:
a call's thread sends the signing input, the signature and the issuer's public key, and waits
(without the interpreter lock) for the verdict. Everything else
about the token (its header, claims, expiry, audience, ``jti``) is still checked in the
service's own process, by the same library calls as before. The check a worker makes is the
library's own for that key; a worker that fails or is gone is replaced by the check in-process.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import queue
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from jwt import PyJWK

log = logging.getLogger(__name__)

ANSWER_WITHIN = 10.0
"""Seconds a worker has to answer before it is stopped and the check is made in the service."""


@functools.lru_cache(maxsize=64)
def _key(jwk_text: str) -> PyJWK:
    return PyJWK(json.loads(jwk_text))


def signature_verifies(jwk_text: str, signing_input: bytes, signature: bytes) -> bool:
    """The library's check of ``signature`` over ``signing_input`` with the key of that JWK."""
    key = _key(jwk_text)
    return bool(key.Algorithm.verify(signing_input, key.key, signature))


def _serve(conn: Connection) -> None:
    """A worker: answer checks until the service closes its end (or ends, however it ends)."""
    with contextlib.suppress(EOFError, OSError, KeyboardInterrupt):
        while True:
            jwk_text, signing_input, signature = conn.recv()
            try:
                verdict: bool | None = signature_verifies(jwk_text, signing_input, signature)
            except Exception:  # a key the library cannot use: refused in the service
                verdict = None
            conn.send(verdict)


class SignatureWorkers:
    """A few worker processes, each on a pipe of its own; a call borrows an idle one."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._idle: queue.SimpleQueue[tuple[Connection, subprocess.Popen[bytes]]] = (
            queue.SimpleQueue()
        )
        self._started = False
        self._live = 0
        self._lock = threading.Lock()

    def _start(self) -> None:
        for _ in range(self.processes):
            mine, theirs = socket.socketpair()
            proc = subprocess.Popen(
                [sys.executable, "-m", "adapters.fhir.cds.signatures", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
            theirs.close()
            self._idle.put((Connection(mine.detach()), proc))
            self._live += 1
        log.info("CDS signature workers started", extra={"count": self.processes})

    def verifies(self, jwk: dict[str, Any], signing_input: bytes, signature: bytes) -> bool:
        """The verdict of a worker, or of this process when no worker can give one."""
        jwk_text = json.dumps(jwk, sort_keys=True)
        with self._lock:
            if not self._started:
                self._started = True
                self._start()
            live = self._live
        try:
            conn, proc = self._idle.get(timeout=5.0) if live else self._idle.get_nowait()
        except queue.Empty:
            return signature_verifies(jwk_text, signing_input, signature)
        try:
            conn.send((jwk_text, signing_input, signature))
            if not conn.poll(ANSWER_WITHIN):
                raise TimeoutError
            verdict = conn.recv()
        except (EOFError, OSError):  # TimeoutError included
            log.warning("CDS signature worker lost: checking in the service")
            conn.close()
            proc.kill()
            with self._lock:
                self._live -= 1
            return signature_verifies(jwk_text, signing_input, signature)
        self._idle.put((conn, proc))
        if verdict is None:
            return signature_verifies(jwk_text, signing_input, signature)
        return bool(verdict)

    def close(self) -> None:
        """Stop the idle workers (a worker in use stops when its pipe closes)."""
        while True:
            try:
                conn, proc = self._idle.get_nowait()
            except queue.Empty:
                return
            conn.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
