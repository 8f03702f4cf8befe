"""One coded record entry, as each input path carries it: ThinkFamily JSON, HL7 v2, FHIR R4.

Each builder makes an adult first contact with one child at home and the given coded entries,
so a test can run the same codes through every path. All data is synthetic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Assessment, FirstContact

from .builders import PATIENT_BIRTH_DATE, PATIENT_NHS_NUMBER, PATIENT_POSTCODE

Coding = tuple[str | None, str]
"""(system, code); a None system is left out."""

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
LOCAL = "https://thinkfamily.example/fhir/CodeSystem/flags"
LOINC = "http://loinc.org"


def json_contact(codings: Sequence[Coding], *, with_child: bool = True) -> bytes:
    indicators = [
        {"code": code} | ({"system": system} if system is not None else {})
        for system, code in codings
    ]
    household = (
        [{"birth_date": "2016-06-01", "relationship": "child", "lives_with_patient": True}]
        if with_child
        else []
    )
    doc = {
        "id": "contact-coded",
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "patient": {
            "id": "p1",
            "nhs_number": PATIENT_NHS_NUMBER,
            "birth_date": PATIENT_BIRTH_DATE,
            "postcode": PATIENT_POSTCODE,
        },
        "household": household,
        "indicators": indicators,
    }
    return json.dumps(doc).encode()


def hl7_message(codings: Sequence[Coding], *, with_child: bool = True, extra: str = "") -> bytes:
    """An ADT^A01 with a DG1 per coding (CE: code^text^system)."""
    segments = [
        "MSH|^~\\&|PAS|SYNTH|TF|TRUST|20260301100000||ADT^A01|CODED-1|P|2.5",
        "EVN|A01|20260301095500",
        f"PID|1||RF1^^^SYNTH^MR~{PATIENT_NHS_NUMBER}^^^NHS^NH||"
        f"||19880501|F|||2 Synthetic Street^^London^^{PATIENT_POSTCODE}^^H",
        "PV1|1|I|WARD1",
    ]
    if with_child:
        segments.append(
            f"NK1|1||CHD^Child^HL70063|2 Synthetic Street^^London^^{PATIENT_POSTCODE}"
            "|||||||||||F|20160601"
        )
    for index, (system, code) in enumerate(codings, start=1):
        segments.append(f"DG1|{index}||{code}^Entry^{system or ''}||20260301|W")
    if extra:
        segments.extend(extra.split("\n"))
    return ("\r".join(segments) + "\r").encode()


def fhir_bundle(
    codings: Sequence[Coding],
    *,
    with_child: bool = True,
    resources: Sequence[dict[str, object]] = (),
) -> bytes:
    """A collection Bundle with an active Condition per coding, and any other ``resources``."""
    entries: list[dict[str, object]] = [
        {
            "resourceType": "Patient",
            "id": "p1",
            "birthDate": PATIENT_BIRTH_DATE,
            "address": [{"use": "home", "postalCode": PATIENT_POSTCODE}],
        },
        {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "in-progress",
            "class": {"code": "IMP"},
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2026-03-01T10:00:00+00:00"},
        },
    ]
    if with_child:
        entries.append(
            {
                "resourceType": "RelatedPerson",
                "id": "child-1",
                "patient": {"reference": "Patient/p1"},
                "relationship": [{"coding": [{"code": "CHILD"}]}],
                "birthDate": "2016-06-01",
                "address": [{"use": "home", "postalCode": PATIENT_POSTCODE}],
            }
        )
    for index, (system, code) in enumerate(codings, start=1):
        coding = {"code": code} | ({"system": system} if system is not None else {})
        entries.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{index}",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [coding]},
            }
        )
    entries.extend(resources)
    bundle = {
        "resourceType": "Bundle",
        "id": "coded-bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }
    return json.dumps(bundle).encode()


Builder = Callable[..., bytes]
PATHS: dict[str, tuple[Builder, str]] = {
    "json": (json_contact, "contact.json"),
    "hl7": (hl7_message, "message.hl7"),
    "fhir": (fhir_bundle, "bundle.json"),
}


def contact_via(
    engine: ThinkFamily, path: str, codings: Sequence[Coding], **kw: object
) -> FirstContact:
    build, hint = PATHS[path]
    contact = engine.hooks.parse_contact(build(codings, **kw), hint)
    assert contact is not None, path
    return contact


def assess_via(
    engine: ThinkFamily, path: str, codings: Sequence[Coding], **kw: object
) -> Assessment:
    contact = contact_via(engine, path, codings, **kw)
    return engine.assess(contact, now=contact.occurred_at, present=False)
