"""Words the pages show for the model's codes: short, plain British English."""

from __future__ import annotations

from plugin_core.formats.referral_content import RELATIONSHIP_TEXT
from plugin_core.formats.referral_text import INDICATOR_TEXT
from plugin_core.model import (
    Consent,
    EscalationKind,
    LadoCriterion,
    LawfulBasis,
    Route,
    Severity,
)
from plugin_core.rules.levels import DEFAULT_LEVELS, capitalised

SEVERITY = {
    Severity.INFO: "Information",
    Severity.WARNING: "Warning",
    Severity.CRITICAL: "Critical",
}

LEVELS = tuple((n, capitalised(w.title), w.descriptor) for n, w in DEFAULT_LEVELS.items())
"""The levels of need in the product's words; the form shows an authority's own when known."""

LAWFUL_BASIS = (
    (LawfulBasis.PUBLIC_TASK, "Public task"),
    (LawfulBasis.LEGAL_OBLIGATION, "Legal obligation"),
    (LawfulBasis.CONSENT, "Consent"),
    (LawfulBasis.VITAL_INTERESTS, "Vital interests"),
)

CONSENT_BASIS_WARNING = (
    "Consent is rarely the right basis for sharing to protect a child: it can be withdrawn, "
    "and it limits what children's services may do with what you share. Public task or legal "
    "obligation usually applies."
)

LADO_CRITERIA = (
    (LadoCriterion.HARMED_CHILD, "Has harmed a child, or may have"),
    (
        LadoCriterion.CRIMINAL_OFFENCE,
        "May have committed a criminal offence against or about a child",
    ),
    (
        LadoCriterion.RISK_OF_HARM,
        "Has behaved towards a child or children in a way that suggests a risk of harm to children",
    ),
    (
        LadoCriterion.NOT_SUITABLE,
        "Has behaved, or may have, in a way that suggests they may not be suitable to work with "
        "children (including in their private life)",
    ),
)

ESCALATION_KINDS = {
    EscalationKind.NOT_SHARED: "Escalated to",
    EscalationKind.OVERRIDE: "Trust safeguarding lead alerted",
}

CONSENT = (
    (Consent.GIVEN, "Given"),
    (Consent.REFUSED, "Refused"),
    (Consent.NOT_SOUGHT, "Not sought"),
)

INDICATORS = INDICATOR_TEXT

RELATIONSHIPS = RELATIONSHIP_TEXT
"""The same words the referral uses, so the form and the authority read alike."""

ROUTES = {
    Route.EARLY_HELP: "Early help",
    Route.FRONT_DOOR: "Children's services front door",
    Route.OUT_OF_HOURS: "Emergency duty team (out of hours)",
    Route.POLICE: "Police",
    Route.LADO: "LADO (allegations about people who work with children)",
}

FIELD_LABELS = {
    "share": "Share information",
    "level_of_need": "Level of need",
    "reasons": "Reasons",
    "what_shared": "What is shared",
    "lawful_basis": "Lawful basis",
    "consent": "Consent",
    "consent_not_sought_reason": "Why consent was not sought",
    "immediate_danger": "Immediate danger",
    "concerns_person_working_with_children": "Someone who works with children",
    "no_action_override_reason": "Reason for not referring",
    "consent_basis_confirmed": "Consent as the basis",
    "lado_criteria": "LADO criteria",
    "escalated_to": "Safeguarding lead you told",
    "escalated_to.name": "Lead's name",
    "escalated_to.role": "Lead's role",
    "escalated_to.contact": "Lead's phone or email",
    "advice_sought.name": "Adviser's name",
    "advice_sought.role": "Adviser's role",
    "advice_sought.sought_at": "When you asked",
    "advice_sought.advice": "What they advised",
    "authority_id": "Local authority",
    "child_refs": "Children concerned",
    "decided_by": "Decided by",
    "decided_by.name": "Your name",
    "decided_by.role": "Your role",
    "decided_by.team": "Your team or ward",
    "decided_by.phone": "Your direct phone",
    "decided_by.email": "Your email",
    "id": "Form",
}


def lives_with(value: bool | None) -> str:
    return {True: "lives with the patient", False: "lives elsewhere", None: "home not known"}[value]
