"""The professional's information-sharing decision, and its escalation when nothing is shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from plugin_core.model_checks import check_fields, require_aware


class LawfulBasis(StrEnum):
    """UK GDPR Article 6 bases that fit safeguarding information sharing."""

    PUBLIC_TASK = "public_task"
    LEGAL_OBLIGATION = "legal_obligation"
    CONSENT = "consent"
    VITAL_INTERESTS = "vital_interests"


class Consent(StrEnum):
    """Whether the adult's agreement to share was sought, and the answer."""

    GIVEN = "given"
    REFUSED = "refused"
    NOT_SOUGHT = "not_sought"


class LadoCriterion(StrEnum):
    """Which of the criteria for the LADO a concern about someone who works with children meets.

    The first three are Working Together's. The fourth, suitability, covers a risk that may
    transfer from the person's private life to their work (added by Keeping Children Safe in
    Education 2020 and used by London LADO services); without it such a concern could not be
    recorded.
    """

    HARMED_CHILD = "harmed_child"
    CRIMINAL_OFFENCE = "criminal_offence"
    RISK_OF_HARM = "risk_of_harm"
    NOT_SUITABLE = "not_suitable"


class EscalationKind(StrEnum):
    """Why a decision not to share was put before a safeguarding lead."""

    NOT_SHARED = "not_shared"
    """Level 3 or 4 not shared: escalated by the professional to the lead they name."""
    OVERRIDE = "override"
    """A referral the rules call for was overridden: the trust's safeguarding lead is alerted."""


@dataclass(frozen=True, slots=True)
class Professional:
    """Who made a decision: an id the host knows, with role for the audit trail, and how the
    receiving authority reaches them about a referral (team, direct phone, email)."""

    id: str
    role: str = ""
    organisation: str = ""
    name: str = ""
    team: str = ""
    phone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        check_fields(self)

    def __repr__(self) -> str:
        return f"Professional(id={self.id!r})"

    @property
    def reachable(self) -> bool:
        """A direct phone or an email is given: the authority can call back about a referral."""
        return bool(self.phone.strip() or self.email.strip())


@dataclass(frozen=True, slots=True)
class Lead:
    """A safeguarding lead a decision is escalated to: a professional, never the patient."""

    name: str
    role: str = ""
    contact: str = ""
    """A phone number or email address, as given."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class AdviceSought:
    """Advice sought before deciding (golden rule 3): from whom, when, and what was advised."""

    name: str = ""
    role: str = ""
    sought_at: datetime | None = None
    advice: str = ""

    def __post_init__(self) -> None:
        check_fields(self)
        require_aware("advice_sought.sought_at", self.sought_at)

    def __repr__(self) -> str:  # the advice is free text and may name the patient
        return f"AdviceSought(role={self.role!r}, sought_at={self.sought_at!r})"


@dataclass(frozen=True, slots=True)
class Decision:
    """The professional's recorded information-sharing decision, sharing or not."""

    id: str
    contact_id: str
    decided_by: Professional
    decided_at: datetime
    share: bool
    reasons: str
    level_of_need: int | None = None
    lawful_basis: LawfulBasis | None = None
    consent: Consent | None = None
    consent_not_sought_reason: str = ""
    immediate_danger: bool = False
    concerns_person_working_with_children: bool = False
    no_action_override_reason: str = ""
    what_shared: str = ""
    authority_id: str | None = None
    child_refs: tuple[str, ...] = ()
    consent_basis_confirmed: bool = False
    """The professional has read why consent is rarely the right basis, and still chose it."""
    lado_criteria: tuple[LadoCriterion, ...] = ()
    escalated_to: Lead | None = None
    """For a decision not to share at level 3 or 4: the safeguarding lead it was escalated to."""
    advice_sought: AdviceSought | None = None
    supersedes: str | None = None
    """The id of the contact's decision this one replaces; required once a contact has one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require_aware("decided_at", self.decided_at)

    def __repr__(self) -> str:
        return f"Decision(id={self.id!r}, contact_id={self.contact_id!r}, share={self.share!r})"


@dataclass(frozen=True, slots=True)
class DecisionEscalation:
    """A decision not to share put before a safeguarding lead.

    Holds ids, the level, the kind and the lead only: never the reasons (free text may name
    the patient), which stay with the decision.
    """

    id: str
    decision_id: str
    contact_id: str
    kind: EscalationKind
    lead: Lead
    escalated_by: str
    created_at: datetime
    level_of_need: int | None = None
    immediate_danger: bool = False

    def __post_init__(self) -> None:
        check_fields(self)
        require_aware("created_at", self.created_at)
