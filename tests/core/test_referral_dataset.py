"""One referral, every channel: the FHIR message, the HL7 REF^I12, the email and its PDF say the
same facts, parsed back the way a receiver would read them. Only the child chosen as concerned
is named, by name even though the host sent no member ids."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from hl7apy.validation import Validator
from pypdf import PdfReader

from adapters.email.message import build_message
from adapters.fhir import codes
from adapters.fhir.referral_message import referral_message_bundle
from adapters.hl7.referral import ReferralFacts, build_ref_i12
from adapters.hl7.settings import load_settings
from plugin_core.contract import ReferralDetails
from plugin_core.formats import referral_pdf as pdf_module
from plugin_core.formats.call_script import call_script
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.formats.referral_content import referral_content
from plugin_core.formats.referral_document import referral_pdf, referral_text
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Assessment,
    Authority,
    Channel,
    Decision,
    Destination,
    FirstContact,
    Professional,
    Referral,
    ReferralAction,
    Route,
)
from plugin_core.rules.decide import amendment, make_referrals
from plugin_core.rules.indicators import for_referral
from plugin_core.settings.trust_config import TrustConfig, load_trust_config

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)

ADULT = "Tamsin Fieldtest"
ADULT_NHS = "9990003334"
ADULT_POSTCODE = "N7 8JL"
CHILD = "Rowan Fieldtest"
OTHER_CHILD = "Juniper Otherchild"
OTHER_POSTCODE = "N1 9ZZ"
IDENTIFIERS = (ADULT, ADULT_NHS, "1987-04-12", ADULT_POSTCODE, CHILD, "2017-09-30", OTHER_CHILD)

REFERRER = {
    "id": "nurse-17",
    "name": "Jo Referrer",
    "role": "Staff nurse",
    "team": "Ward 7 acute medicine",
    "phone": "020 7946 0017",
    "email": "jo.referrer@trust.example",
}
CONCERN = "Parent admitted with psychosis; the child is at home with no other carer."
WHAT_SHARED = "Admission, diagnosis category and the child's age."
NOT_SOUGHT_WHY = "Asking would delay urgent care for the child."

CONTACT: dict[str, Any] = {
    "id": "c-dataset-1",
    "occurred_at": NOW.isoformat(),
    "patient": {
        "id": "p-dataset",
        "nhs_number": ADULT_NHS,
        "name": ADULT,
        "birth_date": "1987-04-12",
        "postcode": ADULT_POSTCODE,
    },
    "encounter": {"id": "e-dataset", "kind": "inpatient"},
    "household": [  # no member ids, as many PAS feeds send them
        {
            "name": CHILD,
            "birth_date": "2017-09-30",
            "relationship": "child",
            "lives_with_patient": True,
        },
        {
            "name": OTHER_CHILD,
            "birth_date": "2020-01-15",
            "relationship": "stepchild",
            "lives_with_patient": False,
            "postcode": OTHER_POSTCODE,
        },
    ],
    "indicators": [
        {"kind": "other", "system": "http://hl7.org/fhir/sid/icd-10", "code": "F20.9"},
        {"kind": "other", "system": "http://hl7.org/fhir/sid/icd-10", "code": "O04.9"},
    ],
}
DECISION: dict[str, Any] = {
    "id": "d-dataset-1",
    "decided_by": REFERRER,
    "share": True,
    "level_of_need": 3,
    "reasons": CONCERN,
    "what_shared": WHAT_SHARED,
    "lawful_basis": "public_task",
    "consent": "not_sought",
    "consent_not_sought_reason": NOT_SOUGHT_WHY,
    "child_refs": ["member-1"],
}
ISLINGTON = Authority("islington", "Islington")
LEAD_NAME = "Example Named Nurse"
LEAD_PHONE = "020 7000 0000"
LEAD_EMAIL = "safeguarding@example-trust.nhs.uk"
"""The example trust's safeguarding lead, as its configuration names them."""


@dataclass(frozen=True)
class Scene:
    config: TrustConfig
    contact: FirstContact
    assessment: Assessment
    decision: Decision
    referral: Referral

    def destination(self, channel: Channel, address: str) -> Destination:
        return Destination(ISLINGTON, Route.FRONT_DOOR, channel, address, True, label="Front door")

    @property
    def details(self) -> ReferralDetails:
        return ReferralDetails(self.contact, self.assessment, self.decision)


@pytest.fixture(scope="module")
def scene() -> Scene:
    config = load_trust_config()
    contact = contact_from_dict(CONTACT, config.code_lists)
    assessment = ThinkFamily(config, entry_points=False).assess(contact, now=NOW, present=False)
    decision = decision_from_dict(DECISION, contact_id=contact.id, now=NOW)
    (referral,) = make_referrals(decision, authority_id="islington", rules=config.rules, now=NOW)
    return Scene(config, contact, assessment, decision, referral)


def fhir_message(s: Scene, decision: Decision | None = None) -> tuple[Bundle, str]:
    built = referral_message_bundle(
        s.referral,
        s.destination(Channel.FHIR, "https://la.example.test/fhir"),
        s.contact,
        decision or s.decision,
        s.assessment,
        sender_id="trust-1",
        sender_name="Synthetic Trust",
        source_endpoint="urn:thinkfamily:trust-1",
        now=NOW,
        safeguarding=s.config.safeguarding_lead,
    )
    wire = built.model_dump_json()
    return Bundle.model_validate_json(wire), wire


def hl7_message(
    s: Scene, version: str = "2.7", decision: Decision | None = None
) -> tuple[Any, str]:
    settings = replace(load_settings(s.config), referral_version=version)
    text = build_ref_i12(
        s.referral,
        s.destination(Channel.HL7, "127.0.0.1:2575"),
        settings,
        ReferralFacts(s.contact, s.assessment, decision or s.decision),
        trust_name="Synthetic Trust",
        at=NOW,
        safeguarding=s.config.safeguarding_lead,
    )
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT)
    assert Validator.validate(message)
    return message, text


def email_message(
    s: Scene, referral: Referral | None = None, decision: Decision | None = None
) -> EmailMessage:
    details = ReferralDetails(s.contact, s.assessment, decision) if decision else s.details
    return build_message(
        referral or s.referral,
        s.destination(Channel.EMAIL, "front-door@islington.example"),
        details,
        sender="thinkfamily@trust.example",
        trust_name="Synthetic Trust",
        safeguarding=s.config.safeguarding_lead,
    )


def email_parts(message: EmailMessage) -> tuple[str, str, str]:
    """The body text, the attached document's file name and its text, read back."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_payload(decode=True)
    assert isinstance(pdf, bytes)
    return body.get_content(), str(attachment.get_filename()), pdf_text(pdf)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def by_type(bundle: Bundle) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for entry in bundle.entry:
        found.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    return found


READABLE_FACTS = (
    CHILD,
    "30/09/2017",
    "with the adult",
    ADULT,
    ADULT_NHS,
    "12/04/1987",
    ADULT_POSTCODE,
    CONCERN,
    "Level 3: complex needs",
    "Mental ill health: psychosis (F20.9)",
    WHAT_SHARED,
    "Public task",
    "Not sought",
    NOT_SOUGHT_WHY,
    "Routine",
    "Islington",
    "Children's services front door",
    REFERRER["name"],
    REFERRER["role"],
    REFERRER["team"],
    REFERRER["phone"],
    REFERRER["email"],
    "If the referrer cannot be reached",
    LEAD_NAME,
    LEAD_PHONE,
    LEAD_EMAIL,
)


def test_one_referral_says_the_same_facts_in_fhir_hl7_email_and_its_document(
    scene: Scene,
) -> None:
    reference = scene.referral.idempotency_key

    bundle, _ = fhir_message(scene)
    found = by_type(bundle)
    assert bundle.identifier.value == reference
    (child,) = found["RelatedPerson"]
    assert child.name[0].text == CHILD and child.birthDate == date(2017, 9, 30)
    assert child.address[0].postalCode == ADULT_POSTCODE
    assert [(r.coding[0].system, r.coding[0].code) for r in child.relationship] == [
        (codes.V3_ROLE, "CHILD"),
        (codes.TF_SYSTEM, "lives-with-adult"),
    ]
    (adult,) = found["Patient"]
    assert (adult.name[0].text, adult.identifier[0].value) == (ADULT, ADULT_NHS)
    assert adult.birthDate == date(1987, 4, 12) and adult.address[0].postalCode == ADULT_POSTCODE
    (request,) = found["ServiceRequest"]
    assert request.priority == "routine"
    assert request.orderDetail[0].text == "Level 3: complex needs"
    (reason,) = request.reasonCode
    assert (reason.coding[0].code, reason.text) == ("F20.9", "Mental ill health: psychosis")
    notes = [n.text for n in request.note]
    assert notes[0] == CONCERN
    assert f"What is shared: {WHAT_SHARED}" in notes
    assert f"Why consent was not sought: {NOT_SOUGHT_WHY}" in notes
    (consent,) = found["Consent"]
    assert consent.policyRule.coding[0].code == "public_task"
    assert consent.category[0].coding[0].code == "consent-not_sought"
    (practitioner,) = found["Practitioner"]
    assert practitioner.name[0].text == REFERRER["name"]
    telecom = {(t.system, t.value) for t in practitioner.telecom}
    assert telecom == {("phone", REFERRER["phone"]), ("email", REFERRER["email"])}
    (role,) = found["PractitionerRole"]
    assert role.code[0].text == REFERRER["role"]
    team = next(o for o in found["Organization"] if o.name == REFERRER["team"])
    assert team.type[0].coding[0].code == "team"
    trust = next(o for o in found["Organization"] if o.name == "Synthetic Trust")
    (fallback,) = trust.contact
    assert fallback.purpose.text.startswith("If the referrer cannot be reached")
    assert fallback.name.text == LEAD_NAME
    assert {(t.system, t.value) for t in fallback.telecom} == {
        ("phone", LEAD_PHONE),
        ("email", LEAD_EMAIL),
    }

    message, _ = hl7_message(scene)
    assert message.msh.msh_10.to_er7() == reference
    assert message.rf1.rf1_2.to_er7() == "R^Routine^HL70280"
    assert message.rf1.rf1_10.to_er7() == "LEVEL3^Level 3: complex needs^L"
    (nk1,) = message.nk1
    assert nk1.nk1_2.to_er7() == "Fieldtest^Rowan"
    assert nk1.nk1_16.to_er7() == "20170930" and nk1.nk1_21.to_er7() == "F"
    assert nk1.nk1_4.to_er7() == f"^^^^{ADULT_POSTCODE}"
    pid = message.pid
    assert pid.pid_5.to_er7() == "Fieldtest^Tamsin" and pid.pid_7.to_er7() == "19870412"
    assert f"{ADULT_NHS}^^^NHS^NH" in [f.to_er7() for f in pid.pid_3]
    (dg1,) = message.dg1
    assert dg1.dg1_3.to_er7() == "F20.9^Mental ill health: psychosis^I10"
    notes_by_type = {n.nte_4.to_er7().split("^")[0]: n.nte_3.to_er7() for n in message.nte}
    assert notes_by_type["CONCERN"] == CONCERN
    assert notes_by_type["SHARED"] == WHAT_SHARED
    assert notes_by_type["BASIS"] == "Public task (UK GDPR Article 6)"
    assert notes_by_type["CONSENT"] == "Not sought"
    assert notes_by_type["NOTSOUGHT"] == NOT_SOUGHT_WHY
    ctd = message.ref_i12_provider_contact[0].ctd
    referrer_ctd, team_ctd = ctd
    assert referrer_ctd.ctd_1.to_er7() == "RP^Staff nurse^L"
    assert referrer_ctd.ctd_2.to_er7() == "Referrer^Jo"
    assert referrer_ctd.ctd_4.to_er7().endswith(REFERRER["team"])
    reach = [f.to_er7() for f in referrer_ctd.ctd_5]
    assert reach == [f"^WPN^PH^^^^^^^^^{REFERRER['phone']}", f"^NET^Internet^{REFERRER['email']}"]
    assert team_ctd.ctd_1.to_er7() == "SG^Named nurse for safeguarding children^L"
    assert team_ctd.ctd_2.to_er7() == "Nurse^Example Named"
    team_reach = [f.to_er7() for f in team_ctd.ctd_5]
    assert team_reach == [f"^WPN^PH^^^^^^^^^{LEAD_PHONE}", f"^NET^Internet^{LEAD_EMAIL}"]

    body, filename, document = email_parts(email_message(scene))
    flat_body = " ".join(body.split())
    for fact in (*READABLE_FACTS, reference):
        assert fact in flat_body, fact
        assert fact in document, fact
    assert filename == f"referral-{scene.referral.id}.pdf"


def test_a_child_not_chosen_as_concerned_appears_in_no_channel(scene: Scene) -> None:
    _, fhir_wire = fhir_message(scene)
    _, hl7_text = hl7_message(scene)
    message = email_message(scene)
    body, _, document = email_parts(message)
    for text in (fhir_wire, hl7_text, body, document):
        assert OTHER_CHILD not in text and "Juniper" not in text
        assert OTHER_POSTCODE not in text
        assert not any(born in text for born in ("2020-01-15", "20200115", "15/01/2020"))
        assert "O04" not in text  # an ended pregnancy is never shared
    assert str(message["Subject"]) == f"Safeguarding referral {scene.referral.id}"
    assert not any(value in str(message["Subject"]) for value in IDENTIFIERS)


@pytest.mark.parametrize("version", ["2.5", "2.5.1", "2.6", "2.7", "2.8"])
def test_ref_i12_with_the_referrer_and_children_is_valid_in_every_version(
    scene: Scene, version: str
) -> None:
    message, text = hl7_message(scene, version)
    # hl7apy writes an XTN one place left from 2.6 on; the phone must stay in XTN-12.
    assert f"^WPN^PH^^^^^^^^^{REFERRER['phone']}" in text
    assert message.msh.msh_12.to_er7() == version


def test_a_child_without_a_host_id_keeps_its_name_and_one_of_unknown_age_says_so() -> None:
    config = load_trust_config()
    doc = json.loads(json.dumps(CONTACT))
    doc["household"][1] = {"name": OTHER_CHILD, "relationship": "child"}
    contact = contact_from_dict(doc, config.code_lists)
    assessment = ThinkFamily(config, entry_points=False).assess(contact, now=NOW, present=False)
    decision = decision_from_dict(
        {**DECISION, "child_refs": ["member-2"]}, contact_id=contact.id, now=NOW
    )
    (referral,) = make_referrals(decision, authority_id="islington", rules=config.rules, now=NOW)
    content = referral_content(referral, contact=contact, assessment=assessment, decision=decision)
    (child,) = content.children
    assert (child.name_text, child.born_text, child.lives_text) == (
        OTHER_CHILD,
        "age not known",
        "not known",
    )
    assert "Child 1" not in referral_text(content) and "member-2" not in referral_text(content)


def test_an_assessment_stored_before_children_had_names_takes_them_from_the_household(
    scene: Scene,
) -> None:
    children = tuple(replace(c, name=None) for c in scene.assessment.children)
    older = replace(scene.assessment, children=children)
    content = referral_content(
        scene.referral, contact=scene.contact, assessment=older, decision=scene.decision
    )
    assert [c.name for c in content.children] == [CHILD]


def test_the_document_carries_only_indicators_a_referral_may_carry(scene: Scene) -> None:
    content = referral_content(
        scene.referral,
        contact=scene.contact,
        assessment=scene.assessment,
        decision=scene.decision,
    )
    allowed = for_referral(scene.assessment.indicators)
    assert [i.code for i in content.indicators] == [i.code for i in allowed] == ["F20.9"]
    assert content.indicators[0].text == "psychosis"


def test_a_cancellation_email_carries_no_personal_data_and_no_document(scene: Scene) -> None:
    cancel = amendment(
        scene.referral,
        action=ReferralAction.CANCEL,
        amendment_id="x1",
        reasons="Sent in error.",
        rules=scene.config.rules,
        now=NOW,
    )
    message = email_message(scene, cancel)
    assert not message.is_multipart()
    body = message.get_content()
    assert "Sent in error." in body and scene.referral.id in body
    assert REFERRER["phone"] in body
    assert not any(value in body for value in IDENTIFIERS)


def test_the_document_prints_without_a_unicode_font(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_module, "_FONTS", ())
    contact = replace(scene.contact, patient=replace(scene.contact.patient, name="Zoë Łaska"))
    content = referral_content(
        scene.referral, contact=contact, assessment=scene.assessment, decision=scene.decision
    )
    text = pdf_text(referral_pdf(content))
    assert "Zoë ?aska" in text and CHILD in text and "Level 3: complex needs" in text


def test_a_name_outside_latin_1_prints_exactly_with_a_system_font(scene: Scene) -> None:
    assert pdf_module._font_files() is not None, "install fonts-dejavu-core"
    contact = replace(scene.contact, patient=replace(scene.contact.patient, name="Zoë Łaska"))
    content = referral_content(
        scene.referral, contact=contact, assessment=scene.assessment, decision=scene.decision
    )
    assert "Zoë Łaska" in pdf_text(referral_pdf(content))


def test_out_of_hours_the_document_names_the_duty_team_and_the_message_keeps_the_route(
    scene: Scene,
) -> None:
    night = Destination(ISLINGTON, Route.OUT_OF_HOURS, Channel.FHIR, "https://edt.example", False)
    content = referral_content(
        scene.referral,
        contact=scene.contact,
        assessment=scene.assessment,
        decision=scene.decision,
        destination=night,
    )
    assert content.headline.endswith("Islington · Emergency duty team (out of hours)")
    bundle = referral_message_bundle(
        scene.referral,
        night,
        scene.contact,
        scene.decision,
        scene.assessment,
        sender_id="trust-1",
        sender_name="Synthetic Trust",
        source_endpoint="urn:thinkfamily:trust-1",
        now=NOW,
    )
    (request,) = by_type(bundle)["ServiceRequest"]
    assert request.category[0].coding[0].code == "route-front_door"


def test_a_referrer_without_phone_or_email_leaves_every_channel_the_trusts_safeguarding_team(
    scene: Scene,
) -> None:
    unreachable = replace(
        scene.decision, decided_by=Professional("nurse-17", role="Staff nurse", name="Jo Referrer")
    )
    bundle, _ = fhir_message(scene, unreachable)
    found = by_type(bundle)
    (practitioner,) = found["Practitioner"]
    assert practitioner.telecom is None
    trust = next(o for o in found["Organization"] if o.name == "Synthetic Trust")
    assert {t.value for t in trust.contact[0].telecom} == {LEAD_PHONE, LEAD_EMAIL}

    message, _ = hl7_message(scene, decision=unreachable)
    referrer_ctd, team_ctd = message.ref_i12_provider_contact[0].ctd
    assert referrer_ctd.ctd_5.to_er7() == ""
    assert [f.to_er7() for f in team_ctd.ctd_5] == [
        f"^WPN^PH^^^^^^^^^{LEAD_PHONE}",
        f"^NET^Internet^{LEAD_EMAIL}",
    ]

    body, _, document = email_parts(email_message(scene, decision=unreachable))
    told = "No direct phone or email was given: call the trust's safeguarding team (below)."
    for text in (" ".join(body.split()), document):
        assert told in text
        assert LEAD_PHONE in text and LEAD_EMAIL in text


def test_the_call_script_gives_the_safeguarding_team_for_when_the_referrer_cannot_be_reached(
    scene: Scene,
) -> None:
    def reach(decision: Decision) -> str:
        content = referral_content(
            scene.referral,
            contact=scene.contact,
            assessment=scene.assessment,
            decision=decision,
            trust_name="Synthetic Trust",
            safeguarding=scene.config.safeguarding_lead,
        )
        return {line.step: line.words for line in call_script(content)}["How to reach you"]

    assert reach(scene.decision) == (
        f"You can reach me on {REFERRER['phone']}, {REFERRER['email']}."
        f" If I am not there, call our safeguarding team on {LEAD_PHONE}."
    )
    unreachable = replace(scene.decision, decided_by=Professional("nurse-17"))
    assert reach(unreachable) == f"To reach us, call our safeguarding team on {LEAD_PHONE}."
