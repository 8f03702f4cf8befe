"""A real SMTP receiver (aiosmtpd) on loopback that records what it is sent.

``fail_until`` makes it answer 451 (try again later) until that monotonic time, to play a
children's services mailbox that is down for a while. ``delay`` slows each message. With a
TLS context it offers STARTTLS (or speaks TLS from the first byte, ``implicit``), and it
records every login attempt and whether each message came over TLS.
"""

from __future__ import annotations

import email
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.peers.ports import free_port


@dataclass
class Mailbox:
    fail_until: float = 0.0
    delay: float = 0.0
    messages: list[Message] = field(default_factory=list)
    refused: int = 0
    over_tls: list[bool] = field(default_factory=list)
    """For each message kept, whether the session was encrypted."""
    logins: list[tuple[str, bool]] = field(default_factory=list)
    """Each login attempt's user name, and whether the session was encrypted."""
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
            self.over_tls.append(_encrypted(server))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        user = getattr(auth_data, "login", b"") or b""
        with self.lock:
            self.logins.append((user.decode(errors="replace"), _encrypted(server)))
        return AuthResult(success=True)

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["X-ThinkFamily-Idempotency-Key"]) for m in self.messages)


def _encrypted(server: Any) -> bool:
    """Whether the session runs over TLS, by STARTTLS or from the first byte."""
    transport = getattr(server, "transport", None)
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class SmtpReceiver:
    """:param tls: the server's TLS context; STARTTLS is offered (and required) with it.
    :param implicit: speak TLS from the first byte instead (SMTPS).
    :param auth_in_clear: offer AUTH before TLS too, as a careless relay would."""

    def __init__(
        self,
        mailbox: Mailbox | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        implicit: bool = False,
        auth_in_clear: bool = False,
    ) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        options: dict[str, Any] = {}
        if tls is not None and implicit:
            options["ssl_context"] = tls
        elif tls is not None:
            options.update(tls_context=tls, require_starttls=True)
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            ready_timeout=10,
            authenticator=self.mailbox.authenticate,
            # With implicit TLS every command is already encrypted; aiosmtpd only counts STARTTLS.
            auth_require_tls=not (auth_in_clear or implicit),
            **options,
        )

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
