"""The MLLP listener: frames in, contacts durably committed, ACKs out, in order per connection.

Each connection is served by its own thread with a blocking socket: read the frames that have
arrived, read each message, commit the contacts, write the ACKs. The commit blocks on the disk
anyway, and doing the whole round on one thread avoids two thread hand-overs per message,
which cost more than reading the message (see benchmarks/hl7_ingest.py). Integration engines
keep a few long-lived connections, so a thread each is cheap; ``max_connections`` bounds them,
and :mod:`adapters.hl7.connections` decides who gets a slot when they are all taken.

A connection's messages are answered strictly in the order they came, and AA/CA is written only
after the commit returns. Nothing a peer sends stops the listener: every frame is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from adapters.hl7.ack import AckError, acks_for
from adapters.hl7.connections import ConnectionPolicy, Slot, admit, peer_of
from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR, DUPLICATE_KEY_IDENTIFIER
from adapters.hl7.framing import END_BYTES, START_BYTES, Frame, FrameDecoder, FramingFault
from adapters.hl7.ingest import UNKNOWN_HEADER, Outcome, Reader
from plugin_core.contract import Accepted, ReceivedMessage, ServicePort
from plugin_core.rules.clock import utc_now

log = logging.getLogger(__name__)

_RECV = 65536
_HANDSHAKE_SECONDS = 10.0
_ACCEPT_POLL = 0.5
_FLUSH_SECONDS = 1.0
_NOTE_SECONDS = 60.0
RESEND_CONFLICT = "MSH-10: control id already used for a different message"


@dataclass(eq=False, slots=True)
class _Connection(Slot):
    sock: socket.socket | None = None
    thread: threading.Thread | None = None


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
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter()
        self._totals: Counter[str] = Counter()
        self._saturated_at: float | None = None
        self._saturated_wall: datetime | None = None
        self._noted: dict[str, float] = {}

    @property
    def max_connections(self) -> int:
        return self.policy.max_connections

    async def start(self) -> None:
        server = socket.create_server((self.host, self.port), reuse_port=False, backlog=128)
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
            _shutdown(conn.sock, socket.SHUT_RD)  # wakes a blocked recv; ACKs in hand still go out
        for conn in connections:
            if conn.thread is not None:
                conn.thread.join(timeout=10)
        if self._flushing is not None:
            self._flushing.join(timeout=10)
        self._flush()

    # Health -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """For /healthz: "degraded" while the listener was full within the saturation window."""
        now = time.monotonic()
        with self._lock:
            open_now = sum(1 for c in self._connections if not c.closing)
            totals = dict(self._totals)
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
                    log.error("hl7: accepting a connection failed", extra={"error": type(exc).__name__})
                continue
            try:
                self._admit(sock, peer_of(address))
            except Exception as exc:  # one bad connection must not stop the accepting
                log.error("hl7: admitting a connection failed", extra={"error": type(exc).__name__})
                sock.close()

    def _admit(self, sock: socket.socket, peer: str) -> None:
        """Let a connection in by the policy, closing the connection it replaces, or close it."""
        now = time.monotonic()
        conn = _Connection(peer, now, now, frame_started=now if self.tls else None, sock=sock)
        with self._lock:
            decision = admit(self.policy, list(self._connections), peer)
            if decision.saturated:
                self._note(
                    "saturated",
                    now,
                    "hl7: listener full; closing the longest-idle connection for each new one",
                )
                self._saturated_at = now
                self._saturated_wall = utc_now()
                self._tally("hl7.saturated")
            if decision.peer_capped:
                self._tally("hl7.peer_capped")
            if decision.admitted:
                for victim in decision.close:
                    victim.closing = True
                    self._tally("hl7.evicted")
                self._connections.add(conn)
            else:
                self._tally(f"hl7.refused_{'network' if decision.reason == 'network' else 'busy'}")
                self._note(decision.reason, now, f"hl7: connection refused ({decision.reason})")
        if not decision.admitted:
            sock.close()
            return
        for victim in decision.close:
            log.debug("hl7: closing the longest-idle connection for a new one")
            if isinstance(victim, _Connection):
                _shutdown(victim.sock, socket.SHUT_RDWR)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        conn.thread = threading.Thread(
            target=self._serve, args=(conn,), name="hl7-connection", daemon=True
        )
        conn.thread.start()

    # One connection ---------------------------------------------------------------------------

    def _serve(self, conn: _Connection) -> None:
        decoder = FrameDecoder(self.reader.settings.max_message_bytes)
        try:
            if self.tls is not None and not self._handshake(conn):
                return
            sock = conn.sock
            assert sock is not None
            while not self._stopping.is_set():
                data = self._receive(conn, sock)
                if not data:
                    break
                with self._lock:
                    if conn.closing:
                        break
                    conn.busy = True
                was_pending, events, answered = decoder.pending, [], True
                try:
                    events = decoder.feed(data)
                    answered = not events or self._answer(sock, self._handle(events))
                finally:
                    self._after_read(conn, decoder.pending, was_pending, events)
                if not answered:
                    break
            if decoder.pending:
                self.count("hl7.truncated")
        finally:
            with self._lock:
                conn.closing = True
                self._connections.discard(conn)
            if conn.sock is not None:
                conn.sock.close()

    def _receive(self, conn: _Connection, sock: socket.socket) -> bytes:
        """The next bytes from the sender; empty when it closed, failed or missed its deadline.

        Between frames a connection may wait as long as it likes; once a frame has begun it
        must end before the frame deadline.
        """
        while True:
            started = conn.frame_started
            if started is None:
                sock.settimeout(None)
            else:
                left = started + self.policy.frame_deadline - time.monotonic()
                if left <= 0:
                    with self._lock:
                        self._tally("hl7.frame_deadline")
                        self._note(
                            "frame_deadline",
                            time.monotonic(),
                            "hl7: closing a connection whose frame did not finish in time",
                        )
                    return b""
                sock.settimeout(left)
            try:
                return sock.recv(_RECV)
            except TimeoutError:
                continue
            except OSError:
                return b""

    def _after_read(
        self,
        conn: _Connection,
        pending: bool,
        was_pending: bool,
        events: list[Frame | FramingFault],
    ) -> None:
        """Mark the connection free again; a frame finished restarts its idle time, and a frame
        begun (now, or after the one just answered) starts its own deadline."""
        now = time.monotonic()
        with self._lock:
            conn.busy = False
            if any(isinstance(e, Frame) for e in events):
                conn.last_message = now
            if not pending:
                conn.frame_started = None
            elif events or not was_pending:
                conn.frame_started = now

    def _handshake(self, conn: _Connection) -> bool:
        """The TLS handshake, bounded in time; a sender that fails it is counted and dropped."""
        assert self.tls is not None and conn.sock is not None
        try:
            conn.sock.settimeout(_HANDSHAKE_SECONDS)
            secured = self.tls.wrap_socket(conn.sock, server_side=True)
            secured.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            if not conn.closing:  # not a connection closed for a new one mid-handshake
                log.warning("hl7: TLS handshake refused", extra={"error": type(exc).__name__})
                self.count("hl7.tls_refused")
            return False
        with self._lock:
            conn.sock = secured
            conn.frame_started = None
            closing = conn.closing
        if closing:
            _shutdown(secured, socket.SHUT_RDWR)
        return not closing

    def _handle(self, events: list[Frame | FramingFault]) -> list[Outcome]:
        """Read every frame, commit the contacts among them; outcomes in arrival order."""
        try:
            reader = self.reader
            outcomes = [
                reader.framing_fault(e.reason, e.data)
                if isinstance(e, FramingFault)
                else reader.read(e.data)
                for e in events
            ]
            for outcome in outcomes:
                if outcome.skipped is not None:
                    self.count("hl7.skipped")
                elif outcome.contact is None:
                    self.count("hl7.rejected" if outcome.ack_code == "AR" else "hl7.errors")
            if not any(o.contact is not None for o in outcomes):
                return outcomes
            committed = iter(self.commit([o for o in outcomes if o.contact is not None]))
            return [next(committed) if o.contact is not None else o for o in outcomes]
        except Exception as exc:  # answer anyway: one bad batch must not stop the rest
            log.error("hl7: handling messages failed", extra={"error": type(exc).__name__})
            error = AckError(APPLICATION_INTERNAL_ERROR, "the message could not be handled")
            return [Outcome(UNKNOWN_HEADER, error=error, ack_code="AE") for _ in events]

    def _answer(self, conn: socket.socket, outcomes: list[Outcome]) -> bool:
        at = utc_now()
        out = bytearray()
        for outcome in outcomes:
            for ack in acks_for(outcome.header, outcome.ack_code, at=at, error=outcome.error):
                out += START_BYTES + ack.encode(outcome.encoding, "replace") + END_BYTES
        if not out:
            return True
        try:
            conn.sendall(out)
        except OSError:
            return False
        return True

    # Counting connections ---------------------------------------------------------------------

    def _tally(self, metric: str) -> None:
        """Count a connection event (caller holds the lock); added to the service's counters in
        the background, so a flood of connections never waits on the database."""
        self._pending[metric] += 1
        self._totals[metric] += 1

    def _note(self, kind: str, now: float, what: str) -> None:
        """Log a connection event once a minute at most (caller holds the lock): under a
        flood, the counters tell how many; the log need only say that it is happening."""
        last = self._noted.get(kind)
        if last is None or now - last >= _NOTE_SECONDS:
            self._noted[kind] = now
            log.warning("hl7: connection event", extra={"reason": what})

    def _flush_loop(self) -> None:
        while not self._stopping.wait(_FLUSH_SECONDS):
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        for metric, amount in pending.items():
            self.count(metric, amount)

    # Service ----------------------------------------------------------------------------------

    def count(self, metric: str, amount: int = 1) -> None:
        service = self.service()
        if service is None:
            return
        try:
            service.count(metric, amount)
        except Exception as exc:
            log.warning("hl7: counting failed", extra={"code": metric, "error": type(exc).__name__})

    def commit(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Commit the contacts of a batch in order; a failure is answered AE ("send again").

        Several messages waiting on one connection share one durable commit.
        """
        service = self.service()
        if service is None:
            error = AckError(APPLICATION_INTERNAL_ERROR, "the service is not ready; send again")
            return [replace(o, contact=None, error=error, ack_code="AE") for o in outcomes]
        results = _commit_all(service, outcomes)
        out: list[Outcome] = []
        for outcome, result in zip(outcomes, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "hl7: commit failed",
                    extra={
                        "message_id": outcome.header.control_id[:40],
                        "error": type(result).__name__,
                    },
                )
                error = AckError(
                    APPLICATION_INTERNAL_ERROR, "the contact was not stored; send again"
                )
                out.append(replace(outcome, contact=None, error=error, ack_code="AE"))
                self.count("hl7.failed")
            elif result.conflict:
                log.warning(
                    "hl7: control id reused for a different message; kept for review",
                    extra={"message_id": outcome.header.control_id[:40]},
                )
                error = AckError(DUPLICATE_KEY_IDENTIFIER, RESEND_CONFLICT, "MSH", 10)
                out.append(replace(outcome, contact=None, error=error, ack_code="AE"))
                self.count("hl7.resend_conflicts")
            else:
                if result.duplicate:
                    log.info(
                        "hl7: message already recorded",
                        extra={"message_id": outcome.header.control_id[:40]},
                    )
                out.append(outcome)
        return out


def _shutdown(sock: socket.socket | None, how: int) -> None:
    """Wake the thread reading ``sock`` (on the raw socket, so a TLS one is not disturbed)."""
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, how)


def _commit_all(service: ServicePort, outcomes: list[Outcome]) -> list[Accepted | Exception]:
    """A group commit when the service has one, else one durable commit after another."""
    kept = [o for o in outcomes if o.contact is not None]
    batch = [(o.contact, o.header.message_key) for o in kept if o.contact is not None]
    messages: list[ReceivedMessage | None] = [o.message for o in kept]
    if len(batch) > 1:
        try:
            return service.accept_contacts(batch, messages=messages)
        except Exception as exc:
            log.warning(
                "hl7: group commit failed; committing one by one",
                extra={"error": type(exc).__name__},
            )
    results: list[Accepted | Exception] = []
    for (contact, key), message in zip(batch, messages, strict=True):
        try:
            results.append(service.accept_contact(contact, message_key=key, message=message))
        except Exception as exc:
            results.append(exc)
    return results
