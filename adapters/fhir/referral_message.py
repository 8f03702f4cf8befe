"""Referral message Bundles shaped like the NHS Booking and Referral Standard (BaRS).

A message Bundle: MessageHeader (event ``servicerequest-request``, reason ``new`` or
``update``) first, then the ServiceRequest it focuses on and what the receiver needs to act:
the Patient, a RelatedPerson for each child concerned, the Consent for the lawful basis, the
safeguarding Flag, the Encounter, the Practitioner who referred (with their role and team when
given) and the sending and receiving Organizations. The facts come from the referral dataset
(``plugin_core.formats.referral_content``), the same that the HL7 message and the email carry.
The referral's idempotency key is the Bundle identifier, so receivers de-duplicate re-sends.
Every resource is an R4B model, validated as it is built (see ``adapters.fhir.outbound``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.messageheader import (
    MessageHeader,
    MessageHeaderDestination,
    MessageHeaderSource,
)
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource

from adapters.fhir import codes
from adapters.fhir.mapping import split_contact_id
from adapters.fhir.outbound import builds, coding, concept, ref, urn, wire
from adapters.fhir.referral_links import Links
from adapters.fhir.referral_parties import (
    consent,
    encounter,
    patient,
    practitioner,
    practitioner_role,
    receiver,
    related_person,
    sender,
    team,
)
from adapters.fhir.referral_request import service_request
from adapters.fhir.writeback import safeguarding_flag
from plugin_core.formats.referral_content import ReferralContent, referral_content
from plugin_core.model import (
    Assessment,
    Decision,
    Destination,
    FirstContact,
    Professional,
    Referral,
)
from plugin_core.rules.escalate import SafeguardingLead

__all__ = [
    "Links",
    "message_header",
    "message_identifier",
    "referral_message",
    "referral_message_bundle",
    "service_request",
]


def message_identifier(referral: Referral, reason: str) -> str:
    """The Bundle identifier: the idempotency key of this message (new, update or cancel).

    A stand-alone update or cancel built for a new referral gets a suffix, so it never reuses
    the original message's identifier.
    """
    if referral.amends or reason == "new":
        return referral.idempotency_key
    return f"{referral.idempotency_key}-{reason}"


@builds("MessageHeader")
def message_header(
    key: str,
    reason: str,
    destination: Destination,
    links: Links,
    *,
    sender_name: str,
    source_endpoint: str,
) -> MessageHeader:
    """The BaRS event and reason; a cancellation travels as an update."""
    return MessageHeader(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, key + "|header")),
        eventCoding=coding(codes.BARS_EVENT, "servicerequest-request", "Service Request - Request"),
        destination=[
            MessageHeaderDestination(endpoint=destination.address, receiver=ref(links.receiver))
        ],
        sender=ref(links.sender),
        source=MessageHeaderSource(name=sender_name or None, endpoint=source_endpoint),
        reason=concept(codes.BARS_REASON, "new" if reason == "new" else "update"),
        focus=[ref(links.service_request)],
    )


def _patient_id(contact: FirstContact) -> str:
    """The EHR's Patient id for a contact read from FHIR, else the contact's own patient id."""
    ids = split_contact_id(contact.id)
    return ids[0] if ids else contact.patient.id


def _related_people(
    key: str, content: ReferralContent, patient_url: str
) -> list[tuple[str, RelatedPerson]]:
    """A RelatedPerson for each born child concerned; an unborn child is named in a note."""
    return [
        (urn(key, "child", c.ref), related_person(c, patient_url))
        for c in content.children
        if not c.unborn
    ]


def _referrer_entries(who: Professional, links: Links) -> list[tuple[str, Resource]]:
    """The referrer's role and team, when given, beside the Practitioner."""
    if not (who.role or who.team):
        return []
    organisation = links.team if who.team else links.sender
    entries: list[tuple[str, Resource]] = [
        (links.role, practitioner_role(who, links.practitioner, organisation))
    ]
    if who.team:
        entries.append((links.team, team(who.team, links.sender)))
    return entries


def _encounter_entries(contact: FirstContact, links: Links) -> list[tuple[str, Resource]]:
    if links.encounter is None or contact.encounter is None:
        return []
    return [(links.encounter, encounter(contact.encounter, links.patient))]


@builds("Bundle")
def referral_message_bundle(
    referral: Referral,
    destination: Destination,
    contact: FirstContact,
    decision: Decision,
    assessment: Assessment | None,
    *,
    sender_id: str,
    sender_name: str,
    source_endpoint: str,
    now: datetime,
    reason: str | None = None,
    safeguarding: SafeguardingLead | None = None,
) -> Bundle:
    """The message Bundle for one referral; ``reason`` (default: the referral's action) is new,
    update or cancel. The ServiceRequest keeps the original referral's identifier."""
    reason = reason or referral.action.value
    key = message_identifier(referral, reason)
    links = Links.for_message(key, contact.encounter is not None)
    content = referral_content(
        referral,
        contact=contact,
        assessment=assessment,
        decision=decision,
        destination=destination,
        trust_name=sender_name,
        safeguarding=safeguarding,
    )
    related = _related_people(key, content, links.patient)
    header = message_header(
        key, reason, destination, links, sender_name=sender_name, source_endpoint=source_endpoint
    )
    request = service_request(
        content,
        destination,
        links,
        cancelled=reason == "cancel",
        child_urls=[url for url, _ in related],
    )
    referrer = decision.decided_by
    role_and_team = _referrer_entries(referrer, links)
    entries: list[tuple[str, Resource]] = [
        (links.header, header),
        (links.service_request, request),
        (links.patient, patient(contact.patient, _patient_id(contact))),
        *related,
        (links.consent, consent(decision, referral, links.patient, links.practitioner)),
        (links.flag, safeguarding_flag(decision, links.patient, links.encounter)),
        *_encounter_entries(contact, links),
        (links.practitioner, practitioner(referrer)),
        *role_and_team[:1],
        (links.sender, sender(sender_id, sender_name, safeguarding)),
        (links.receiver, receiver(destination)),
        *role_and_team[1:],  # the team last, after the trust it is part of
    ]
    return Bundle(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        identifier=Identifier(system=codes.TF_REFERRAL_ID, value=key),
        type="message",
        timestamp=now,
        entry=[BundleEntry(fullUrl=url, resource=resource) for url, resource in entries],
    )


def referral_message(
    referral: Referral,
    destination: Destination,
    contact: FirstContact,
    decision: Decision,
    assessment: Assessment | None,
    *,
    sender_id: str,
    sender_name: str,
    source_endpoint: str,
    now: datetime,
    reason: str | None = None,
    safeguarding: SafeguardingLead | None = None,
) -> dict[str, Any]:
    """The message Bundle as sent: :func:`referral_message_bundle` serialised."""
    return wire(
        referral_message_bundle(
            referral,
            destination,
            contact,
            decision,
            assessment,
            sender_id=sender_id,
            sender_name=sender_name,
            source_endpoint=source_endpoint,
            now=now,
            reason=reason,
            safeguarding=safeguarding,
        )
    )
