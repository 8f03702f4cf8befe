"""The referral message's ServiceRequest: the referral itself, in BaRS shape.

It keeps the original referral's identifier through amendments, so a receiver joins an update
or a cancellation to the referral it changes.
"""

from __future__ import annotations

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.fhir import codes
from adapters.fhir.outbound import builds, concept, ref, text_concept
from adapters.fhir.referral_links import Links
from plugin_core.formats.referral_content import ReferralContent
from plugin_core.model import Destination


def _priority(content: ReferralContent) -> str:
    if content.immediate_danger:
        return "stat"
    return "urgent" if content.urgent else "routine"


def _notes(content: ReferralContent) -> list[Annotation]:
    """The concern first; then what changed, an unborn child, and what is shared and why."""
    texts = [content.concern or content.change_reasons]
    if content.concern and content.change_reasons:
        texts.append(f"What has changed: {content.change_reasons}")
    if any(c.unborn for c in content.children):
        texts.append("The referral includes an unborn child.")
    if content.what_shared:
        texts.append(f"What is shared: {content.what_shared}")
    if content.consent_not_sought_reason:
        texts.append(f"Why consent was not sought: {content.consent_not_sought_reason}")
    return [Annotation(text=t) for t in texts if t]


def _level(content: ReferralContent) -> list[CodeableConcept] | None:
    level = content.level_of_need
    if level is None:
        return None
    return [concept(codes.TF_SYSTEM, f"level-{level}", content.level_text, text=content.level_text)]


def _reasons(content: ReferralContent) -> list[CodeableConcept] | None:
    """The risk indicators a referral may carry: coded where the record gave a code."""
    found = [
        concept(i.system, i.code, i.text, text=i.words)
        if i.system and i.code
        else text_concept(i.words)
        for i in content.indicators
    ]
    return found or None


@builds("ServiceRequest")
def service_request(
    content: ReferralContent,
    destination: Destination,
    links: Links,
    *,
    cancelled: bool,
    child_urls: list[str],
) -> ServiceRequest:
    """The referral itself; it keeps the original referral's identifier through amendments."""
    route = content.route.value
    return ServiceRequest(
        identifier=[Identifier(system=codes.TF_REFERRAL_ID, value=content.original_reference)],
        status="revoked" if cancelled else "active",
        intent="order",
        category=[concept(codes.TF_SYSTEM, f"route-{route}", destination.label or route)],
        priority=_priority(content),
        code=concept(
            codes.TF_SYSTEM, "safeguarding-referral", "Referral to children's social care"
        ),
        orderDetail=_level(content),
        subject=ref(links.patient),
        encounter=ref(links.encounter) if links.encounter else None,
        authoredOn=content.made_at,
        requester=ref(links.practitioner),
        performer=[ref(links.receiver)],
        reasonCode=_reasons(content),
        supportingInfo=[ref(links.consent), ref(links.flag), *(ref(u) for u in child_urls)],
        note=_notes(content),
    )
