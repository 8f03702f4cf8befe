"""One inbound message to one outcome: a contact to commit, a skip, or a refusal with its reason.

Shared by the MLLP listener, ``thinkfamily assess`` and replay so that all three read a message
the same way. It never raises for bad input: every input gets an outcome and so an answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.hl7.ack import AckError
from adapters.hl7.digest import message_digest
from adapters.hl7.er7 import Separators
from adapters.hl7.errors import (
    APPLICATION_INTERNAL_ERROR,
    SEGMENT_SEQUENCE_ERROR,
    Hl7Invalid,
    Hl7Rejected,
)
from adapters.hl7.header import Header
from adapters.hl7.mapping import decode, decode_text, parse_message, read_contact
from adapters.hl7.receipt import check_received, header_of
from adapters.hl7.settings import Hl7Settings
from plugin_core.contract import ContactSkipped, ReceivedMessage
from plugin_core.model import FirstContact
from plugin_core.settings.code_lists import CodeLists

log = logging.getLogger(__name__)

UNKNOWN_HEADER = Header(seps=Separators())


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message. ``ack_code`` is AA unless ``error`` says otherwise."""

    header: Header
    contact: FirstContact | None = None
    skipped: str | None = None
    error: AckError | None = None
    ack_code: str = "AA"
    encoding: str = "utf-8"
    message: ReceivedMessage | None = None
    """The message a contact came in, stored with it to tell a resend from a reused key."""
    to_journal: bool = False
    """Its header and PID passed the checks on receipt: journal it, read it later."""
    journal_id: int | None = None
    """The journal row holding it, once journaled: its application ACK follows processing."""

    def journaled(self, journal_id: int) -> Outcome:
        """This outcome with the journal row holding its message: ``replace(self,
        journal_id=...)``, which costs several times more on every message received."""
        return Outcome(
            self.header,
            self.contact,
            self.skipped,
            self.error,
            self.ack_code,
            self.encoding,
            self.message,
            self.to_journal,
            journal_id,
        )


def refusal(header: Header, exc: Hl7Invalid, encoding: str = "utf-8") -> Outcome:
    error = AckError(exc.code, exc.reason, exc.segment, exc.field)
    return Outcome(header, error=error, ack_code=exc.ack_code, encoding=encoding)


class Reader:
    """Reads ADT messages for one trust's settings and code lists."""

    def __init__(
        self, settings: Hl7Settings, code_lists: CodeLists, *, source: str = "hl7"
    ) -> None:
        self.settings = settings
        self.code_lists = code_lists
        self.source = source

    def contact(self, data: bytes) -> FirstContact:
        """The contact in one message; raises ContactSkipped or Hl7Invalid (ContactInvalid)."""
        if len(data) > self.settings.max_message_bytes:
            raise Hl7Rejected(
                f"message exceeds the maximum of {self.settings.max_message_bytes} bytes",
                code=SEGMENT_SEQUENCE_ERROR,
            )
        message, header = parse_message(decode(data))
        return read_contact(message, header, self.settings, self.code_lists, source=self.source)

    def read(self, data: bytes) -> Outcome:
        if len(data) > self.settings.max_message_bytes:
            return self.framing_fault(self._too_big, data[:4096])
        return self.read_text(*decode_text(data))

    @property
    def _too_big(self) -> str:
        return f"MLLP: message exceeds the maximum of {self.settings.max_message_bytes} bytes"

    def receive(self, data: bytes) -> Outcome:
        """The checks made before journaling, in microseconds: the header (MSH, encoding
        characters, type, version, control id), the event, and that a PID is there."""
        if len(data) > self.settings.max_message_bytes:
            return self.framing_fault(self._too_big, data[:4096])
        text, encoding = decode_text(data)
        header = UNKNOWN_HEADER
        try:
            header = header_of(text)
            check_received(header, text)
        except ContactSkipped as exc:
            return Outcome(header, skipped=exc.reason, encoding=encoding)
        except Hl7Invalid as exc:
            return refusal(header, exc, encoding)
        except Exception as exc:  # a fault of ours must still be answered
            log.error("hl7: checking a message failed", extra={"error": type(exc).__name__})
            error = AckError(APPLICATION_INTERNAL_ERROR, "the message could not be read")
            return Outcome(header, error=error, ack_code="AE", encoding=encoding)
        received = ReceivedMessage(message_digest(text), text)
        return Outcome(header, encoding=encoding, message=received, to_journal=True)

    def read_text(self, text: str, encoding: str) -> Outcome:
        """The full read of a message's text (on receipt, or from the journal)."""
        header = UNKNOWN_HEADER
        try:
            message, header = parse_message(text)
            contact = read_contact(
                message, header, self.settings, self.code_lists, source=self.source
            )
        except ContactSkipped as exc:
            return Outcome(header, skipped=exc.reason, encoding=encoding)
        except Hl7Invalid as exc:
            return refusal(header, exc, encoding)
        except Exception as exc:  # a fault of ours must still be answered, and never quote data
            log.error("hl7: reading a message failed", extra={"error": type(exc).__name__})
            error = AckError(APPLICATION_INTERNAL_ERROR, "the message could not be read")
            return Outcome(header, error=error, ack_code="AE", encoding=encoding)
        received = ReceivedMessage(message_digest(text), text)
        return Outcome(header, contact=contact, encoding=encoding, message=received)

    def framing_fault(self, reason: str, head: bytes) -> Outcome:
        """An AR for a frame that cannot be used, in the sender's separators when they show."""
        header = UNKNOWN_HEADER
        try:
            _, header = parse_message(decode(head).split("\r", 1)[0])
        except Hl7Invalid:
            pass
        except Exception as exc:
            log.error(
                "hl7: reading a refused frame's header failed",
                extra={"error": type(exc).__name__},
            )
        error = AckError(SEGMENT_SEQUENCE_ERROR, reason)
        return Outcome(header, error=error, ack_code="AR")
