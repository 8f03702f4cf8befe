"""The referral's wording: what each code means to a reader, and dates as UK forms write them.

Shared by every channel that lays out a referral, so the words are the same in the FHIR message,
the HL7 REF^I12, the email and the PDF.
"""

from __future__ import annotations

from datetime import date, datetime

from plugin_core.model import (
    Consent,
    IndicatorKind,
    LadoCriterion,
    LawfulBasis,
    Relationship,
    Route,
)
from plugin_core.rules.clock import LONDON
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
