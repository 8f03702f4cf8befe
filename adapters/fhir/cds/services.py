"""The CDS services ThinkFamily offers and the prefetch each asks the EHR for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str]

    def discovery(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
        }


_COMMON = {
    "patient": "Patient/{{context.patientId}}",
    "relatedPersons": "RelatedPerson?patient=Patient/{{context.patientId}}",
    "conditions": "Condition?patient=Patient/{{context.patientId}}",
    "observations": "Observation?patient=Patient/{{context.patientId}}",
    "flags": "Flag?patient=Patient/{{context.patientId}}&status=active",
}

SERVICES: dict[str, CdsService] = {
    s.id: s
    for s in (
        CdsService(
            id="thinkfamily-patient-view",
            hook="patient-view",
            title="Think Family",
            description=(
                "Prompts to record the adult's household and consider any children under 18 "
                "when the patient's record is opened."
            ),
            prefetch=dict(_COMMON),
        ),
        CdsService(
            id="thinkfamily-encounter-start",
            hook="encounter-start",
            title="Think Family at admission",
            description=(
                "Prompts at the start of an encounter (admission, emergency attendance, "
                "mental-health contact) to consider children in the adult's household."
            ),
            prefetch={**_COMMON, "encounter": "Encounter/{{context.encounterId}}"},
        ),
    )
}
