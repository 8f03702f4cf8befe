"""Sending one message over MLLP and waiting for its application acknowledgement.

Blocking on purpose: the outbox worker calls transports from its own thread, one referral at a
time, with bounded waits for the connection and for the ACK.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

from adapters.hl7.er7 import Er7Error, Er7Message
from adapters.hl7.errors import Hl7Error
from adapters.hl7.framing import Frame, FrameDecoder, frame

APPLICATION_ACKS = frozenset({"AA", "AE", "AR"})


class MllpSendError(Hl7Error, OSError):
    """The message could not be delivered or no acknowledgement came back in time."""


@dataclass(frozen=True, slots=True)
class AckReply:
    code: str
    acked_control_id: str
    control_id: str
    text: str


def read_ack(data: bytes) -> AckReply:
    """MSA-1, MSA-2, MSH-10 and the error text of an ACK; Er7Error when it is not one."""
    message = Er7Message.parse(data.decode("utf-8", "replace"))
    msa = message.first("MSA")
    if msa is None:
        raise Er7Error("MSA: segment is required in an acknowledgement")
    err = message.first("ERR")
    text = msa.value(3)
    if err is not None:
        text = err.value(8) or err.value(3, 1, 2) or err.value(1, 1, 4, 2) or text
    return AckReply(
        code=msa.value(1).strip().upper(),
        acked_control_id=msa.value(2).strip(),
        control_id=message.msh.value(10).strip(),
        text=text,
    )


def send_and_wait(
    host: str,
    port: int,
    message: bytes,
    control_id: str,
    *,
    connect_timeout: float,
    ack_timeout: float,
    tls: ssl.SSLContext | None = None,
) -> AckReply:
    """Send one framed message and return the application ACK that answers ``control_id``.

    Commit ACKs (CA/CE/CR) and ACKs for other messages are read past.
    """
    decoder = FrameDecoder(1_048_576)
    raw = socket.create_connection((host, port), timeout=connect_timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock = tls.wrap_socket(raw, server_hostname=host) if tls is not None else raw
    except (ssl.SSLError, OSError):
        raw.close()
        raise
    with sock:
        sock.sendall(frame(message))
        deadline = time.monotonic() + ack_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise MllpSendError("no application acknowledgement before the time limit")
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                raise MllpSendError(
                    "no application acknowledgement before the time limit"
                ) from None
            if not chunk:
                raise MllpSendError("the receiver closed the connection before acknowledging")
            for event in decoder.feed(chunk):
                if not isinstance(event, Frame):
                    continue
                try:
                    reply = read_ack(event.data)
                except Er7Error:
                    continue
                if reply.code in APPLICATION_ACKS and reply.acked_control_id == control_id:
                    return reply
