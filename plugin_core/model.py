"""The domain model: frozen dataclasses that hooks take and return.

Every value crossing a hook is one of these, validated in ``__post_init__`` so that a plugin
returning something malformed fails where it is made, not deep inside a rule: enumerations,
dates, date-times, flags and nested values are checked by type (see
:mod:`plugin_core.model_checks`), then each class checks its own rules.
Unknown is not no: a household nobody asked about is ``None``, never an empty tuple.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from plugin_core.model_checks import ModelError as ModelError
from plugin_core.model_checks import check_fields
from plugin_core.rules.levels import Threshold


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ModelError(f"{name} must carry a time zone")


class Relationship(StrEnum):
    """Relationship of a household member to the adult, normalised from host vocabularies.

    The words and codes that map to each term live in the trust's relationships file
    (``config/relationships.toml``). A word nobody recognises reads as ``unknown``.
    """

    CHILD = "child"
    STEPCHILD = "stepchild"
    ADOPTED_CHILD = "adopted_child"
    FOSTER_CHILD = "foster_child"
    PARTNERS_CHILD = "partners_child"
    """A child of the adult's partner who is not legally the adult's stepchild."""
    GRANDCHILD = "grandchild"
    NIECE_NEPHEW = "niece_nephew"
    WARD = "ward"
    SIBLING = "sibling"
    PARTNER = "partner"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    OTHER_ADULT = "other_adult"
    """Someone who is an adult by what they are: the adult's guardian, employer, themself."""
    OTHER = "other"
    """A relationship outside the family that says nothing of age: friend, lodger, carer."""
    UNKNOWN = "unknown"

    @property
    def is_child_kind(self) -> bool:
        """True for relationships that name someone the adult may care for as a child."""
        return self in _CHILD_KINDS

    @property
    def is_adult_only(self) -> bool:
        """True for relationships only an adult can have to the adult: partner, parent.

        Only these let a member with no date of birth be left out of the children; any other
        relationship, known or not, keeps them in as a child whose age is not known.
        """
        return self in _ADULT_ONLY_KINDS


_CHILD_KINDS = frozenset(
    {
        Relationship.CHILD,
        Relationship.STEPCHILD,
        Relationship.ADOPTED_CHILD,
        Relationship.FOSTER_CHILD,
        Relationship.PARTNERS_CHILD,
        Relationship.GRANDCHILD,
        Relationship.NIECE_NEPHEW,
        Relationship.WARD,
    }
)

_ADULT_ONLY_KINDS = frozenset(
    {
        Relationship.PARTNER,
        Relationship.PARENT,
        Relationship.GRANDPARENT,
        Relationship.OTHER_ADULT,
    }
)


class IndicatorKind(StrEnum):
    """What a risk indicator in the adult's record stands for."""

    SUBSTANCE_MISUSE = "substance_misuse"
    MENTAL_HEALTH = "mental_health"
    DOMESTIC_ABUSE = "domestic_abuse"
    CHILD_PROTECTION = "child_protection"
    PREGNANCY = "pregnancy"
    PREGNANCY_ENDED = "pregnancy_ended"
    """A pregnancy that has ended (miscarriage, termination, ectopic): not a current pregnancy."""
    POSTNATAL = "postnatal"
    """A recent birth: a newborn is implied even when the household lists no children."""
    OTHER = "other"


class Severity(StrEnum):
    """CDS Hooks card indicator values, in rising order."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class PromptCode(StrEnum):
    """Stable prompt codes used by hosts and tests."""

    RECORD_HOUSEHOLD = "record-household"
    CONSIDER_CHILDREN = "consider-children"
    CONSIDER_UNBORN = "consider-unborn"
    CONFIRM_AUTHORITY = "confirm-authority"
    CALL_NOW = "call-now"


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


class Route(StrEnum):
    """Where a referral goes within (or beside) the local authority."""

    EARLY_HELP = "early_help"
    FRONT_DOOR = "front_door"
    OUT_OF_HOURS = "out_of_hours"
    POLICE = "police"
    LADO = "lado"


class Channel(StrEnum):
    """How a referral travels to its destination.

    The four members are ThinkFamily's own. A host's own channel (a file drop, a vendor's API)
    is any name of ``x-`` then lower-case letters, digits and hyphens, up to 64 characters:
    ``Channel("x-acme-filedrop")`` gives a member made for that name (the same object each
    time), so a route, a destination, a receipt and the audit trail carry the true channel.
    Such members are not listed when iterating the class. The plugin that declares the name
    with ``thinkfamily_channels`` delivers it.
    """

    FHIR = "fhir"
    HL7 = "hl7"
    EMAIL = "email"
    PHONE = "phone"

    @classmethod
    def _missing_(cls, value: object) -> Channel | None:
        if isinstance(value, str) and len(value) <= 64 and _HOST_CHANNEL.fullmatch(value):
            member = str.__new__(cls, value)
            member._name_ = value
            member._value_ = value
            found: Channel = cls._value2member_map_.setdefault(value, member)  # type: ignore[assignment]
            return found
        return None

    @property
    def is_host(self) -> bool:
        """True for a host's own channel (``x-...``), delivered by the plugin declaring it."""
        return self.value.startswith("x-")


_HOST_CHANNEL = re.compile(r"x-[a-z0-9]+(?:-[a-z0-9]+)*")


class ReferralAction(StrEnum):
    """What a referral message asks of the receiver: a new referral, or a change to one sent."""

    NEW = "new"
    UPDATE = "update"
    CANCEL = "cancel"


class ReferralStatus(StrEnum):
    """Life of a referral from decision to acknowledgement."""

    PENDING = "pending"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"
    ESCALATED = "escalated"
    CALL_REQUIRED = "call_required"
    CANCELLED = "cancelled"


class ContactState(StrEnum):
    """Where a recorded contact stands: waiting for a decision, or settled one way or another."""

    OPEN = "open"
    """Prompts were shown; no decision is recorded yet."""
    NO_ACTION_NEEDED = "no-action-needed"
    """Nothing to prompt about."""
    SUPPRESSED = "suppressed"
    """Prompts not shown: a decision for the adult in its re-check period covers them."""
    DECIDED = "decided"
    """A decision that made no referral (a decision not to share) is recorded."""
    REFERRED = "referred"
    """A decision to share is recorded and its referrals are in the outbox."""


KEY_PREFIX = "tf-"
"""What every referral's idempotency key starts with."""


def referral_id(*parts: str) -> str:
    """A stable referral id from what makes the referral unique: the same parts, the same id."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def referral_key(rid: str) -> str:
    """The idempotency key a referral, or the referral it amends, travels under.

    The one place keys are made: receivers match an update or a cancellation to the original
    by this key, so every transport must spell it the same way.
    """
    return f"{KEY_PREFIX}{rid}"


@dataclass(frozen=True, slots=True)
class Person:
    """The adult the contact is about. Identifying fields never reach logs."""

    id: str
    """The host's own id for the adult: the re-check period follows the adult by it."""
    nhs_number: str | None = None
    name: str | None = None
    birth_date: date | None = None
    postcode: str | None = None
    """Where the adult lives: locates the authority when no child's postcode is known."""
    sex: str | None = None
    """As the host records it (administrative sex), for referral messages."""

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.id:
            raise ModelError("person id is required")

    def __repr__(self) -> str:  # keeps identifying values out of tracebacks and logs
        return f"Person(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    """Someone the host says is in the adult's household or family.

    ``lives_with_patient`` is True, False or None when nobody knows.
    """

    relationship: Relationship
    """To the adult, normalised (``normalise_relationship``); ``unknown`` when not recognised."""
    id: str | None = None
    """The host's id for the member, when it has one."""
    name: str | None = None
    birth_date: date | None = None
    """Without it the member is kept as a child of unknown age, unless the relationship is
    adult-only (partner, parent, grandparent, other adult)."""
    lives_with_patient: bool | None = None
    postcode: str | None = None
    """Where the member lives, when not with the adult: locates the authority for them."""
    source: str = "contact"
    """Which system said so (``contact``, ``ehr``): shown to the professional and audited."""
    unrecognised_relationship: str | None = None
    """The host's relationship word or code when nobody recognised it (``relationship`` is
    then ``unknown``), so the professional sees what was written and the trust can add it."""
    age_band: str | None = None
    """For a member whose date of birth nobody knows but whose age was estimated: the band the
    estimate falls in (``5 to 9``). The member is kept as a child of unknown exact age."""

    def __post_init__(self) -> None:
        check_fields(self)

    def __repr__(self) -> str:
        return f"HouseholdMember(id={self.id!r}, relationship={self.relationship.value!r})"


@dataclass(frozen=True, slots=True)
class Encounter:
    """The episode of care in which the contact happens."""

    id: str
    """The host's id for the encounter (for HL7, the visit number)."""
    kind: str = "unknown"
    """The class of care as the host names it (``inpatient``, ``emergency``, ...)."""
    location: str | None = None
    """The ward or unit, as the host names it."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class RiskIndicator:
    """A coded entry in the adult's record that bears on children's welfare."""

    kind: IndicatorKind
    """What the entry stands for; ``other`` with a ``system`` and ``code`` to let the trust's
    code lists classify it."""
    system: str | None = None
    """The code system's URI, OID or a name the code lists declare (``ICD-10``)."""
    code: str | None = None
    display: str | None = None
    """The host's text for the code; not used by the rules."""
    source: str = "contact"
    """Which system said so (``contact``, ``ehr``)."""
    weight: Severity | None = None
    """How much the entry weighs on children's welfare; None until classified (see severity.py)."""
    rationale: str = ""
    """The clinical reason for the weight, from the code list or the default for the kind."""
    label: str = ""
    """A short plain name for the entry ("psychosis"), used when explaining a severity."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class FirstContact:
    """A professional's first contact with an adult, as the adapter understood it.

    :param household: members known for this contact; ``None`` when never asked.
    :param household_recorded_at: when the household was last recorded; ``None`` means at
        ``occurred_at`` when ``household`` is given.
    """

    id: str
    """Unique for the contact; the service records each id once."""
    occurred_at: datetime
    """When the contact happened, with its time zone; ages are worked out on this date."""
    patient: Person
    encounter: Encounter | None = None
    household: tuple[HouseholdMember, ...] | None = None
    """Members carried on the contact itself; ``None`` when nobody asked (never ``()``)."""
    household_recorded_at: datetime | None = None
    indicators: tuple[RiskIndicator, ...] = ()
    """Indicators carried on the contact; plugins add theirs through the hooks."""
    pregnant: bool | None = None
    """True adds an unborn child; ``None`` when not known."""
    source: str = "json"
    """Which reader made the contact (``json``, ``hl7``, ``fhir``, ``api``): audited."""

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.id:
            raise ModelError("contact id is required")
        _require_aware("occurred_at", self.occurred_at)
        _require_aware("household_recorded_at", self.household_recorded_at)
        if self.household is not None and not isinstance(self.household, tuple):
            raise ModelError("household must be a tuple or None")

    def __repr__(self) -> str:
        return f"FirstContact(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class Child:
    """A child derived from the household: under 18 on the contact date, or unborn.

    ``age`` is None for the unborn and for a member whose age is not known: someone with no
    usable date of birth whose relationship does not rule out a child.
    """

    ref: str
    age: int | None
    relationship: Relationship
    lives_with_patient: bool | None
    unborn: bool = False
    birth_date: date | None = None
    postcode: str | None = None
    name: str | None = None
    """The name the household record gives, kept so a referral and the form can name the child
    even when the host sent no member id."""
    age_band: str | None = None
    """When only an estimate of the age is known: its band (``5 to 9``); ``age`` stays None."""

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def age_known(self) -> bool:
        """False when the professional must find out the child's age; an unborn child has none."""
        return self.unborn or self.age is not None

    def __repr__(self) -> str:
        return f"Child(ref={self.ref!r}, age={self.age!r}, unborn={self.unborn!r})"


@dataclass(frozen=True, slots=True)
class Authority:
    """A local authority from the trust's directory, as chosen for a contact."""

    id: str
    """The authority's key in the trust's directory (``[authorities.<id>]``): an id that is
    not there is not taken, and the professional is asked to confirm the authority."""
    name: str
    """Shown to the professional; the directory's name replaces a plugin's."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class AuthorityMatch:
    """Result of locating the responsible authority: one, several (ambiguous) or none."""

    authority: Authority | None
    """The one responsible authority, or ``None`` when it is ambiguous or not known."""
    candidates: tuple[Authority, ...] = ()
    """The authorities it could be, offered to the professional to choose from."""
    reason: str = ""
    """How it was found (``from postcode``), or why not, in plain words."""

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def known(self) -> bool:
        return self.authority is not None


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something the professional should do now, shown as a card, worklist row or host call."""

    code: PromptCode
    severity: Severity
    summary: str
    detail: str = ""
    severity_reason: str = ""
    """Why the prompt has its severity, in a few plain words, for the professional and the audit."""

    def __post_init__(self) -> None:
        check_fields(self)
        if len(self.summary) > 140:
            raise ModelError(f"prompt {self.code.value} summary is over 140 characters")


@dataclass(frozen=True, slots=True)
class Assessment:
    """What ThinkFamily concluded for one contact."""

    contact_id: str
    assessed_at: datetime
    household_known: bool
    children: tuple[Child, ...]
    indicators: tuple[RiskIndicator, ...]
    prompts: tuple[Prompt, ...]
    authority: AuthorityMatch
    unrecognised_relationships: tuple[str, ...] = ()
    """Relationship words from the household that nobody recognised; those members are kept."""
    unclassified: tuple[tuple[str, str], ...] = ()
    """(system, code) of entries whose code system is unrecognised or missing: never dropped
    silently. Codes are not patient identifiers; an empty system means none was sent."""

    def __post_init__(self) -> None:
        check_fields(self)

    def prompt(self, code: PromptCode) -> Prompt | None:
        return next((p for p in self.prompts if p.code is code), None)


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
        _require_aware("advice_sought.sought_at", self.sought_at)

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
        _require_aware("decided_at", self.decided_at)

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
        _require_aware("created_at", self.created_at)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where and how one referral is delivered, for the time it is sent."""

    authority: Authority | None
    """``None`` for the police, and when the authority was never confirmed."""
    route: Route
    """The route in effect now: ``front_door`` out of office hours becomes ``out_of_hours``."""
    channel: Channel
    """The route's channel in the directory; a host channel (``x-...``) as named there."""
    address: str
    """The route's ``address`` (a URL, ``host:port``, an email address or the host channel's
    own); for the phone channel, the number."""
    in_hours: bool
    """Whether the route is open at the time of sending: its own office hours in the directory,
    or else the authority's."""
    phones: tuple[str, ...] = ()
    """Numbers to ring when delivery fails or a call is needed; for a route that is closed,
    the numbers to ring once it opens."""
    label: str = ""
    """The route's label in the directory, or why there is no contact."""
    opens_at: datetime | None = None
    """For a route that is closed and not urgent: when it next opens (Europe/London). The
    referral is sent now and waits for then; a call, if one is needed, is for then."""
    threshold: Threshold | None = None
    """The authority's level-of-need wording and front-door name, which the referral uses;
    None for the product's own wording."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class Call:
    """A number to ring about a referral, and whether anyone answers it now."""

    number: str
    label: str
    """Who answers: the route's label in the directory, or the authority and route."""
    available_now: bool
    available_from: datetime | None = None
    """When not available now: when the route is next staffed (Europe/London)."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral made by a sharing decision; written with it in one transaction."""

    id: str
    decision_id: str
    contact_id: str
    route: Route
    level_of_need: int | None
    urgent: bool
    idempotency_key: str
    created_at: datetime
    due_by: datetime
    authority_id: str | None
    child_refs: tuple[str, ...] = ()
    reasons: str = ""
    lawful_basis: LawfulBasis | None = None
    action: ReferralAction = ReferralAction.NEW
    amends: str | None = None
    """For an update or a cancellation: the id of the referral it changes."""

    def __post_init__(self) -> None:
        check_fields(self)
        _require_aware("created_at", self.created_at)
        _require_aware("due_by", self.due_by)
        if (self.action is ReferralAction.NEW) != (self.amends is None):
            raise ModelError(
                "an update or cancellation names the referral it amends; a new one does not"
            )

    @property
    def original_key(self) -> str:
        """The idempotency key of the referral this one is, or amends."""
        return referral_key(self.amends) if self.amends else self.idempotency_key


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a transport says happened to one delivery attempt.

    ``acknowledged`` is True when the receiver confirmed it took the referral (an HL7
    application ACK, a FHIR response); a plain hand-over is ``delivered`` only.
    """

    channel: Channel
    """The channel the referral actually went by; recorded in the audit trail."""
    delivered: bool
    """The receiver took it (a hand-over, such as SMTP acceptance)."""
    acknowledged: bool = False
    reference: str = ""
    """The transport's own reference (a message id): written to the audit trail."""
    detail: str = ""
    """The transport's own words about the attempt, no patient details: written to the audit
    trail (the first 200 characters)."""
    retryable: bool = True
    """For an attempt not delivered: True to try again later, False to ask for a phone call."""
    extra: dict[str, str] = field(default_factory=dict)
    """Transport-specific references kept with the receipt (ids only)."""
    opens_at: datetime | None = None
    """Set by ThinkFamily, not the transport: for a referral sent to a route that was closed,
    when the route next opens (Europe/London), the working day the referral is for."""

    def __post_init__(self) -> None:
        check_fields(self)


class HouseholdOutcome(StrEnum):
    """What the professional recorded when asked who lives with the adult."""

    NO_CHILDREN = "no_children"
    """Confirmed: no children under 18 in the household."""
    CHILDREN = "children"
    """One or more children (or a pregnancy) recorded."""
    DECLINED = "declined"
    """The patient declined or could not answer. Never read as no children: the household stays
    unknown and the question is asked again at the next contact."""


@dataclass(frozen=True, slots=True)
class HouseholdChild:
    """One child as the professional entered them on the household question."""

    name: str
    relationship: Relationship
    lives_with_patient: bool
    birth_date: date | None = None
    estimated_age: int | None = None
    """Whole years, when the date of birth is not known."""
    school: str = ""
    """School or nursery, when known."""

    def __post_init__(self) -> None:
        check_fields(self)

    def __repr__(self) -> str:
        return f"HouseholdChild(relationship={self.relationship.value!r})"


@dataclass(frozen=True, slots=True)
class HouseholdAnswer:
    """The household as recorded by a professional for one contact, with who and when."""

    id: str
    contact_id: str
    outcome: HouseholdOutcome
    recorded_by: Professional
    recorded_at: datetime
    children: tuple[HouseholdChild, ...] = ()
    pregnant: bool | None = None
    """None when not known (and always for a declined answer)."""

    def __post_init__(self) -> None:
        check_fields(self)
        _require_aware("recorded_at", self.recorded_at)
        if self.children and self.outcome is not HouseholdOutcome.CHILDREN:
            raise ModelError("only a household with children lists children")

    def __repr__(self) -> str:
        return f"HouseholdAnswer(id={self.id!r}, outcome={self.outcome.value!r})"


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """A phone call made about a referral: who answered, when, and what they said.

    A call with a reference from the authority acknowledges the referral; one without is a
    delivery only, so the referral still waits for acknowledgement.
    """

    id: str
    referral_id: str
    number: str
    """The number rung."""
    answered_by: str
    """The name and role of who answered at the authority."""
    called_at: datetime
    recorded_by: Professional
    recorded_at: datetime
    reference: str = ""
    """The authority's reference for the referral, when given."""
    advice: str = ""
    """What the authority advised; free text that may name the family."""

    def __post_init__(self) -> None:
        check_fields(self)
        _require_aware("called_at", self.called_at)
        _require_aware("recorded_at", self.recorded_at)

    @property
    def acknowledged(self) -> bool:
        return bool(self.reference.strip())

    def __repr__(self) -> str:
        return f"PhoneCall(id={self.id!r}, referral_id={self.referral_id!r})"
