"""The referral's minimum dataset: one structure that every channel renders.

A front-door worker needs the same facts whichever way a referral arrives (FHIR message, HL7
REF^I12, email, the PDF document), so they are settled here once, from the contact, its
assessment, the decision and the referral, and the channels only lay them out. The shape
follows the multi-agency referral forms local authorities use: the children concerned (only
those the professional chose), the adult, the concern with its level of need and the risk
indicators a referral may carry, what is shared and on what basis, the urgency, and the
referrer with how to reach them.

Values are copied as they are, not reformatted: a channel that validates (the FHIR models)
then reports a bad value against its own field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from plugin_core.model import (
    Assessment,
    Child,
    Consent,
    Decision,
    Destination,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    LadoCriterion,
    LawfulBasis,
    Person,
    Professional,
    Referral,
    ReferralAction,
    Relationship,
    RiskIndicator,
    Route,
)
from plugin_core.rules.children import member_for
from plugin_core.rules.clock import LONDON
from plugin_core.rules.indicators import for_referral
from plugin_core.rules.levels import DEFAULT_LEVELS, DEFAULT_THRESHOLD, Threshold

LEVEL_TITLES = {n: level.title for n, level in DEFAULT_LEVELS.items()}
"""The London levels of need, as the threshold guides name them; an authority may rename them."""

ROUTE_TEXT = {
    Route.FRONT_DOOR: "Children's services front door",
    Route.OUT_OF_HOURS: "Emergency duty team (out of hours)",
    Route.EARLY_HELP: "Early help",
    Route.LADO: "LADO (concern about someone who works with children)",
    Route.POLICE: "Police",
}

RELATIONSHIP_TEXT = {
    Relationship.CHILD: "Child",
    Relationship.STEPCHILD: "Stepchild",
    Relationship.ADOPTED_CHILD: "Adopted child",
    Relationship.FOSTER_CHILD: "Foster child",
    Relationship.PARTNERS_CHILD: "Partner's child",
    Relationship.GRANDCHILD: "Grandchild",
    Relationship.NIECE_NEPHEW: "Niece or nephew",
    Relationship.WARD: "Ward",
    Relationship.SIBLING: "Sibling",
    Relationship.PARTNER: "Partner",
    Relationship.PARENT: "Parent",
    Relationship.GRANDPARENT: "Grandparent",
    Relationship.OTHER_RELATIVE: "Other relative",
    Relationship.OTHER_ADULT: "Other adult",
    Relationship.OTHER: "Other",
    Relationship.UNKNOWN: "Relationship not known",
}
"""The child's relationship to the adult, in words."""

LIVES_TEXT = {True: "with the adult", False: "elsewhere", None: "not known"}
"""Who the child lives with."""

INDICATOR_TEXT = {
    IndicatorKind.SUBSTANCE_MISUSE: "Substance misuse",
    IndicatorKind.MENTAL_HEALTH: "Mental ill health",
    IndicatorKind.DOMESTIC_ABUSE: "Domestic abuse",
    IndicatorKind.CHILD_PROTECTION: "Child on a child protection plan",
    IndicatorKind.PREGNANCY: "Pregnancy",
    IndicatorKind.PREGNANCY_ENDED: "Pregnancy ended",
    IndicatorKind.POSTNATAL: "Recent birth",
    IndicatorKind.OTHER: "Other",
}

BASIS_TEXT = {
    LawfulBasis.PUBLIC_TASK: "Public task",
    LawfulBasis.LEGAL_OBLIGATION: "Legal obligation",
    LawfulBasis.CONSENT: "Consent",
    LawfulBasis.VITAL_INTERESTS: "Vital interests",
}
"""UK GDPR Article 6 lawful bases, in words."""

CONSENT_TEXT = {
    Consent.GIVEN: "Given",
    Consent.REFUSED: "Refused",
    Consent.NOT_SOUGHT: "Not sought",
}

LADO_TEXT = {
    LadoCriterion.HARMED_CHILD: "has harmed a child, or may have",
    LadoCriterion.CRIMINAL_OFFENCE: "may have committed a criminal offence against or about a child",
    LadoCriterion.RISK_OF_HARM: "has behaved in a way that suggests a risk of harm to children",
    LadoCriterion.NOT_SUITABLE: "may not be suitable to work with children",
}

NOT_GIVEN = "not given"
NOT_RECORDED = "not recorded"


def level_text(level: int | None, threshold: Threshold = DEFAULT_THRESHOLD) -> str:
    """ "Level 3: complex needs" in the authority's words, or that no level was given."""
    if level is None:
        return "Level of need not given"
    wording = threshold.level(level)
    return f"Level {level}: {wording.title}" if wording else f"Level {level}"


def day(value: date) -> str:
    """A date as UK forms write it: 30/09/2017."""
    return value.strftime("%d/%m/%Y")


def london(value: datetime) -> str:
    """A time in London as a reader expects it: 03/03/2026 10:00."""
    return value.astimezone(LONDON).strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True, slots=True)
class ChildEntry:
    """One child concerned, with what the household record says of them."""

    ref: str
    name: str | None
    relationship: Relationship
    lives_with_adult: bool | None
    unborn: bool = False
    birth_date: date | None = None
    age: int | None = None
    postcode: str | None = None
    postcode_is_adults: bool = False
    """True when the child lives with the adult and only the adult's postcode is recorded."""
    age_band: str | None = None
    """When only an estimate of the age is known: its band."""

    @property
    def name_text(self) -> str:
        if self.name:
            return self.name
        return "Unborn child" if self.unborn else "Name not recorded"

    @property
    def age_text(self) -> str:
        """ "age 9", "under 1", "unborn" or "age not known"."""
        if self.unborn:
            return "unborn"
        if self.age is None:
            return f"age about {self.age_band} (estimated)" if self.age_band else "age not known"
        return "under 1" if self.age == 0 else f"age {self.age}"

    @property
    def born_text(self) -> str:
        """Date of birth with age, or what is known instead."""
        if self.birth_date is not None and not self.unborn:
            return f"{day(self.birth_date)} ({self.age_text})"
        return self.age_text

    @property
    def relationship_text(self) -> str:
        if self.unborn:
            return "Unborn child of the adult"
        return RELATIONSHIP_TEXT.get(self.relationship, self.relationship.value)

    @property
    def lives_text(self) -> str:
        return LIVES_TEXT[self.lives_with_adult]

    @property
    def address_text(self) -> str:
        if not self.postcode:
            return NOT_RECORDED
        return f"{self.postcode} (the adult's home)" if self.postcode_is_adults else self.postcode

    def __repr__(self) -> str:  # identifying values stay out of tracebacks and logs
        return f"ChildEntry(ref={self.ref!r})"


@dataclass(frozen=True, slots=True)
class IndicatorEntry:
    """A risk indicator a referral may carry, with words a reader understands."""

    kind: IndicatorKind
    text: str
    """The entry's own display or label, else the kind in words."""
    system: str | None = None
    code: str | None = None

    @property
    def kind_text(self) -> str:
        return INDICATOR_TEXT[self.kind]

    @property
    def words(self) -> str:
        """ "Mental ill health: psychosis", or the kind alone when it says it all."""
        return self.kind_text if self.text == self.kind_text else f"{self.kind_text}: {self.text}"

    @property
    def line(self) -> str:
        """ "Mental ill health: psychosis (F20.9)"."""
        return f"{self.words} ({self.code})" if self.code else self.words


@dataclass(frozen=True, slots=True)
class ReferralContent:
    """Everything a referral says, settled once; each channel lays it out its own way."""

    referral_id: str
    reference: str
    """The idempotency key: the ThinkFamily reference a receiver de-duplicates on."""
    original_reference: str
    """The reference of the referral this one is, or amends."""
    action: ReferralAction
    amends: str | None
    change_reasons: str
    """For an update or cancellation: why the referral changed."""
    made_at: datetime
    due_by: datetime
    urgent: bool
    immediate_danger: bool
    route: Route
    """The route the decision called for."""
    authority_id: str | None
    authority_name: str
    trust_name: str
    level_of_need: int | None
    concern: str
    children: tuple[ChildEntry, ...]
    adult: Person | None
    indicators: tuple[IndicatorEntry, ...]
    what_shared: str
    lawful_basis: LawfulBasis | None
    consent: Consent | None
    consent_not_sought_reason: str
    referrer: Professional | None
    lado_criteria: tuple[LadoCriterion, ...] = ()
    sent_route: Route | None = None
    """Where it goes at the time it is sent: out of hours, the emergency duty team."""
    threshold: Threshold = DEFAULT_THRESHOLD
    """The authority's level-of-need wording and front-door name."""

    @property
    def level_text(self) -> str:
        return level_text(self.level_of_need, self.threshold)

    @property
    def urgency_text(self) -> str:
        if self.immediate_danger:
            return "Immediate danger"
        return "Urgent" if self.urgent else "Routine"

    @property
    def route_text(self) -> str:
        route = self.sent_route or self.route
        return ROUTE_TEXT.get(route, route.value)

    @property
    def authority_text(self) -> str:
        return self.authority_name or self.authority_id or "Local authority not confirmed"

    @property
    def basis_text(self) -> str:
        if self.lawful_basis is None:
            return NOT_GIVEN
        return f"{BASIS_TEXT[self.lawful_basis]} (UK GDPR Article 6)"

    @property
    def consent_text(self) -> str:
        return CONSENT_TEXT[self.consent] if self.consent else NOT_RECORDED

    @property
    def headline_route(self) -> str:
        """The route, with the front door's own name when the authority gives one."""
        name = self.threshold.front_door_name
        if name and (self.sent_route or self.route) is Route.FRONT_DOOR:
            return f"{name} ({self.route_text})"
        return self.route_text

    @property
    def headline(self) -> str:
        """Urgency, level, authority and route on one line."""
        return " · ".join(
            (self.urgency_text, self.level_text, self.authority_text, self.headline_route)
        )

    def __repr__(self) -> str:
        return f"ReferralContent(referral_id={self.referral_id!r})"


def referral_content(
    referral: Referral,
    *,
    contact: FirstContact | None = None,
    assessment: Assessment | None = None,
    decision: Decision | None = None,
    destination: Destination | None = None,
    trust_name: str = "",
) -> ReferralContent:
    """The dataset of one referral; parts whose source is not known are left empty."""
    adult = contact.patient if contact is not None else None
    indicators = assessment.indicators if assessment else (contact.indicators if contact else ())
    change = referral.reasons if referral.action is not ReferralAction.NEW else ""
    return ReferralContent(
        referral_id=referral.id,
        reference=referral.idempotency_key,
        original_reference=referral.original_key,
        action=referral.action,
        amends=referral.amends,
        change_reasons=change,
        made_at=referral.created_at,
        due_by=referral.due_by,
        urgent=referral.urgent,
        immediate_danger=decision.immediate_danger if decision else False,
        route=referral.route,
        sent_route=destination.route if destination else None,
        authority_id=referral.authority_id,
        authority_name=_authority_name(referral, assessment, destination),
        trust_name=trust_name,
        level_of_need=referral.level_of_need,
        concern=(decision.reasons if decision else "") or (referral.reasons if not change else ""),
        children=_children(referral, contact, assessment, adult),
        adult=adult,
        indicators=_indicators(for_referral(indicators)),
        what_shared=decision.what_shared if decision else "",
        lawful_basis=(decision.lawful_basis if decision else None) or referral.lawful_basis,
        consent=decision.consent if decision else None,
        consent_not_sought_reason=decision.consent_not_sought_reason if decision else "",
        referrer=decision.decided_by if decision else None,
        lado_criteria=decision.lado_criteria if decision else (),
        threshold=(destination.threshold if destination else None) or DEFAULT_THRESHOLD,
    )


def concerned(referral: Referral, children: tuple[Child, ...]) -> tuple[Child, ...]:
    """The children the referral names, or every child when it names none."""
    wanted = set(referral.child_refs)
    return tuple(c for c in children if not wanted or c.ref in wanted)


def _children(
    referral: Referral,
    contact: FirstContact | None,
    assessment: Assessment | None,
    adult: Person | None,
) -> tuple[ChildEntry, ...]:
    if assessment is None:  # only the references are known
        return tuple(
            ChildEntry(ref=ref, name=None, relationship=Relationship.CHILD, lives_with_adult=None)
            for ref in referral.child_refs
        )
    household = contact.household if contact else None
    return tuple(_entry(c, household, adult) for c in concerned(referral, assessment.children))


def _entry(
    child: Child, household: tuple[HouseholdMember, ...] | None, adult: Person | None
) -> ChildEntry:
    # An assessment stored before children carried names: the household record still has them.
    member = None if child.unborn else member_for(child.ref, household)
    name = child.name or (member.name if member else None)
    birth = child.birth_date or (member.birth_date if member else None)
    postcode = child.postcode or (member.postcode if member else None)
    from_adult = False
    if not postcode and child.lives_with_patient and adult is not None and adult.postcode:
        postcode, from_adult = adult.postcode, True
    return ChildEntry(
        ref=child.ref,
        name=name,
        relationship=child.relationship,
        lives_with_adult=child.lives_with_patient,
        unborn=child.unborn,
        birth_date=birth,
        age=child.age,
        postcode=postcode,
        postcode_is_adults=from_adult,
        age_band=child.age_band,
    )


def _indicators(found: tuple[RiskIndicator, ...]) -> tuple[IndicatorEntry, ...]:
    entries = (
        IndicatorEntry(
            kind=i.kind,
            text=(i.display or i.label or INDICATOR_TEXT[i.kind]).strip(),
            system=i.system,
            code=i.code,
        )
        for i in found
    )
    return tuple(dict.fromkeys(entries))  # the same entry from two sources is shown once


def _authority_name(
    referral: Referral, assessment: Assessment | None, destination: Destination | None
) -> str:
    if destination is not None and destination.authority is not None:
        return destination.authority.name
    found = assessment.authority.authority if assessment else None
    if found is not None and found.id == referral.authority_id:
        return found.name
    return ""
