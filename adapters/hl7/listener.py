"""The MLLP listener: frames in, messages durably committed, ACKs out, in order per connection.

Each connection is served by its own thread with a blocking socket: read the frames that have
arrived, check (or read) each message, commit them, write the ACKs. The commit blocks on the disk
anyway, and doing the whole round on one thread avoids two thread hand-overs per message,
which cost more than reading the message (see benchmarks/hl7_ingest.py). Integration engines
keep a few long-lived connections, so a thread each is cheap; ``max_connections`` bounds them,
and :mod:`adapters.hl7.connections` decides who gets a slot when they are all taken.

A connection's messages are answered strictly in the order they came, and AA/CA is written only
after the commit returns: of the message to the journal (``acknowledge = "on-receipt"``, the
default; see :mod:`adapters.hl7.handling`) or of the contact (``"after-processing"``). Nothing
a peer sends stops the listener: every frame is answered.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.hl7.ack import acks_for
from adapters.hl7.connection import Connection, shutdown
from adapters.hl7.connections import ConnectionPolicy, admit, peer_of
from adapters.hl7.framing import END_BYTES, START_BYTES, FrameDecoder
from adapters.hl7.handling import RESEND_CONFLICT, AfterProcessing, OnReceipt
from adapters.hl7.ingest import Outcome, Reader
from adapters.hl7.journal_mode import JournalMode
from adapters.hl7.settings import ON_RECEIPT
from adapters.hl7.tally import Tally
from plugin_core.contract import ServicePort
from plugin_core.rules.clock import utc_now

log = logging.getLogger(__name__)

_ACCEPT_POLL = 0.5
_FLUSH_SECONDS = 1.0
__all__ = ["RESEND_CONFLICT", "MllpListener"]


class MllpListener:
    """An MLLP server bound to ``host:port`` (``port`` 0 picks a free one), started from asyncio."""

    def __init__(
        self,
        reader: Reader,
        service: Callable[[], ServicePort | None],
        *,
        host: str = "127.0.0.1",
        port: int = 2575,
        max_connections: int | None = None,
        tls: ssl.SSLContext | None = None,
        policy: ConnectionPolicy | None = None,
    ) -> None:
        self.reader = reader
        self.service = service
        self.host = host
        self.port = port
        policy = policy or ConnectionPolicy()
        if max_connections is not None:
            policy = replace(policy, max_connections=max_connections)
        self.policy = policy
        self.tls = tls
        self._socket: socket.socket | None = None
        self._stopping = threading.Event()
        self._accepting: threading.Thread | None = None
        self._flushing: threading.Thread | None = None
        self._connections: set[Connection] = set()
        self._lock = threading.Lock()
        self.tally = Tally(service, self._lock)
        self._saturated_at: float | None = None
        self._saturated_wall: datetime | None = None
        self.handling: AfterProcessing = AfterProcessing(reader, service, self.tally.count)
        self.journal: JournalMode | None = None

    @property
    def max_connections(self) -> int:
        return self.policy.max_connections

    async def start(self) -> None:
        server = socket.create_server((self.host, self.port), reuse_port=False, backlog=128)
        if self.reader.settings.acknowledge == ON_RECEIPT:  # once the port is ours
            journal = JournalMode(self.service, self.tally.count)
            try:
                started = await asyncio.to_thread(journal.start)
            except BaseException:
                server.close()
                raise
            if started:
                self.journal = journal
                self.handling = OnReceipt(self.reader, self.service, self.tally.count)
            else:
                log.warning(
                    "hl7: no journal worker for this database; acknowledging after processing"
                )
        server.settimeout(_ACCEPT_POLL)
        self._socket = server
        self.port = int(server.getsockname()[1])
        self._stopping.clear()
        self._accepting = threading.Thread(target=self._accept, name="hl7-accept", daemon=True)
        self._accepting.start()
        self._flushing = threading.Thread(target=self._flush_loop, name="hl7-count", daemon=True)
        self._flushing.start()
        log.info("hl7: MLLP listener started", extra={"host": self.host, "port": self.port})

    async def stop(self) -> None:
        """Stop accepting, let each connection finish the batch in hand, then close it."""
        self._stopping.set()
        await asyncio.to_thread(self._join)

    def _join(self) -> None:
        if self._accepting is not None:
            self._accepting.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            shutdown(conn.sock, socket.SHUT_RD)  # wakes a blocked recv; ACKs in hand still go out
        for conn in connections:
            if conn.thread is not None:
                conn.thread.join(timeout=10)
        if self._flushing is not None:
            self._flushing.join(timeout=10)
        if self.journal is not None:
            self.journal.stop()
        self.tally.flush()

    # Health -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """For /healthz: "degraded" while the listener was full within the saturation window."""
        now = time.monotonic()
        with self._lock:
            open_now = sum(1 for c in self._connections if not c.closing)
            totals = dict(self.tally.totals)
            saturated_at, wall = self._saturated_at, self._saturated_wall
        recent = saturated_at is not None and now - saturated_at <= self.policy.saturation_window
        return {
            "status": "degraded" if recent else "ok",
            "connections": open_now,
            "max_connections": self.policy.max_connections,
            "last_saturated_at": wall.isoformat() if wall else None,
            "saturated": totals.get("hl7.saturated", 0),
            "evicted": totals.get("hl7.evicted", 0),
            "refused": {
                "network": totals.get("hl7.refused_network", 0),
                "busy": totals.get("hl7.refused_busy", 0),
            },
            "frame_deadline": totals.get("hl7.frame_deadline", 0),
            "acknowledge": "on-receipt" if self.journal else "after-processing",
            **(self.journal.health() if self.journal else {}),
        }

    # Accepting --------------------------------------------------------------------------------

    def _accept(self) -> None:
        server = self._socket
        assert server is not None
        while not self._stopping.is_set():
            try:
                sock, address = server.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    log.error(
                        "hl7: accepting a connection failed", extra={"error": type(exc).__name__}
                    )
                continue
            try:
                self._admit(sock, peer_of(address))
            except Exception as exc:  # one bad connection must not stop the accepting
                log.error("hl7: admitting a connection failed", extra={"error": type(exc).__name__})
                sock.close()

    def _admit(self, sock: socket.socket, peer: str) -> None:
        """Let a connection in by the policy, closing the connection it replaces, or close it."""
        now = time.monotonic()
        conn = Connection(peer, now, now, frame_started=now if self.tls else None, sock=sock)
        with self._lock:
            decision = admit(self.policy, list(self._connections), peer)
            if decision.saturated:
                self.tally.note(
                    "saturated",
                    now,
                    "hl7: listener full; closing the longest-idle connection for each new one",
                )
                self._saturated_at = now
                self._saturated_wall = utc_now()
                self.tally.add("hl7.saturated")
            if decision.peer_capped:
                self.tally.add("hl7.peer_capped")
            if decision.admitted:
                for victim in decision.close:
                    victim.closing = True
                    self.tally.add("hl7.evicted")
                self._connections.add(conn)
            else:
                self.tally.add(
                    f"hl7.refused_{'network' if decision.reason == 'network' else 'busy'}"
                )
                self.tally.note(
                    decision.reason, now, f"hl7: connection refused ({decision.reason})"
                )
        if not decision.admitted:
            sock.close()
            return
        for victim in decision.close:
            log.debug("hl7: closing the longest-idle connection for a new one")
            if isinstance(victim, Connection):
                shutdown(victim.sock, socket.SHUT_RDWR)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        conn.thread = threading.Thread(
            target=self._serve, args=(conn,), name="hl7-connection", daemon=True
        )
        conn.thread.start()

    # One connection ---------------------------------------------------------------------------

    def _serve(self, conn: Connection) -> None:
        decoder = FrameDecoder(self.reader.settings.max_message_bytes)
        try:
            if self.tls is not None and not conn.handshake(self.tls, self._lock, self.count):
                return
            sock = conn.sock
            assert sock is not None
            while not self._stopping.is_set():
                data = conn.receive(sock, self.policy.frame_deadline, self._lock, self.tally)
                if not data:
                    break
                with self._lock:
                    if conn.closing:
                        break
                    conn.busy = True
                was_pending, events, answered = decoder.pending, [], True
                try:
                    events = decoder.feed(data)
                    answered = not events or self._answer(conn, self.handling.handle(events))
                finally:
                    conn.after_read(self._lock, decoder.pending, was_pending, events)
                if not answered:
                    break
            if decoder.pending:
                self.count("hl7.truncated")
        finally:
            with self._lock:
                conn.closing = True
                self._connections.discard(conn)
            if self.journal is not None:
                self.journal.acks.forget(conn)
            with conn.sending:
                if conn.sock is not None:
                    conn.sock.close()
                conn.sock = None

    def _answer(self, conn: Connection, outcomes: list[Outcome]) -> bool:
        at = utc_now()
        out = bytearray()
        awaited: list[Outcome] = []
        for o in outcomes:
            deferred = o.journal_id is not None
            for ack in acks_for(o.header, o.ack_code, at=at, error=o.error, deferred=deferred):
                out += START_BYTES + ack.encode(o.encoding, "replace") + END_BYTES
            if o.journal_id is not None and o.header.enhanced and o.header.application_ack != "NE":
                awaited.append(o)
        if out and not conn.send(bytes(out)):
            return False
        for o in awaited:  # after the accept ACKs, so the application ACK never comes first
            if self.journal is not None and o.journal_id is not None:
                self.journal.acks.expect(o.journal_id, o.header, o.encoding, conn.send, conn)
        return True

    # Counting -------------------------------------------------------------------------------

    def _flush_loop(self) -> None:
        while not self._stopping.wait(_FLUSH_SECONDS):
            self.tally.flush()

    def count(self, metric: str, amount: int = 1) -> None:
        self.tally.count(metric, amount)
