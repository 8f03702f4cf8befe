"""Card suggestions filled in from forms built once are the resources built each time."""

from __future__ import annotations

import pytest

from adapters.fhir.cds.cards import _suggestions, suggested_flag, suggested_task
from adapters.fhir.outbound import ref, wire
from plugin_core.model import Prompt, PromptCode, Severity


@pytest.mark.parametrize("severity", [Severity.INFO, Severity.WARNING, Severity.CRITICAL])
@pytest.mark.parametrize("encounter_id", [None, "enc-1", 'enc"2\\x'])
@pytest.mark.parametrize("patient_id", ["pat-1", 'odd"id\\', "Encounter/{encounter}"])
def test_suggested_flag_and_task_equal_those_built_for_the_call(
    severity: Severity, encounter_id: str | None, patient_id: str
) -> None:
    prompt = Prompt(PromptCode.CONSIDER_CHILDREN, severity, "Consider the children")
    patient = ref(f"Patient/{patient_id}")
    encounter = ref(f"Encounter/{encounter_id}") if encounter_id else None
    built = [
        wire(suggested_flag(patient, encounter)),
        wire(suggested_task(prompt, patient, encounter)),
    ]
    filled = [
        s["actions"][0]["resource"]
        for s in _suggestions(prompt, "hook-1", patient_id, encounter_id)
    ]
    assert filled == built
