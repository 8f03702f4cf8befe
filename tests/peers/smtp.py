"""A real SMTP receiver (aiosmtpd) on loopback that records what it is sent.

``fail_until`` makes it answer 451 (try again later) until that monotonic time, to play a
children's services mailbox that is down for a while. ``delay`` slows each message.
"""

from __future__ import annotations

import email
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.peers.ports import free_port


@dataclass
class Mailbox:
    fail_until: float = 0.0
    delay: float = 0.0
    messages: list[Message] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if time.monotonic() < self.fail_until:
            with self.lock:
                self.refused += 1
            return "451 4.3.0 Mailbox temporarily unavailable"
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["X-ThinkFamily-Idempotency-Key"]) for m in self.messages)


class SmtpReceiver:
    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, ready_timeout=10
        )

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
