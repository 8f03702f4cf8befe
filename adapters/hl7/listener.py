"""The MLLP listener: frames in, contacts durably committed, ACKs out, in order per connection.

Each connection is served by its own thread with a blocking socket: read the frames that have
arrived, read each message, commit the contacts, write the ACKs. The commit blocks on the disk
anyway, and doing the whole round on one thread avoids two thread hand-overs per message,
which cost more than reading the message (see benchmarks/hl7_ingest.py). Integration engines
keep a few long-lived connections, so a thread each is cheap; ``max_connections`` bounds them.

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
from collections.abc import Callable
from dataclasses import replace

from adapters.hl7.ack import AckError, acks_for
from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR
from adapters.hl7.framing import END_BYTES, START_BYTES, Frame, FrameDecoder, FramingFault
from adapters.hl7.ingest import UNKNOWN_HEADER, Outcome, Reader
from plugin_core.contract import Accepted, ServicePort
from plugin_core.rules.clock import utc_now

log = logging.getLogger(__name__)

_RECV = 65536
_HANDSHAKE_SECONDS = 10.0
_ACCEPT_POLL = 0.5


class MllpListener:
    """An MLLP server bound to ``host:port`` (``port`` 0 picks a free one), started from asyncio."""

    def __init__(
        self,
        reader: Reader,
        service: Callable[[], ServicePort | None],
        *,
        host: str = "127.0.0.1",
        port: int = 2575,
        max_connections: int = 64,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.reader = reader
        self.service = service
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.tls = tls
        self._socket: socket.socket | None = None
        self._stopping = threading.Event()
        self._accepting: threading.Thread | None = None
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()

    async def start(self) -> None:
        server = socket.create_server((self.host, self.port), reuse_port=False, backlog=64)
        server.settimeout(_ACCEPT_POLL)
        self._socket = server
        self.port = int(server.getsockname()[1])
        self._stopping.clear()
        self._accepting = threading.Thread(target=self._accept, name="hl7-accept", daemon=True)
        self._accepting.start()
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
            connections = list(self._connections.items())
        for conn, _ in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RD)  # wakes a blocked recv; ACKs in hand still go out
        for _, thread in connections:
            thread.join(timeout=10)

    # Accepting --------------------------------------------------------------------------------

    def _accept(self) -> None:
        server = self._socket
        assert server is not None
        while not self._stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    log.error(
                        "hl7: accepting a connection failed", extra={"error": type(exc).__name__}
                    )
                continue
            with self._lock:
                crowded = len(self._connections) >= self.max_connections
            if crowded:
                log.warning(
                    "hl7: connection refused: too many open",
                    extra={"count": self.max_connections},
                )
                conn.close()
                continue
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(
                target=self._serve, args=(conn,), name="hl7-connection", daemon=True
            )
            with self._lock:
                self._connections[conn] = thread
            thread.start()

    # One connection ---------------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        decoder = FrameDecoder(self.reader.settings.max_message_bytes)
        if self.tls is not None:
            secured = self._handshake(conn)
            if secured is None:
                return
            conn = secured
        try:
            while not self._stopping.is_set():
                try:
                    data = conn.recv(_RECV)
                except OSError:
                    break
                if not data:
                    break
                events = decoder.feed(data)
                if events and not self._answer(conn, self._handle(events)):
                    break
            if decoder.pending:
                self.count("hl7.truncated")
        finally:
            with self._lock:
                self._connections.pop(conn, None)
            conn.close()

    def _handshake(self, conn: socket.socket) -> socket.socket | None:
        """The TLS handshake, bounded in time; a sender that fails it is counted and dropped."""
        assert self.tls is not None
        try:
            conn.settimeout(_HANDSHAKE_SECONDS)
            secured = self.tls.wrap_socket(conn, server_side=True)
            secured.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            log.warning("hl7: TLS handshake refused", extra={"error": type(exc).__name__})
            self.count("hl7.tls_refused")
            with self._lock:
                self._connections.pop(conn, None)
            conn.close()
            return None
        with self._lock:
            thread = self._connections.pop(conn, None)
            if thread is not None:
                self._connections[secured] = thread
        return secured

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

    # Service ----------------------------------------------------------------------------------

    def count(self, metric: str) -> None:
        service = self.service()
        if service is None:
            return
        try:
            service.count(metric)
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
            else:
                if result.duplicate:
                    log.info(
                        "hl7: message already recorded",
                        extra={"message_id": outcome.header.control_id[:40]},
                    )
                out.append(outcome)
        return out


def _commit_all(service: ServicePort, outcomes: list[Outcome]) -> list[Accepted | Exception]:
    """A group commit when the service has one, else one durable commit after another."""
    batch = [(o.contact, o.header.message_key) for o in outcomes if o.contact is not None]
    if len(batch) > 1:
        try:
            return service.accept_contacts(batch)
        except Exception as exc:
            log.warning(
                "hl7: group commit failed; committing one by one",
                extra={"error": type(exc).__name__},
            )
    results: list[Accepted | Exception] = []
    for contact, key in batch:
        try:
            results.append(service.accept_contact(contact, message_key=key))
        except Exception as exc:
            results.append(exc)
    return results
