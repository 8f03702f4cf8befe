"""A host written as a small class of hook implementations drives a whole flow (issue 2).

Assessment to referral through ``ThinkFamily``: assess (the host is shown the prompts), decide,
record (the host writes the decision back), attempt (the host delivers by email and returns a
receipt), then the state changes the service would report through ``thinkfamily_referral_update``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date

import pytest

from hooks import hookimpl
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Assessment,
    Authority,
    AuthorityMatch,
    Channel,
    Child,
    Consent,
    Decision,
    Destination,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    LawfulBasis,
    Professional,
    Prompt,
    PromptCode,
    Receipt,
    Referral,
    ReferralStatus,
    Relationship,
    RiskIndicator,
    Route,
    Severity,
)
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import load_trust_config

from .builders import CONFIG_DIR, make_contact, member, utc

REDBRIDGE = Authority("redbridge", "Redbridge")
IN_HOURS = utc(2026, 3, 30, 8, 30)  # 09:30 BST on a Monday
EVENING = utc(2026, 3, 30, 19, 0)


@dataclass(eq=False)  # pluggy keeps plugins in sets, so a plugin must stay hashable
class HostPlugin:
    """What an EHR vendor writes: its own household, record and address lookups, and a mailer."""

    presented: list[tuple[str, Assessment]] = field(default_factory=list)
    recorded: list[tuple[Decision, Assessment | None]] = field(default_factory=list)
    dispatched: list[tuple[Referral, Destination]] = field(default_factory=list)
    updates: list[tuple[str, ReferralStatus, Receipt | None, Prompt | None]] = field(
        default_factory=list
    )

    @hookimpl
    def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember]:
        return [
            member(date(2014, 9, 1), Relationship.STEPCHILD, ref="ehr-child-1"),
            member(date(1986, 2, 2), Relationship.PARTNER, ref="ehr-partner"),
        ]

    @hookimpl
    def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator]:
        # Depressive episode and alcohol dependence, coded as the EHR holds them.
        return [
            RiskIndicator(IndicatorKind.OTHER, "SCT", "35489007", source="ehr"),
            RiskIndicator(IndicatorKind.OTHER, "I10", "F10.2", source="ehr"),
        ]

    @hookimpl
    def thinkfamily_locate_authority(
        self, contact: FirstContact, children: list[Child]
    ) -> AuthorityMatch:
        return AuthorityMatch(REDBRIDGE, (REDBRIDGE,), "EHR address service")

    @hookimpl
    def thinkfamily_present(self, contact: FirstContact, assessment: Assessment) -> None:
        self.presented.append((contact.id, assessment))

    @hookimpl
    def thinkfamily_record(self, decision: Decision, assessment: Assessment | None) -> None:
        self.recorded.append((decision, assessment))

    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel is not Channel.EMAIL:
            return None
        self.dispatched.append((referral, destination))
        return Receipt(Channel.EMAIL, delivered=True, reference=f"mail-{referral.id[:8]}")

    @hookimpl
    def thinkfamily_referral_update(
        self,
        referral: Referral,
        status: ReferralStatus,
        receipt: Receipt | None,
        prompt: Prompt | None,
    ) -> None:
        self.updates.append((referral.id, status, receipt, prompt))


@pytest.fixture
def host() -> HostPlugin:
    return HostPlugin()


@pytest.fixture
def thinkfamily(host: HostPlugin) -> Iterator[ThinkFamily]:
    engine = ThinkFamily(
        load_trust_config(CONFIG_DIR / "example-trust.toml"),
        extra=[("test-host", host)],
        entry_points=False,
    )
    yield engine
    engine.pm.unregister(name="test-host")


def decision_for(assessment: Assessment) -> Decision:
    return Decision(
        id="decision-flow-1",
        contact_id=assessment.contact_id,
        decided_by=Professional("rn-42", role="ward nurse"),
        decided_at=IN_HOURS,
        share=True,
        reasons="Adult admitted with alcohol withdrawal and low mood; stepchild of 11 at home.",
        level_of_need=3,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        consent=Consent.NOT_SOUGHT,
        consent_not_sought_reason="Asking could place the child at risk of significant harm.",
        what_shared="Admission reason, household and risk indicators.",
        child_refs=tuple(c.ref for c in assessment.children),
    )


def test_host_plugin_drives_assessment_to_referral(
    thinkfamily: ThinkFamily, host: HostPlugin
) -> None:
    contact = make_contact(household=None, postcode=None, occurred_at=IN_HOURS)

    assessment = thinkfamily.assess(contact, now=IN_HOURS)
    assert [cid for cid, _ in host.presented] == [contact.id]
    assert host.presented[0][1] is assessment
    assert [(c.ref, c.age) for c in assessment.children] == [("ehr-child-1", 11)]
    prompt = assessment.prompt(PromptCode.CONSIDER_CHILDREN)
    assert prompt is not None and prompt.severity is Severity.CRITICAL
    assert assessment.authority.authority == REDBRIDGE

    outcome = thinkfamily.decide(decision_for(assessment), assessment, now=IN_HOURS)
    (referral,) = outcome.referrals
    assert (referral.route, referral.authority_id) == (Route.FRONT_DOOR, "redbridge")
    assert referral.child_refs == ("ehr-child-1",)

    thinkfamily.recorded(outcome, assessment)
    assert host.recorded == [(outcome.decision, assessment)]

    attempt = thinkfamily.attempt(referral, now=IN_HOURS)
    assert attempt.status is ReferralStatus.DELIVERED
    assert attempt.receipt is not None and attempt.receipt.reference.startswith("mail-")
    assert [(r.id, d.address) for r, d in host.dispatched] == [
        (referral.id, "CPAT.Referrals@redbridge.gov.uk")
    ]

    # The service records each state change, then tells the plugins.
    thinkfamily.hooks.referral_update(referral, attempt.status, attempt.receipt)
    acknowledged = Receipt(Channel.EMAIL, delivered=True, acknowledged=True, reference="CPAT-77")
    thinkfamily.hooks.referral_update(referral, ReferralStatus.ACKNOWLEDGED, acknowledged)
    assert [(rid, status) for rid, status, _, _ in host.updates] == [
        (referral.id, ReferralStatus.DELIVERED),
        (referral.id, ReferralStatus.ACKNOWLEDGED),
    ]
    assert host.updates[1][2] is acknowledged


def test_host_is_asked_to_phone_when_the_referral_goes_out_of_hours(
    thinkfamily: ThinkFamily, host: HostPlugin
) -> None:
    contact = make_contact(household=None, occurred_at=EVENING)
    assessment = thinkfamily.assess(contact, now=EVENING)
    # Level 4 is urgent: out of hours it goes to the emergency duty team, reached by phone.
    urgent = replace(decision_for(assessment), level_of_need=4)
    outcome = thinkfamily.decide(urgent, assessment, now=EVENING)

    attempt = thinkfamily.attempt(outcome.referrals[0], now=EVENING)

    assert host.dispatched == []  # the host mails, and out of hours Redbridge takes calls
    assert attempt.destination.route is Route.OUT_OF_HOURS
    assert attempt.status is ReferralStatus.CALL_REQUIRED
    assert attempt.prompt is not None
    assert attempt.prompt.summary == "Phone Redbridge now: 020 8708 5897."
    thinkfamily.hooks.referral_update(
        outcome.referrals[0], attempt.status, attempt.receipt, attempt.prompt
    )
    assert host.updates[-1][3] is attempt.prompt


def test_host_dispatch_that_fails_leaves_the_referral_to_retry(config: TrustConfig) -> None:
    class RelayDown(HostPlugin):
        @hookimpl
        def thinkfamily_dispatch(
            self, referral: Referral, destination: Destination
        ) -> Receipt | None:
            return Receipt(Channel.EMAIL, delivered=False, retryable=True, detail="relay down")

    engine = ThinkFamily(config, extra=[("test-host", RelayDown())], entry_points=False)
    contact = make_contact(household=None, occurred_at=IN_HOURS)
    assessment = engine.assess(contact, now=IN_HOURS, present=False)
    outcome = engine.decide(decision_for(assessment), assessment, now=IN_HOURS)
    attempt = engine.attempt(outcome.referrals[0], now=IN_HOURS)
    assert attempt.status is ReferralStatus.FAILED
    assert attempt.prompt is None


def test_unregistered_host_is_no_longer_called(config: TrustConfig) -> None:
    host = HostPlugin()
    engine = ThinkFamily(config, extra=[("test-host", host)], entry_points=False)
    engine.pm.unregister(name="test-host")
    contact = make_contact(household=None)
    assessment = engine.assess(contact, now=contact.occurred_at)
    assert host.presented == []
    assert assessment.household_known is False
    assert assessment.prompt(PromptCode.RECORD_HOUSEHOLD) is not None


def test_assessment_without_prompts_is_not_presented(config: TrustConfig) -> None:
    class Quiet(HostPlugin):
        @hookimpl
        def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember]:
            return []

        @hookimpl
        def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator]:
            return []

    host = Quiet()
    engine = ThinkFamily(config, extra=[("test-host", host)], entry_points=False)
    contact = make_contact(household=None)
    assert engine.assess(contact, now=contact.occurred_at).prompts == ()
    assert host.presented == []
