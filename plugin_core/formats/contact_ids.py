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


def path_problem(contact_id: str) -> str | None:
    """Why a host's id is not safe as one segment of an address (``/api/contacts/{id}``), or
    None.

    The routes take any id the service issues (an HL7 id may hold ``/``, sent as ``%2F``), but a
    proxy between a host and the service may decode ``%2F``, squeeze ``//`` or turn ``\\`` into
    ``/``; ``.`` and ``..`` are resolved away by clients; a control or invisible character
    cannot be read back by a person. A host choosing its own ids is asked to avoid them.
    """
    if contact_id in (".", ".."):
        return 'must not be "." or ".."'
    if "/" in contact_id or "\\" in contact_id:
        return "must not contain / or \\, which proxies may rewrite in an address"
    if not contact_id.isprintable():
        return "must not contain control or invisible characters"
    return None
