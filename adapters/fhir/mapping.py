"""FHIR R4 resources to a FirstContact.

Resources are validated with the ``fhir.resources.R4B`` models at the boundary, then mapped;
the core never sees a FHIR model. Unknown is not no: with no RelatedPerson and no household
composition Observation, the household is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson
from pydantic import ValidationError

from adapters.fhir import codes, light
from adapters.fhir.errors import FhirBundleInvalid
from adapters.fhir.people import encounter_of, household_member, person_of
from plugin_core.model import (
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    RiskIndicator,
)
from plugin_core.settings.code_lists import CodeLists

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "RelatedPerson": RelatedPerson,
    "Encounter": FhirEncounter,
    "Condition": Condition,
    "Observation": Observation,
    "Flag": Flag,
}
INACTIVE_CONDITION = {"inactive", "resolved", "remission"}
REFUTED = {"refuted", "entered-in-error"}


@dataclass
class PatientRecord:
    """The raw resources gathered for one adult, from a Bundle, a prefetch or a server."""

    patient: dict[str, Any]
    encounter: dict[str, Any] | None = None
    related_persons: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    paths: dict[int, str] = field(default_factory=dict)
    """JSON path of each resource (by ``id()``) in its source, for error messages."""


def contact_id_for(patient_id: str, encounter_id: str | None, suffix: str) -> str:
    """A contact id that names its FHIR patient and encounter, so write-back finds them.

    FHIR ids cannot hold ``:``, so the parts split back unambiguously.
    """
    return f"fhir:{patient_id}:{encounter_id or '-'}:{suffix}"


def hook_instance_of(contact_id: str) -> str | None:
    """The suffix given to :func:`contact_id_for` (a CDS hook instance), else None."""
    parts = contact_id.split(":", 3)
    if len(parts) < 4 or parts[0] != "fhir":
        return None
    return parts[3]


def split_contact_id(contact_id: str) -> tuple[str, str | None] | None:
    """(patient id, encounter id) of a contact made by this adapter, else None."""
    parts = contact_id.split(":")
    if len(parts) < 4 or parts[0] != "fhir" or not parts[1]:
        return None
    return parts[1], (None if parts[2] == "-" else parts[2])


def validated(resource: dict[str, Any], path: str) -> Any:
    """The R4B model of ``resource`` (or, for a plain resource, a view equal to it: see
    :mod:`adapters.fhir.light`), or FhirBundleInvalid naming the path of the first fault."""
    view = light.read(resource)
    if view is not None:
        return view
    kind = resource.get("resourceType")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise FhirBundleInvalid(f"{path}.resourceType: expected one of {', '.join(MODELS)}")
    try:
        return model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        message = first.get("msg", "is not valid")
        if str(first.get("input", "\0")) in message:
            message = "is not valid"
        raise FhirBundleInvalid(f"{path}{where}: {message}") from None


def to_contact(
    record: PatientRecord,
    code_lists: CodeLists,
    *,
    contact_id: str,
    occurred_at: datetime | None = None,
) -> FirstContact:
    """Map the adult's resources to a FirstContact."""

    def path_of(resource: dict[str, Any], fallback: str) -> str:
        return record.paths.get(id(resource), fallback)

    patient = validated(record.patient, path_of(record.patient, "$.Patient"))
    person = person_of(patient)
    encounter = None
    start: datetime | None = None
    if record.encounter is not None:
        fhir_encounter = validated(record.encounter, path_of(record.encounter, "$.Encounter"))
        encounter = encounter_of(fhir_encounter)
        if fhir_encounter.period is not None and fhir_encounter.period.start is not None:
            start = _aware(fhir_encounter.period.start)

    observations = [
        validated(o, path_of(o, f"$.Observation[{i}]")) for i, o in enumerate(record.observations)
    ]
    household_obs = _latest(
        o for o in observations if _has_code(o.code, codes.HOUSEHOLD_COMPOSITION)
    )
    pregnant = _pregnancy(observations)

    members: list[HouseholdMember] = []
    living_refs: set[str] | None = None
    if household_obs is not None:
        living_refs = {
            ref.reference for ref in household_obs.focus or [] if ref.reference is not None
        }
    seen: set[str] = set()
    for i, raw in enumerate(record.related_persons):
        related = validated(raw, path_of(raw, f"$.RelatedPerson[{i}]"))
        if related.id in seen or related.active is False:
            continue
        seen.add(related.id)
        members.append(household_member(related, person, living_refs, code_lists))

    indicators: list[RiskIndicator] = []
    for i, raw in enumerate(record.conditions):
        condition = validated(raw, path_of(raw, f"$.Condition[{i}]"))
        if _condition_active(condition):
            indicators.extend(_indicators(condition.code, code_lists, "fhir-condition", True))
    for i, raw in enumerate(record.flags):
        flag = validated(raw, path_of(raw, f"$.Flag[{i}]"))
        if flag.status == "active":
            indicators.extend(_indicators(flag.code, code_lists, "fhir-flag", True))
    for observation in observations:
        if observation.status not in ("entered-in-error", "cancelled"):
            # The code names the question (often LOINC): it counts only when a list names it,
            # and then the value is its answer, not listed when unreadable.
            question, answer = observation.code, observation.valueCodeableConcept
            listed = not _names_any(question, code_lists)
            indicators.extend(_indicators(question, code_lists, "fhir-observation", False))
            indicators.extend(_indicators(answer, code_lists, "fhir-observation", listed))
    if pregnant:
        indicators.append(
            RiskIndicator(
                IndicatorKind.PREGNANCY, *codes.PREGNANCY_STATUS, source="fhir-observation"
            )
        )

    household: tuple[HouseholdMember, ...] | None = None
    recorded_at: datetime | None = None
    if household_obs is not None or members:
        household = tuple(members)
        if household_obs is not None:
            recorded_at = _effective(household_obs)
    return FirstContact(
        id=contact_id,
        occurred_at=occurred_at or start or datetime.now(UTC),
        patient=person,
        encounter=encounter,
        household=household,
        household_recorded_at=recorded_at,
        indicators=tuple(indicators),
        pregnant=pregnant,
        source="fhir",
    )


# Pieces ---------------------------------------------------------------------------------------


def _has_code(concept: Any, wanted: tuple[str, str]) -> bool:
    if concept is None:
        return False
    return any((c.system, c.code) == wanted for c in concept.coding or [])


def _condition_active(condition: Any) -> bool:
    for concept, bad in (
        (condition.clinicalStatus, INACTIVE_CONDITION),
        (condition.verificationStatus, REFUTED),
    ):
        if concept is not None and any(c.code in bad for c in concept.coding or []):
            return False
    return True


def _indicators(
    concept: Any, code_lists: CodeLists, source: str, listed: bool
) -> Iterable[RiskIndicator]:
    """Codings the lists name; with ``listed``, a concept whose every coding is in an unrecognised
    or missing system comes back as ``other`` codings, to be listed as unclassified."""
    if concept is None:
        return
    codings = [c for c in concept.coding or [] if c.code]
    for coding in codings:
        kind = code_lists.classify(coding.system, coding.code)
        # Pregnancy comes from a Condition, or from the pregnancy status answer, not any code.
        if kind is not None and (kind is not IndicatorKind.PREGNANCY or source == "fhir-condition"):
            yield RiskIndicator(kind, coding.system, coding.code, coding.display, source=source)
    if not listed or not codings or _names_any(concept, code_lists):
        return
    if not any(code_lists.recognises(c.system) for c in codings):
        for coding in codings:
            yield RiskIndicator(IndicatorKind.OTHER, coding.system, coding.code, source=source)


def _names_any(concept: Any, code_lists: CodeLists) -> bool:
    """True when a list names one of the concept's codings."""
    if concept is None:
        return False
    return any(code_lists.classify(c.system, c.code) is not None for c in concept.coding or [])


def _effective(observation: Any) -> datetime | None:
    value = observation.effectiveDateTime or observation.issued
    if value is None and observation.effectivePeriod is not None:
        value = observation.effectivePeriod.start
    return _aware(value) if isinstance(value, datetime) else None


def _latest(observations: Iterable[Any]) -> Any | None:
    usable = [
        o for o in observations if o.status in ("final", "amended", "corrected", "preliminary")
    ]
    if not usable:
        return None
    epoch = datetime(1900, 1, 1, tzinfo=UTC)
    return max(usable, key=lambda o: _effective(o) or epoch)


def _pregnancy(observations: Sequence[Any]) -> bool | None:
    latest = _latest(o for o in observations if _has_code(o.code, codes.PREGNANCY_STATUS))
    if latest is None:
        return None
    if _has_code(latest.valueCodeableConcept, codes.PREGNANT):
        return True
    if _has_code(latest.valueCodeableConcept, codes.NOT_PREGNANT):
        return False
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
