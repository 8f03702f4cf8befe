"""The message header (MSH) as the listener and the ACK builder need it.

It is read before anything else, so that even a message refused for its content is answered
in the sender's own separators and acknowledgement mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.hl7.er7 import Er7Message, Separators, separators_of

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
    return header_of_fields(message.msh.fields, message.seps)


def read_msh(first: str) -> Header:
    """The header of a message whose first segment is ``first`` (no segment ending in it), as
    ``read_header(Er7Message.parse(first))`` reads it, without building the message: the
    listener reads only this on receipt. Raises Er7Error as the parse would."""
    seps = separators_of(first)
    fields = first.split(seps.field)
    if first[:3] == "MSH":
        fields.insert(1, seps.field)
    return header_of_fields(fields, seps)


def header_of_fields(fields: list[str], seps: Separators) -> Header:
    """The header from the first segment's fields (index n is field n, as the reader keeps
    them)."""
    fields = fields[:17] + [""] * (17 - len(fields))
    unescape = seps.unescape
    r, c, s = seps.repetition, seps.component, seps.subcomponent
    kind = _first(fields[9], 0, r, c, s)
    trigger = _first(fields[9], 1, r, c, s)
    control_id, version = _first(fields[10], 0, r, c, s), _first(fields[12], 0, r, c, s)
    accept, application = _first(fields[15], 0, r, c, s), _first(fields[16], 0, r, c, s)
    return Header(
        seps,
        fields[3],
        fields[4],
        fields[5],
        fields[6],
        unescape(kind).strip().upper() if kind else "",
        unescape(trigger).strip().upper() if trigger else "",
        unescape(control_id).strip() if control_id else "",
        _first(fields[11], 0, r, c, s),
        unescape(version).strip() if version else "",
        unescape(accept).strip().upper() if accept else "",
        unescape(application).strip().upper() if application else "",
    )


def _first(raw: str, index: int, repetition: str, component: str, subcomponent: str) -> str:
    """``msh.raw(number, 1, index + 1)`` for a field after MSH-2, without splitting the whole
    field (a test proves the two equal on the corpus)."""
    if not raw:
        return ""
    if repetition in raw:
        raw = raw.split(repetition, 1)[0]
    if index or component in raw:
        parts = raw.split(component, index + 1)
        raw = parts[index] if index < len(parts) else ""
    if subcomponent in raw:
        return raw.split(subcomponent, 1)[0]
    return raw
