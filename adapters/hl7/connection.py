"""One MLLP connection: reading with the frame deadline, the TLS handshake, writing ACKs."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.hl7.connections import Slot
from adapters.hl7.framing import Frame, FramingFault
from adapters.hl7.tally import Tally

log = logging.getLogger("adapters.hl7.listener")

_RECV = 65536
_HANDSHAKE_SECONDS = 10.0


@dataclass(eq=False, slots=True)
class Connection(Slot):
    """One sender's connection: its socket, its thread, and its state for the policy."""

    sock: socket.socket | None = None
    thread: threading.Thread | None = None
    sending: threading.Lock = field(default_factory=threading.Lock)

    def send(self, data: bytes) -> bool:
        """Write whole ACKs (the connection's thread and the application ACKs share it)."""
        with self.sending:
            if self.sock is None:
                return False
            try:
                self.sock.sendall(data)
            except OSError:
                return False
        return True

    def receive(
        self, sock: socket.socket, frame_deadline: float, lock: threading.Lock, tally: Tally
    ) -> bytes:
        """The next bytes from the sender; empty when it closed, failed or missed its deadline.

        Between frames a connection may wait as long as it likes; once a frame has begun it
        must end before the frame deadline.
        """
        while True:
            started = self.frame_started
            if started is None:
                if sock.gettimeout() is not None:  # a system call each time otherwise
                    sock.settimeout(None)
            else:
                left = started + frame_deadline - time.monotonic()
                if left <= 0:
                    with lock:
                        tally.add("hl7.frame_deadline")
                        tally.note(
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

    def after_read(
        self,
        lock: threading.Lock,
        pending: bool,
        was_pending: bool,
        events: list[Frame | FramingFault],
    ) -> None:
        """Mark the connection free again; a frame finished restarts its idle time, and a frame
        begun (now, or after the one just answered) starts its own deadline."""
        now = time.monotonic()
        with lock:
            self.busy = False
            if any(isinstance(e, Frame) for e in events):
                self.last_message = now
            if not pending:
                self.frame_started = None
            elif events or not was_pending:
                self.frame_started = now

    def handshake(
        self, tls: ssl.SSLContext, lock: threading.Lock, count: Callable[[str], None]
    ) -> bool:
        """The TLS handshake, bounded in time; a sender that fails it is counted and dropped."""
        assert self.sock is not None
        try:
            self.sock.settimeout(_HANDSHAKE_SECONDS)
            secured = tls.wrap_socket(self.sock, server_side=True)
            secured.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            if not self.closing:  # not a connection closed for a new one mid-handshake
                log.warning("hl7: TLS handshake refused", extra={"error": type(exc).__name__})
                count("hl7.tls_refused")
            return False
        with lock:
            self.sock = secured
            self.frame_started = None
            closing = self.closing
        if closing:
            shutdown(secured, socket.SHUT_RDWR)
        return not closing


def shutdown(sock: socket.socket | None, how: int) -> None:
    """Wake the thread reading ``sock`` (on the raw socket, so a TLS one is not disturbed)."""
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, how)
