"""No child missed: household members whose age or relationship is not known stay in.

A member with no date of birth is left out only when the relationship is one nobody under 18
can have to an adult; any other relationship, and any word nobody recognises, keeps them in as
a child whose age is not known, and the professional is asked to confirm it. All data synthetic.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.fhir.bundle import parse_bundle_contact
from adapters.fhir.referral_parties import relationship_concept
from adapters.hl7.referral import RELATIONSHIP_CODES
from adapters.web.wording import RELATIONSHIPS
from plugin_core.formats.contact_json import assessment_to_dict, parse_contact
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Assessment,
    Child,
    HouseholdMember,
    IndicatorKind,
    PromptCode,
    Relationship,
    Severity,
)
from plugin_core.rules.children import children_in
from plugin_core.rules.relationships import normalise_relationship, read_relationship
from plugin_core.settings.config import TrustConfig

from .builders import MakeContact, indicator, member, utc

CONTACT_AT = utc(2026, 3, 2, 10, 0)
ON = date(2026, 3, 2)

ADULT_ONLY = (
    Relationship.PARTNER,
    Relationship.PARENT,
    Relationship.GRANDPARENT,
    Relationship.OTHER_ADULT,
)
KEPT_WITHOUT_AGE = tuple(r for r in Relationship if r not in ADULT_ONLY)


def assess(engine: ThinkFamily, make_contact: MakeContact, **kwargs: Any) -> Assessment:
    kwargs.setdefault("occurred_at", CONTACT_AT)
    contact = make_contact(**kwargs)
    return engine.assess(contact, now=kwargs["occurred_at"], present=False)


def contact_json(household: list[dict[str, Any]], **extra: Any) -> str:
    doc = {
        "id": "contact-unknown-age",
        "occurred_at": "2026-03-02T10:00:00+00:00",
        "patient": {"id": "p-ua", "postcode": "N7 8JL"},
        "household": household,
        **extra,
    }
    return json.dumps(doc)


# Who is kept ------------------------------------------------------------------------------------


class TestMembersWithoutBirthDateAreKeptUnlessAdultOnly:
    @pytest.mark.parametrize("relationship", KEPT_WITHOUT_AGE, ids=lambda r: r.value)
    def test_member_without_birth_date_is_kept_as_age_not_known(
        self, relationship: Relationship
    ) -> None:
        found = children_in([member(None, relationship)], ON, pregnant=False)
        assert [(c.age, c.age_known, c.relationship) for c in found] == [
            (None, False, relationship)
        ]

    @pytest.mark.parametrize("relationship", ADULT_ONLY, ids=lambda r: r.value)
    def test_adult_only_member_without_birth_date_is_left_out(
        self, relationship: Relationship
    ) -> None:
        assert children_in([member(None, relationship)], ON, pregnant=False) == ()

    def test_every_child_kind_keeps_a_member_and_none_is_adult_only(self) -> None:
        for relationship in Relationship:
            assert not (relationship.is_child_kind and relationship.is_adult_only), relationship
        new_child_kinds = {
            Relationship.ADOPTED_CHILD,
            Relationship.PARTNERS_CHILD,
            Relationship.NIECE_NEPHEW,
        }
        assert all(r.is_child_kind for r in new_child_kinds)


class TestKnownAgeDecides:
    @pytest.mark.parametrize("relationship", KEPT_WITHOUT_AGE, ids=lambda r: r.value)
    def test_member_aged_18_or_over_is_left_out_whatever_the_relationship(
        self, relationship: Relationship
    ) -> None:
        assert children_in([member(date(2008, 3, 2), relationship)], ON, pregnant=False) == ()

    @pytest.mark.parametrize("relationship", ADULT_ONLY, ids=lambda r: r.value)
    def test_member_under_18_is_kept_even_with_an_adult_only_relationship(
        self, relationship: Relationship
    ) -> None:
        found = children_in([member(date(2009, 1, 1), relationship)], ON, pregnant=False)
        assert [(c.age, c.age_known) for c in found] == [(17, True)]

    @pytest.mark.parametrize("birth_date", [date(2026, 3, 3), date(2062, 1, 1)])
    def test_birth_date_after_the_contact_is_kept_as_age_not_known(self, birth_date: date) -> None:
        found = children_in([member(birth_date, Relationship.CHILD)], ON, pregnant=False)
        assert [(c.age, c.age_known) for c in found] == [(None, False)]

    def test_unborn_child_has_no_age_to_confirm(self) -> None:
        found = children_in([], ON, pregnant=True)
        assert [(c.unborn, c.age, c.age_known) for c in found] == [(True, None, True)]


# The consider-children prompt asks to confirm ages ------------------------------------------------


class TestConsiderChildrenAsksToConfirmAges:
    def test_daughter_without_birth_date_is_kept_as_age_not_known_and_prompted(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        result = assess(engine, make_contact, household=[member(None, Relationship.CHILD)])
        prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
        assert prompt is not None
        assert prompt.summary == (
            "1 child of unknown age in the household. "
            "Confirm ages, consider their welfare and record your decision."
        )
        assert "Age not known for 1" in prompt.detail

    def test_known_and_unknown_ages_are_counted_apart(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        household = [
            member(date(2015, 1, 1)),
            member(None, Relationship.SIBLING),
            member(None, Relationship.UNKNOWN, lives_with_patient=False),
        ]
        prompt = assess(engine, make_contact, household=household).prompt(
            PromptCode.CONSIDER_CHILDREN
        )
        assert prompt is not None
        assert prompt.summary.startswith(
            "1 child under 18 and 1 of unknown age in the household and 1 living elsewhere. "
            "Confirm ages"
        )
        assert "Age not known for 2" in prompt.detail

    def test_members_who_may_not_be_children_are_called_people(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        household = [member(None, Relationship.SIBLING), member(None, Relationship.OTHER)]
        prompt = assess(engine, make_contact, household=household).prompt(
            PromptCode.CONSIDER_CHILDREN
        )
        assert prompt is not None
        assert prompt.summary.startswith("2 people of unknown age in the household.")

    def test_only_known_ages_keep_the_plain_wording(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        prompt = assess(engine, make_contact, household=[member(date(2015, 1, 1))]).prompt(
            PromptCode.CONSIDER_CHILDREN
        )
        assert prompt is not None
        assert prompt.summary == (
            "1 child under 18 in the household. Consider their welfare and record your decision."
        )
        assert "Age not known" not in prompt.detail

    @pytest.mark.parametrize(
        ("known", "unknown", "away"), [(120, 130, 140), (9, 9, 9), (0, 99, 99)]
    )
    def test_summary_fits_140_characters_with_many_members(
        self,
        engine: ThinkFamily,
        make_contact: MakeContact,
        known: int,
        unknown: int,
        away: int,
    ) -> None:
        household = (
            [member(date(2015, 1, 1)) for _ in range(known)]
            + [member(None, Relationship.SIBLING) for _ in range(unknown)]
            + [member(None, lives_with_patient=False) for _ in range(away)]
        )
        prompt = assess(engine, make_contact, household=household).prompt(
            PromptCode.CONSIDER_CHILDREN
        )
        assert prompt is not None and len(prompt.summary) <= 140
        assert "Confirm ages" in prompt.summary

    def test_parent_with_alcohol_misuse_and_cp_flag_and_a_child_of_unknown_word_is_prompted(
        self, engine: ThinkFamily
    ) -> None:
        text = contact_json(
            [{"relationship": "bairn"}],
            indicators=[{"kind": "substance_misuse"}, {"kind": "child_protection"}],
        )
        contact = parse_contact(text, engine.config.code_lists)
        result = engine.assess(contact, now=CONTACT_AT, present=False)
        prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
        assert prompt is not None and prompt.severity is Severity.CRITICAL
        assert [(c.relationship, c.age) for c in result.children] == [(Relationship.UNKNOWN, None)]


# Relationship words -------------------------------------------------------------------------------

FAMILIES: dict[Relationship, tuple[str, ...]] = {
    Relationship.CHILD: (
        "child",
        "CHILD",
        "CHD",
        "NCH",
        "NCHILD",
        "SON",
        "son",
        " Son ",
        "SONC",
        "DAU",
        "DAUC",
        "daughter",
        " DAUGHTER ",
        "Daughter",
        "natural son",
        "birth-daughter",
        "kids",
        "baby",
        "Dependant",
        "offspring",
    ),
    Relationship.STEPCHILD: (
        "stepchild",
        "STPCHLD",
        "STPSON",
        "STPDAU",
        "SCH",
        "Step Daughter",
        "step-daughter",
        "STEP_DAUGHTER",
        "stepdaughter",
        "Step Son",
        "step-son",
        "step son",
        "step children",
        "Step-Child",
    ),
    Relationship.ADOPTED_CHILD: (
        "CHLDADOPT",
        "SONADOPT",
        "DAUADOPT",
        "adopted child",
        "Adopted Son",
        "adopted-daughter",
        "ADOPTED_CHILD",
        "adoptive son",
        "adoptee",
    ),
    Relationship.FOSTER_CHILD: (
        "FCH",
        "CHLDFOST",
        "SONFOST",
        "DAUFOST",
        "FCHILD",
        "foster child",
        "Foster-Son",
        "foster_daughter",
        "FOSTER CHILD",
        "looked after child",
        "Kinship child",
    ),
    Relationship.PARTNERS_CHILD: (
        "partner's son",
        "partner's child",
        "Partner’s Daughter",
        "partners son",
        "husband's son",
        "wife's daughter",
        "boyfriend's child",
        "girlfriend’s son",
        "spouse's children",
        "civil partner's daughter",
    ),
    Relationship.GRANDCHILD: (
        "GCH",
        "GRNDCHILD",
        "GRNDSON",
        "GRNDDAU",
        "grandchild",
        "Grand Son",
        "grand-daughter",
        "GRAND_CHILD",
        "grandsons",
        "great grandson",
        "son's daughter",
        "daughter's son",
    ),
    Relationship.NIECE_NEPHEW: (
        "NIECE",
        "NEPHEW",
        "NIENEPH",
        "niece/nephew",
        "Niece",
        "nephews",
        "great-niece",
        "sister's son",
        "brother's daughter",
    ),
    Relationship.WARD: ("WRD", "ward", "Ward of Court", "special guardianship child"),
    Relationship.SIBLING: (
        "SIB",
        "BRO",
        "SIS",
        "HSIB",
        "STPBRO",
        "TWINSIS",
        "brother",
        "Sister",
        "half-brother",
        "step sister",
        "twin",
        "siblings",
    ),
    Relationship.PARTNER: (
        "SPO",
        "DOM",
        "SPS",
        "HUSB",
        "WIFE",
        "DOMPART",
        "spouse",
        "Husband",
        "civil partner",
        "boyfriend",
        "Girl Friend",
        "fiancée",
        "common-law wife",
    ),
    Relationship.PARENT: (
        "PAR",
        "MTH",
        "FTH",
        "PRN",
        "STPMTH",
        "MTHINLAW",
        "mother",
        "Dad",
        "mum",
        "step-father",
        "Foster Mother",
        "mother-in-law",
    ),
    Relationship.GRANDPARENT: (
        "GRP",
        "GRPRN",
        "GRMTH",
        "MGRFTH",
        "PGGRMTH",
        "grandmother",
        "Grand-Father",
        "nan",
        "granny",
        "great grandparent",
    ),
    Relationship.OTHER_RELATIVE: (
        "EXF",
        "EXT",
        "COUSN",
        "AUNT",
        "UNCLE",
        "CHLDINLAW",
        "SONINLAW",
        "DAUINLAW",
        "cousin",
        "Aunty",
        "son-in-law",
        "Daughter In Law",
        "relative",
    ),
    Relationship.OTHER_ADULT: (
        "OAD",
        "SEL",
        "GRD",
        "ONESELF",
        "GUARD",
        "POWATT",
        "self",
        "legal guardian",
        "Lasting Power of Attorney",
    ),
    Relationship.OTHER: (
        "OTH",
        "FND",
        "CGV",
        "EMC",
        "FRND",
        "NBOR",
        "ROOM",
        "friend",
        "Lodger",
        "young carer",
        "next of kin",
        "friend's son",
        "neighbour’s daughter",
    ),
}


class TestRelationshipWordsAreNormalised:
    @pytest.mark.parametrize(
        ("word", "expected"),
        [(word, term) for term, words in FAMILIES.items() for word in words],
    )
    def test_word_maps_to_its_relationship(
        self, config: TrustConfig, word: str, expected: Relationship
    ) -> None:
        assert read_relationship(word, config.code_lists) == (expected, None)

    @pytest.mark.parametrize("term", list(Relationship), ids=lambda r: r.value)
    def test_every_term_name_matches_itself_in_any_spelling(
        self, config: TrustConfig, term: Relationship
    ) -> None:
        for spelling in (term.value, term.value.upper(), term.value.replace("_", " ")):
            assert normalise_relationship(spelling, config.code_lists) is term

    def test_every_relationship_has_a_label_for_the_clinician_page(self) -> None:
        assert set(RELATIONSHIPS) == set(Relationship)


class TestUnrecognisedRelationshipWords:
    @pytest.mark.parametrize(
        "word", ["bairn", "Wean", "sprog", "ZZ9", "mother's partner", "bairn's son"]
    )
    def test_unrecognised_word_reads_as_unknown_and_is_returned_to_show(
        self, config: TrustConfig, word: str
    ) -> None:
        assert read_relationship(word, config.code_lists) == (Relationship.UNKNOWN, word)

    @pytest.mark.parametrize("word", [None, "", "   ", "--", "UNK", "not known"])
    def test_missing_or_unknown_relationship_is_not_listed_as_unrecognised(
        self, config: TrustConfig, word: str | None
    ) -> None:
        assert read_relationship(word, config.code_lists) == (Relationship.UNKNOWN, None)

    def test_long_unrecognised_text_is_shown_trimmed_and_capped(self, config: TrustConfig) -> None:
        relationship, shown = read_relationship("  lives   here " + "x" * 80, config.code_lists)
        assert relationship is Relationship.UNKNOWN
        assert shown is not None and shown.startswith("lives here x") and len(shown) == 40

    def test_unrecognised_members_are_kept_and_their_words_listed_once(
        self, engine: ThinkFamily
    ) -> None:
        text = contact_json(
            [
                {"relationship": "bairn"},
                {"relationship": "bairn"},
                {"relationship": "wean", "birth_date": "1990-01-01"},
                {"relationship": "daughter"},
            ]
        )
        contact = parse_contact(text, engine.config.code_lists)
        result = engine.assess(contact, now=CONTACT_AT, present=False)
        assert result.unrecognised_relationships == ("bairn", "wean")
        assert [(c.relationship, c.age) for c in result.children] == [
            (Relationship.UNKNOWN, None),
            (Relationship.UNKNOWN, None),
            (Relationship.CHILD, None),
        ]

    def test_assessment_json_shows_unrecognised_words_and_unknown_ages(
        self, engine: ThinkFamily
    ) -> None:
        text = contact_json(
            [{"relationship": "bairn"}, {"relationship": "son", "birth_date": "2016-06-01"}]
        )
        contact = parse_contact(text, engine.config.code_lists)
        out = assessment_to_dict(engine.assess(contact, now=CONTACT_AT, present=False))
        assert out["unrecognised_relationships"] == ["bairn"]
        assert [(c["age"], c["age_known"], c["relationship"]) for c in out["children"]] == [
            (None, False, "unknown"),
            (9, True, "child"),
        ]

    def test_recognised_household_lists_no_unrecognised_words(self, engine: ThinkFamily) -> None:
        contact = parse_contact(
            contact_json([{"relationship": "Step-Daughter"}, {"relationship": "husband"}]),
            engine.config.code_lists,
        )
        out = assessment_to_dict(engine.assess(contact, now=CONTACT_AT, present=False))
        assert out["unrecognised_relationships"] == []
        assert [c["relationship"] for c in out["children"]] == ["stepchild"]


# Each way in reaches the assessment with the child kept -----------------------------------------


def hl7_admission(*nk1: str) -> bytes:
    segments = [
        "MSH|^~\\&|PAS|NORTHGEN|TF|TRUST|20260302100000||ADT^A01|UA-0001|P|2.5",
        "EVN|A01|20260302095500",
        "PID|1||RF20001^^^NORTHGEN^MR||TESTER^ALEX||19880501|F|||1 Example Road^^London^^N7 8AA^GBR^H",
        "PV1|1|I|WARD1^B2^3^NORTHGEN||||||||||||||||V20001",
        *nk1,
    ]
    return "\r".join(segments).encode() + b"\r"


def fhir_bundle(*relationships: dict[str, Any]) -> bytes:
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": "https://ehr.example.test/fhir/Patient/ua-1",
            "resource": {
                "resourceType": "Patient",
                "id": "ua-1",
                "birthDate": "1988-05-01",
                "address": [{"use": "home", "postalCode": "N7 8JL"}],
            },
        }
    ]
    for i, relationship in enumerate(relationships, start=1):
        entries.append(
            {
                "fullUrl": f"https://ehr.example.test/fhir/RelatedPerson/rp-{i}",
                "resource": {
                    "resourceType": "RelatedPerson",
                    "id": f"rp-{i}",
                    "patient": {"reference": "Patient/ua-1"},
                    "relationship": [relationship],
                },
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def v3(code: str) -> dict[str, Any]:
    return {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": code}]
    }


class TestHl7NextOfKinOfUnknownAgeIsKept:
    def children(self, engine: ThinkFamily, *nk1: str) -> tuple[Assessment, list[Child]]:
        contact = engine.hooks.parse_contact(hl7_admission(*nk1), "admission.hl7")
        assert contact is not None
        result = engine.assess(contact, now=CONTACT_AT, present=False)
        return result, list(result.children)

    def test_nk1_daughter_code_without_birth_date_is_kept_as_age_not_known(
        self, engine: ThinkFamily
    ) -> None:
        _, children = self.children(engine, "NK1|1|TESTER^SAM|DAU^Daughter^HL70063")
        assert [(c.ref, c.relationship, c.age_known) for c in children] == [
            ("NK1-1", Relationship.CHILD, False)
        ]

    @pytest.mark.parametrize(
        ("nk1_3", "expected"),
        [
            ("STPDAU", Relationship.STEPCHILD),
            ("^Step-Son", Relationship.STEPCHILD),
            ("SONADOPT^Adopted son", Relationship.ADOPTED_CHILD),
            ("GCH^Grandchild^HL70063", Relationship.GRANDCHILD),
            ("ZZ^Nephew^L", Relationship.NIECE_NEPHEW),
        ],
    )
    def test_nk1_child_relationships_in_codes_or_text_keep_the_child(
        self, engine: ThinkFamily, nk1_3: str, expected: Relationship
    ) -> None:
        _, children = self.children(engine, f"NK1|1|TESTER^SAM|{nk1_3}")
        assert [(c.relationship, c.age) for c in children] == [(expected, None)]

    def test_nk1_unrecognised_text_is_kept_beside_a_child_and_listed(
        self, engine: ThinkFamily
    ) -> None:
        result, children = self.children(
            engine,
            "NK1|1|TESTER^SAM|CHD^Child^HL70063|" + "|" * 12 + "20160601",
            "NK1|2|TESTER^KIT|ZQ^Bairn^L",
            "NK1|3|TESTER^JO|SPO^Spouse^HL70063",
        )
        assert [(c.ref, c.relationship, c.age) for c in children] == [
            ("NK1-1", Relationship.CHILD, 9),
            ("NK1-2", Relationship.UNKNOWN, None),
        ]
        assert result.unrecognised_relationships == ("Bairn",)


class TestFhirRelatedPersonOfUnknownAgeIsKept:
    def assessment(self, engine: ThinkFamily, *relationships: dict[str, Any]) -> Assessment:
        contact = parse_bundle_contact(fhir_bundle(*relationships), engine.config.code_lists)
        return engine.assess(contact, now=CONTACT_AT, present=False)

    def test_related_person_sonadopt_without_birth_date_is_kept_as_age_not_known(
        self, engine: ThinkFamily
    ) -> None:
        result = self.assessment(engine, v3("SONADOPT"))
        assert [(c.ref, c.relationship, c.age_known) for c in result.children] == [
            ("RelatedPerson/rp-1", Relationship.ADOPTED_CHILD, False)
        ]
        assert result.prompt(PromptCode.CONSIDER_CHILDREN) is not None

    @pytest.mark.parametrize(
        ("concept", "expected"),
        [
            (v3("DAUFOST"), Relationship.FOSTER_CHILD),
            (v3("GRNDDAU"), Relationship.GRANDCHILD),
            (v3("NIENEPH"), Relationship.NIECE_NEPHEW),
            ({"text": "Daughter"}, Relationship.CHILD),
            ({"coding": [{"code": "X1", "display": "Step daughter"}]}, Relationship.STEPCHILD),
            ({"coding": [{"code": "N"}, {"code": "STPSON"}]}, Relationship.STEPCHILD),
            ({"coding": [{"code": "GUARD"}, {"code": "SIB"}]}, Relationship.SIBLING),
        ],
    )
    def test_child_relationship_in_any_coding_or_text_keeps_the_member(
        self, engine: ThinkFamily, concept: dict[str, Any], expected: Relationship
    ) -> None:
        result = self.assessment(engine, concept)
        assert [(c.relationship, c.age) for c in result.children] == [(expected, None)]

    def test_unrecognised_relationship_text_is_kept_and_listed(self, engine: ThinkFamily) -> None:
        result = self.assessment(engine, {"text": "bairn"}, v3("HUSB"))
        assert [c.relationship for c in result.children] == [Relationship.UNKNOWN]
        assert result.unrecognised_relationships == ("bairn",)


class TestAssessCommandShowsUnknownAges:
    def test_assess_prints_age_not_known_members_and_unrecognised_words(
        self, thinkfamily_script: Path, tmp_path: Path
    ) -> None:
        path = tmp_path / "contact.json"
        path.write_text(contact_json([{"relationship": "daughter"}, {"relationship": "bairn"}]))
        result = subprocess.run(
            [str(thinkfamily_script), "assess", str(path), "--now", "2026-03-02T10:05:00+00:00"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert [(c["relationship"], c["age"], c["age_known"]) for c in out["children"]] == [
            ("child", None, False),
            ("unknown", None, False),
        ]
        assert out["unrecognised_relationships"] == ["bairn"]
        summary = out["prompts"][0]["summary"]
        assert summary.startswith("2 people of unknown age in the household. Confirm ages")

    def test_assess_prints_an_hl7_daughter_without_birth_date(
        self, thinkfamily_script: Path, tmp_path: Path
    ) -> None:
        path = tmp_path / "admission.hl7"
        path.write_bytes(hl7_admission("NK1|1|TESTER^SAM|DAU^Daughter^HL70063"))
        result = subprocess.run(
            [str(thinkfamily_script), "assess", str(path), "--now", "2026-03-02T10:05:00+00:00"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert [(c["age"], c["age_known"]) for c in out["children"]] == [(None, False)]


def test_household_member_repr_never_shows_the_unrecognised_word() -> None:
    person = HouseholdMember(Relationship.UNKNOWN, id="m1", unrecognised_relationship="bairn")
    assert "bairn" not in repr(person)


def test_niece_of_unknown_age_is_prompted_with_the_risk_in_the_record(
    engine: ThinkFamily, make_contact: MakeContact
) -> None:
    result = assess(
        engine,
        make_contact,
        household=[member(None, Relationship.NIECE_NEPHEW)],
        indicators=[indicator(IndicatorKind.DOMESTIC_ABUSE)],
    )
    prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None and prompt.severity is not Severity.INFO
    assert "Age not known for 1" in prompt.detail


class TestReferralsNameTheRelationshipHonestly:
    @pytest.mark.parametrize(
        ("relationship", "code"),
        [
            (Relationship.CHILD, "CHILD"),
            (Relationship.ADOPTED_CHILD, "CHLDADOPT"),
            (Relationship.NIECE_NEPHEW, "NIENEPH"),
            (Relationship.SIBLING, "SIB"),
        ],
    )
    def test_fhir_referral_codes_a_relationship_with_a_v3_code(
        self, relationship: Relationship, code: str
    ) -> None:
        child = Child(ref="c", age=None, relationship=relationship, lives_with_patient=None)
        concept = relationship_concept(child)
        assert [c.code for c in concept.coding or []] == [code]

    @pytest.mark.parametrize(
        ("relationship", "text"),
        [
            (Relationship.PARTNERS_CHILD, "partner's child"),
            (Relationship.UNKNOWN, "relationship not known"),
            (Relationship.OTHER, "other"),
        ],
    )
    def test_fhir_referral_never_calls_someone_else_a_child_of_the_adult(
        self, relationship: Relationship, text: str
    ) -> None:
        child = Child(ref="c", age=None, relationship=relationship, lives_with_patient=None)
        concept = relationship_concept(child)
        assert concept.text == text
        assert not concept.coding

    @pytest.mark.parametrize(
        ("relationship", "code"),
        [
            (Relationship.SIBLING, "SIB"),
            (Relationship.NIECE_NEPHEW, "EXF"),
            (Relationship.UNKNOWN, "UNK"),
            (Relationship.ADOPTED_CHILD, "CHD"),
        ],
    )
    def test_hl7_referral_codes_kept_relationships_from_table_0063(
        self, relationship: Relationship, code: str
    ) -> None:
        assert RELATIONSHIP_CODES[relationship][0] == code
