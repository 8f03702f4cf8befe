"""The HL7 adapter's exception root, carrying what an ACK needs to explain a refusal.

Messages name the segment and field and say what is wrong, never the value found there.
"""

from __future__ import annotations

from plugin_core.contract import ContactInvalid, ContactRejected, ThinkFamilyError

# HL7 table 0357 (message error condition codes) used by this adapter.
REQUIRED_FIELD_MISSING = 101
DATA_TYPE_ERROR = 102
SEGMENT_SEQUENCE_ERROR = 100
UNSUPPORTED_MESSAGE_TYPE = 200
UNSUPPORTED_EVENT_CODE = 201
UNSUPPORTED_VERSION_ID = 203
DUPLICATE_KEY_IDENTIFIER = 205
APPLICATION_INTERNAL_ERROR = 207


class Hl7Error(ThinkFamilyError):
    """Root of the HL7 adapter's own failures (framing, reading, building, sending)."""


class Hl7Invalid(Hl7Error, ContactInvalid):
    """The message is HL7 but cannot be read as a contact; answered with AE."""

    ack_code = "AE"

    def __init__(
        self, reason: str, *, code: int = DATA_TYPE_ERROR, segment: str = "", field: int = 0
    ) -> None:
        self.reason = reason
        self.code = code
        self.segment = segment
        self.field = field
        super().__init__(reason)


class Hl7Rejected(Hl7Invalid, ContactRejected):
    """The message is readable but not accepted (version, type, size, framing); answered with AR."""

    ack_code = "AR"
