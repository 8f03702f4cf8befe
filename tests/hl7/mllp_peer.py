"""Small MLLP helpers for tests: a raw socket sender that reads every ACK frame, and a receiver."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable

from adapters.hl7.client import AckReply, read_ack
from adapters.hl7.framing import Frame, FrameDecoder, frame


class RawPeer:
    """A plain socket peer that sends bytes as given and collects the ACK frames that come back."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.decoder = FrameDecoder(10_000_000)
        self.timeout = timeout
        self.received: list[AckReply] = []

    @classmethod
    def over(cls, sock: socket.socket, timeout: float = 10.0) -> RawPeer:
        """A peer on a socket already connected (from a chosen source address, say)."""
        peer = cls.__new__(cls)
        peer.sock, peer.timeout, peer.received = sock, timeout, []
        peer.decoder = FrameDecoder(10_000_000)
        return peer

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_message(self, message: bytes) -> None:
        self.sock.sendall(frame(message))

    def acks(self, count: int) -> list[AckReply]:
        """Wait (bounded) until ``count`` more ACKs have arrived; return them."""
        start = len(self.received)
        deadline = time.monotonic() + self.timeout
        while len(self.received) - start < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"got {len(self.received) - start} of {count} ACKs")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the listener closed the connection")
            for event in self.decoder.feed(chunk):
                assert isinstance(event, Frame)
                self.received.append(read_ack(event.data))
        return self.received[start : start + count]

    def close(self) -> None:
        self.sock.close()


class MllpReceiver:
    """A minimal MLLP receiver (an authority's engine): records messages, answers with ``answer``."""

    def __init__(
        self, answer: Callable[[bytes], bytes | None], tls: ssl.SSLContext | None = None
    ) -> None:
        self.answer = answer
        self.tls = tls
        self.messages: list[bytes] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = int(self.server.getsockname()[1])
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MllpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=10)
        self.server.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            if self.tls is not None:
                try:
                    conn.settimeout(5)
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.close()
                    continue
            with conn:
                conn.settimeout(5)
                decoder = FrameDecoder(10_000_000)
                while not self._stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except (TimeoutError, OSError):
                        break
                    if not chunk:
                        break
                    for event in decoder.feed(chunk):
                        if isinstance(event, Frame):
                            self.messages.append(event.data)
                            reply = self.answer(event.data)
                            if reply is not None:
                                conn.sendall(frame(reply))
