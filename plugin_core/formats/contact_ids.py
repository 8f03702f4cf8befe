"""Contact id namespaces: each source names its contacts under its own prefix.

An HL7 contact is ``hl7:`` + sending facility + ``|`` + MSH-10, a FHIR or CDS Hooks contact is
``fhir:`` + patient, encounter and hook instance. A message is recognised again by its id, so a
contact from elsewhere holding such an id would make the real message look already recorded.
Contacts posted to the JSON API keep the ids their host gives, outside these namespaces.
"""

from __future__ import annotations

RESERVED = {"hl7": "HL7 v2 messages", "fhir": "FHIR and CDS Hooks"}


def reserved_namespace(contact_id: str) -> str | None:
    """The reserved namespace ``contact_id`` falls in (``hl7``, ``fhir``), else None."""
    prefix, colon, _ = contact_id.strip().partition(":")
    if not colon:
        return None
    prefix = prefix.strip().lower()
    return prefix if prefix in RESERVED else None
