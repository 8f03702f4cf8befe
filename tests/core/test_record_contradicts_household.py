"""A record that implies a child is never met with silence, whatever the household says.

A child protection flag, a recent birth, a pregnancy or the toxic trio beside a household that
lists no children (or none recorded) raises ``record-household``, naming what the record shows.
All data synthetic.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from adapters.fhir.bundle import parse_bundle_contact
from plugin_core.formats.contact_json import assessment_to_dict, parse_contact
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Assessment, IndicatorKind, Prompt, PromptCode, Relationship, Severity
from plugin_core.rules.household_checks import SUMMARY_LIMIT
from plugin_core.settings.config import TrustConfig

from .builders import MakeContact, indicator, member, utc

CONTACT_AT = utc(2026, 3, 2, 10, 0)

CRITICAL = [
    (
        IndicatorKind.CHILD_PROTECTION,
        "a child protection flag",
        "Child protection flag in the record",
    ),
    (IndicatorKind.POSTNATAL, "a recent birth", "Recent birth in the record"),
]
WARNING = [
    (IndicatorKind.PREGNANCY, "a pregnancy", "Pregnancy in the record"),
    (IndicatorKind.SUBSTANCE_MISUSE, "substance misuse", "Substance misuse in the record"),
    (IndicatorKind.MENTAL_HEALTH, "mental ill health", "Mental ill health in the record"),
    (IndicatorKind.DOMESTIC_ABUSE, "domestic abuse", "Domestic abuse in the record"),
]
ids = [k.value for k, _, _ in CRITICAL + WARNING]


def assess(engine: ThinkFamily, make_contact: MakeContact, **kwargs: Any) -> Assessment:
    kwargs.setdefault("occurred_at", CONTACT_AT)
    return engine.assess(make_contact(**kwargs), now=kwargs["occurred_at"], present=False)


def household_prompt(result: Assessment) -> Prompt:
    prompt = result.prompt(PromptCode.RECORD_HOUSEHOLD)
    assert prompt is not None, [p.code for p in result.prompts]
    return prompt


class TestEmptyHouseholdBesideAChildInTheRecord:
    @pytest.mark.parametrize(
        ("kind", "words", "reason", "severity"),
        [(*c, Severity.CRITICAL) for c in CRITICAL] + [(*w, Severity.WARNING) for w in WARNING],
        ids=ids,
    )
    def test_empty_household_with_a_child_signal_asks_to_confirm_the_household(
        self,
        engine: ThinkFamily,
        make_contact: MakeContact,
        kind: IndicatorKind,
        words: str,
        reason: str,
        severity: Severity,
    ) -> None:
        prompt = household_prompt(assess(engine, make_contact, indicators=[indicator(kind)]))
        assert prompt.severity is severity
        assert prompt.summary == (
            f"Record shows {words}, but the household lists no children. "
            "Confirm who lives with the patient."
        )
        assert prompt.severity_reason == reason
        assert f"Record shows {words}." in prompt.detail

    @pytest.mark.parametrize(
        "adults",
        [
            [member(None, Relationship.PARTNER)],
            [
                member(date(1960, 1, 1), Relationship.PARENT),
                member(date(1990, 1, 1), Relationship.SIBLING),
            ],
            [member(date(2008, 3, 2), Relationship.CHILD)],  # 18 today
        ],
        ids=["partner-no-birth-date", "parent-and-adult-sibling", "child-turned-18"],
    )
    def test_household_of_adults_only_counts_as_no_children(
        self, engine: ThinkFamily, make_contact: MakeContact, adults: list[Any]
    ) -> None:
        result = assess(
            engine,
            make_contact,
            household=adults,
            indicators=[indicator(IndicatorKind.CHILD_PROTECTION)],
        )
        assert household_prompt(result).severity is Severity.CRITICAL
        assert result.prompt(PromptCode.CONSIDER_CHILDREN) is None

    def test_pregnancy_stated_on_the_contact_counts_like_a_pregnancy_code(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        result = assess(engine, make_contact, pregnant=True)
        prompt = household_prompt(result)
        assert (prompt.severity, prompt.severity_reason) == (
            Severity.WARNING,
            "Pregnancy in the record",
        )
        assert result.prompt(PromptCode.CONSIDER_UNBORN) is not None

    def test_several_signals_are_named_most_telling_first_within_140_characters(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        everything = [indicator(k) for k, _, _ in WARNING + CRITICAL]
        prompt = household_prompt(assess(engine, make_contact, indicators=everything))
        assert prompt.severity is Severity.CRITICAL
        assert prompt.severity_reason == "Child protection flag in the record"
        assert len(prompt.summary) <= SUMMARY_LIMIT
        assert prompt.summary.startswith("Record shows a child protection flag, a recent birth")
        assert "and more" in prompt.summary
        for _, words, _ in CRITICAL + WARNING:
            assert words in prompt.detail

    def test_two_warning_signals_stay_a_warning(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        trio = [indicator(IndicatorKind.SUBSTANCE_MISUSE), indicator(IndicatorKind.DOMESTIC_ABUSE)]
        prompt = household_prompt(assess(engine, make_contact, indicators=trio))
        assert prompt.severity is Severity.WARNING
        assert "substance misuse and domestic abuse" in prompt.summary


class TestHouseholdNotRecordedBesideAChildInTheRecord:
    @pytest.mark.parametrize(("kind", "words", "reason"), CRITICAL, ids=ids[:2])
    def test_unknown_household_with_cp_flag_or_recent_birth_is_critical(
        self,
        engine: ThinkFamily,
        make_contact: MakeContact,
        kind: IndicatorKind,
        words: str,
        reason: str,
    ) -> None:
        prompt = household_prompt(
            assess(engine, make_contact, household=None, indicators=[indicator(kind)])
        )
        assert prompt.severity is Severity.CRITICAL
        assert prompt.severity_reason == reason
        assert prompt.summary.startswith(f"Household not recorded and the record shows {words}.")
        assert len(prompt.summary) <= SUMMARY_LIMIT

    @pytest.mark.parametrize(("kind", "words", "reason"), WARNING, ids=ids[2:])
    def test_unknown_household_with_other_signals_is_a_warning_naming_them(
        self,
        engine: ThinkFamily,
        make_contact: MakeContact,
        kind: IndicatorKind,
        words: str,
        reason: str,
    ) -> None:
        prompt = household_prompt(
            assess(engine, make_contact, household=None, indicators=[indicator(kind)])
        )
        assert prompt.severity is Severity.WARNING
        assert prompt.severity_reason == "Household not recorded"
        assert words in prompt.summary and words in prompt.detail

    def test_unknown_household_without_signals_keeps_its_plain_warning(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        prompt = household_prompt(assess(engine, make_contact, household=None))
        assert (prompt.severity, prompt.severity_reason) == (
            Severity.WARNING,
            "Household not recorded",
        )
        assert prompt.summary == (
            "Household not recorded. Ask who lives with the patient, including any children under 18."
        )


class TestHouseholdWithAChildIsNotContradicted:
    @pytest.mark.parametrize(
        "child",
        [
            member(date(2015, 1, 1)),
            member(None, Relationship.SIBLING),
            member(date(2012, 1, 1), lives_with_patient=False),
        ],
        ids=["known-age", "age-not-known", "living-elsewhere"],
    )
    def test_cp_flag_beside_a_listed_child_raises_consider_children_not_record_household(
        self, engine: ThinkFamily, make_contact: MakeContact, child: Any
    ) -> None:
        result = assess(
            engine,
            make_contact,
            household=[child],
            indicators=[indicator(IndicatorKind.CHILD_PROTECTION)],
        )
        assert result.prompt(PromptCode.RECORD_HOUSEHOLD) is None
        prompt = result.prompt(PromptCode.CONSIDER_CHILDREN)
        assert prompt is not None and prompt.severity is Severity.CRITICAL

    def test_empty_household_and_a_clean_record_stay_silent(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        result = assess(engine, make_contact, indicators=[indicator(IndicatorKind.OTHER)])
        assert result.prompts == ()


class TestStaleHouseholdBesideAChildInTheRecord:
    def test_stale_empty_household_with_cp_flag_is_critical_and_says_how_old(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        days = engine.config.recheck_days + 10
        prompt = household_prompt(
            assess(
                engine,
                make_contact,
                household=[],
                household_recorded_at=CONTACT_AT - timedelta(days=days),
                indicators=[indicator(IndicatorKind.CHILD_PROTECTION)],
            )
        )
        assert prompt.severity is Severity.CRITICAL
        assert f"recorded {days} days ago" in prompt.detail

    def test_stale_household_with_a_child_keeps_its_info_prompt_with_a_reason(
        self, engine: ThinkFamily, make_contact: MakeContact
    ) -> None:
        prompt = household_prompt(
            assess(
                engine,
                make_contact,
                household=[member(date(2015, 1, 1))],
                household_recorded_at=CONTACT_AT - timedelta(days=engine.config.recheck_days + 1),
                indicators=[indicator(IndicatorKind.CHILD_PROTECTION)],
            )
        )
        assert prompt.severity is Severity.INFO
        assert prompt.severity_reason == "Household record older than the re-check period"


class TestTrustWordingKeepsWhatTheRecordShows:
    def test_replaced_summary_leaves_the_signal_in_the_detail(
        self, config: TrustConfig, make_contact: MakeContact
    ) -> None:
        wording = {
            PromptCode.RECORD_HOUSEHOLD: "Ask who lives at home, including any children under 18."
        }
        engine = ThinkFamily(replace(config, wording=wording), entry_points=False)
        prompt = household_prompt(
            assess(engine, make_contact, indicators=[indicator(IndicatorKind.POSTNATAL)])
        )
        assert prompt.summary == wording[PromptCode.RECORD_HOUSEHOLD]
        assert prompt.severity is Severity.CRITICAL
        assert "a recent birth" in prompt.detail

    def test_assessment_json_carries_the_severity_reason(self, engine: ThinkFamily) -> None:
        doc = {
            "id": "contact-cp",
            "occurred_at": "2026-03-02T10:00:00+00:00",
            "patient": {"id": "p-cp", "postcode": "N7 8JL"},
            "household": [],
            "indicators": [{"kind": "child_protection"}, {"kind": "substance_misuse"}],
        }
        contact = parse_contact(json.dumps(doc), engine.config.code_lists)
        out = assessment_to_dict(engine.assess(contact, now=CONTACT_AT, present=False))
        assert [(p["code"], p["severity"], p["severity_reason"]) for p in out["prompts"]] == [
            ("record-household", "critical", "Child protection flag in the record")
        ]


def fhir_flag_bundle(*, household_answer: bool) -> bytes:
    """An adult with an active child protection flag and no RelatedPerson."""
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": "https://ehr.example.test/fhir/Patient/cp-1",
            "resource": {
                "resourceType": "Patient",
                "id": "cp-1",
                "address": [{"use": "home", "postalCode": "N7 8JL"}],
            },
        },
        {
            "resource": {
                "resourceType": "Flag",
                "status": "active",
                "code": {
                    "coding": [
                        {
                            "system": "https://thinkfamily.example/fhir/CodeSystem/flags",
                            "code": "CPP",
                        }
                    ]
                },
                "subject": {"reference": "Patient/cp-1"},
            }
        },
    ]
    if household_answer:
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {
                        "coding": [
                            {
                                "system": "https://thinkfamily.example/fhir/CodeSystem/thinkfamily",
                                "code": "household-composition",
                            }
                        ]
                    },
                    "subject": {"reference": "Patient/cp-1"},
                    "effectiveDateTime": "2026-03-01T09:00:00+00:00",
                }
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


class TestFhirRecordWithAFlagAndNoChildren:
    @pytest.mark.parametrize("household_answer", [True, False], ids=["asked-nobody", "never-asked"])
    def test_cp_flag_in_a_bundle_with_no_children_is_critical(
        self, engine: ThinkFamily, household_answer: bool
    ) -> None:
        contact = parse_bundle_contact(
            fhir_flag_bundle(household_answer=household_answer), engine.config.code_lists
        )
        assert (contact.household is not None) is household_answer
        result = engine.assess(contact, now=CONTACT_AT, present=False)
        prompt = household_prompt(result)
        assert prompt.severity is Severity.CRITICAL
        assert "child protection flag" in prompt.summary
