"""The message header (MSH) as the listener and the ACK builder need it.

It is read before anything else, so that even a message refused for its content is answered
in the sender's own separators and acknowledgement mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.hl7.er7 import Er7Message, Separators

SUPPORTED_VERSIONS = frozenset(
    {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"}
)


@dataclass(frozen=True, slots=True)
class Header:
    """MSH fields as written (raw ER7), so they can be echoed into the ACK unchanged."""

    seps: Separators
    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    trigger: str = ""
    control_id: str = ""
    processing_id: str = ""
    version: str = ""
    accept_ack: str = ""
    application_ack: str = ""

    @property
    def message_key(self) -> str:
        """The sender's unique key for the message: sending facility and MSH-10."""
        return f"{self.sending_facility}|{self.control_id}"

    @property
    def enhanced(self) -> bool:
        """Enhanced acknowledgement mode is asked for when MSH-15 or MSH-16 is valued."""
        return bool(self.accept_ack or self.application_ack)

    def __repr__(self) -> str:
        return f"Header({self.message_type}^{self.trigger}, control_id={self.control_id!r})"


def read_header(message: Er7Message) -> Header:
    msh = message.msh
    seps = message.seps
    fields = msh.fields
    count = len(fields)
    unescape = seps.unescape

    def first(number: int, component: int = 1) -> str:
        """``msh.raw(number, 1, component)`` for a field after MSH-2, without splitting the
        whole field (a test proves the two equal on the corpus)."""
        raw = fields[number] if number < count else ""
        if not raw:
            return ""
        parts = raw.split(seps.repetition, 1)[0].split(seps.component, component)
        text = parts[component - 1] if component <= len(parts) else ""
        if seps.subcomponent in text:
            return text.split(seps.subcomponent, 1)[0]
        return text

    return Header(
        seps=seps,
        sending_application=msh.field(3),
        sending_facility=msh.field(4),
        receiving_application=msh.field(5),
        receiving_facility=msh.field(6),
        message_type=unescape(first(9, 1)).strip().upper(),
        trigger=unescape(first(9, 2)).strip().upper(),
        control_id=unescape(first(10)).strip(),
        processing_id=first(11),
        version=unescape(first(12)).strip(),
        accept_ack=unescape(first(15)).strip().upper(),
        application_ack=unescape(first(16)).strip().upper(),
    )
