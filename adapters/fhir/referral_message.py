"""Referral message Bundles shaped like the NHS Booking and Referral Standard (BaRS).

A message Bundle: MessageHeader (event ``servicerequest-request``, reason ``new`` or
``update``) first, then the ServiceRequest it focuses on and what the receiver needs to act:
the Patient, a RelatedPerson for each child, the Consent for the lawful basis, the safeguarding
Flag, the Encounter, the Practitioner who decided and the sending and receiving Organizations.
The referral's idempotency key is the Bundle identifier, so receivers de-duplicate re-sends.
Every resource is an R4B model, validated as it is built (see ``adapters.fhir.outbound``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.messageheader import (
    MessageHeader,
    MessageHeaderDestination,
    MessageHeaderSource,
)
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.fhir import codes
from adapters.fhir.mapping import split_contact_id
from adapters.fhir.outbound import builds, coding, concept, ref, text_concept, urn, wire
from adapters.fhir.referral_parties import (
    consent,
    encounter,
    patient,
    practitioner,
    receiver,
    related_person,
    sender,
)
from adapters.fhir.writeback import safeguarding_flag
from plugin_core.model import (
    Assessment,
    Child,
    Decision,
    Destination,
    FirstContact,
    Referral,
)


@dataclass(frozen=True, slots=True)
class Links:
    """The fullUrls that tie one message's entries together; the same for every re-send."""

    header: str
    service_request: str
    patient: str
    consent: str
    flag: str
    encounter: str | None
    practitioner: str
    sender: str
    receiver: str

    @classmethod
    def for_message(cls, key: str, with_encounter: bool) -> Links:
        return cls(
            header=urn(key, "header"),
            service_request=urn(key, "service-request"),
            patient=urn(key, "patient"),
            consent=urn(key, "consent"),
            flag=urn(key, "flag"),
            encounter=urn(key, "encounter") if with_encounter else None,
            practitioner=urn(key, "practitioner"),
            sender=urn(key, "sender"),
            receiver=urn(key, "receiver"),
        )


def message_identifier(referral: Referral, reason: str) -> str:
    """The Bundle identifier: the idempotency key of this message (new, update or cancel).

    A stand-alone update or cancel built for a new referral gets a suffix, so it never reuses
    the original message's identifier.
    """
    if referral.amends or reason == "new":
        return referral.idempotency_key
    return f"{referral.idempotency_key}-{reason}"


def referred_children(referral: Referral, assessment: Assessment | None) -> list[Child]:
    """The children the referral names, or every child when it names none."""
    wanted = set(referral.child_refs)
    found = assessment.children if assessment else ()
    return [c for c in found if not wanted or c.ref in wanted]


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


def _priority(referral: Referral, decision: Decision) -> str:
    if decision.immediate_danger:
        return "stat"
    return "urgent" if referral.urgent else "routine"


def _notes(referral: Referral, decision: Decision, unborn: bool) -> list[Annotation]:
    notes = [Annotation(text=referral.reasons or decision.reasons)]
    if unborn:
        notes.append(Annotation(text="The referral includes an unborn child."))
    if decision.what_shared:
        notes.append(Annotation(text=f"What is shared: {decision.what_shared}"))
    return notes


@builds("ServiceRequest")
def service_request(
    referral: Referral,
    destination: Destination,
    decision: Decision,
    links: Links,
    *,
    cancelled: bool,
    unborn: bool,
    child_urls: list[str],
) -> ServiceRequest:
    """The referral itself; it keeps the original referral's identifier through amendments."""
    route = referral.route.value
    level = referral.level_of_need
    return ServiceRequest(
        identifier=[Identifier(system=codes.TF_REFERRAL_ID, value=referral.original_key)],
        status="revoked" if cancelled else "active",
        intent="order",
        category=[concept(codes.TF_SYSTEM, f"route-{route}", destination.label or route)],
        priority=_priority(referral, decision),
        code=concept(
            codes.TF_SYSTEM, "safeguarding-referral", "Referral to children's social care"
        ),
        orderDetail=[text_concept(f"Level of need {level}")] if level is not None else None,
        subject=ref(links.patient),
        encounter=ref(links.encounter) if links.encounter else None,
        authoredOn=referral.created_at,
        requester=ref(links.practitioner),
        performer=[ref(links.receiver)],
        supportingInfo=[ref(links.consent), ref(links.flag), *(ref(u) for u in child_urls)],
        note=_notes(referral, decision, unborn),
    )


def _patient_id(contact: FirstContact) -> str:
    """The EHR's Patient id for a contact read from FHIR, else the contact's own patient id."""
    ids = split_contact_id(contact.id)
    return ids[0] if ids else contact.patient.id


def _related_people(
    key: str, contact: FirstContact, children: list[Child], patient_url: str
) -> list[tuple[str, RelatedPerson]]:
    """A RelatedPerson for each born child, with what the household record adds."""
    members = {m.id: m for m in contact.household or () if m.id}
    return [
        (urn(key, "child", c.ref), related_person(c, members.get(c.ref), patient_url))
        for c in children
        if not c.unborn
    ]


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
) -> Bundle:
    """The message Bundle for one referral; ``reason`` (default: the referral's action) is new,
    update or cancel. The ServiceRequest keeps the original referral's identifier."""
    reason = reason or referral.action.value
    key = message_identifier(referral, reason)
    links = Links.for_message(key, contact.encounter is not None)
    children = referred_children(referral, assessment)
    related = _related_people(key, contact, children, links.patient)
    header = message_header(
        key, reason, destination, links, sender_name=sender_name, source_endpoint=source_endpoint
    )
    request = service_request(
        referral,
        destination,
        decision,
        links,
        cancelled=reason == "cancel",
        unborn=any(c.unborn for c in children),
        child_urls=[url for url, _ in related],
    )
    entries: list[tuple[str, Resource]] = [
        (links.header, header),
        (links.service_request, request),
        (links.patient, patient(contact.patient, _patient_id(contact))),
        *related,
        (links.consent, consent(decision, referral, links.patient, links.practitioner)),
        (links.flag, safeguarding_flag(decision, links.patient, links.encounter)),
        *_encounter_entries(contact, links),
        (links.practitioner, practitioner(decision)),
        (links.sender, sender(sender_id, sender_name)),
        (links.receiver, receiver(destination)),
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
        )
    )
