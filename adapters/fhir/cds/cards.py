"""Cards built from an assessment: one per prompt, with a SMART link and suggestions.

A card is CDS Hooks JSON; the FHIR resources its suggestions would create are R4B models,
validated as they are built (see ``adapters.fhir.outbound``).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import re
import uuid
from typing import Any

from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.task import Task

from adapters.fhir import codes
from adapters.fhir.outbound import builds, concept, ref, wire
from adapters.fhir.settings import FhirSettings
from plugin_core.links import NoSecret, WebSettings, check_web_settings
from plugin_core.model import Assessment, Prompt, PromptCode, Severity
from plugin_core.rules.levels import Threshold
from plugin_core.settings.config import TrustConfig

log = logging.getLogger(__name__)

OVERRIDE_REASONS = (
    ("already-considered", "Already considered for this contact"),
    ("not-applicable", "Not applicable to this patient"),
    ("will-complete-later", "Will complete later in this episode"),
)
OVERRIDE_SYSTEM = codes.TF_SYSTEM + "/override-reason"
CONCERN_PROMPTS = (PromptCode.CONSIDER_CHILDREN, PromptCode.CONSIDER_UNBORN)


def card_uuid(hook_instance: str, code: PromptCode) -> str:
    return name_uuid(f"{hook_instance}|{code.value}")


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def name_uuid(name: str) -> str:
    """``str(uuid.uuid5(uuid.NAMESPACE_URL, name))``, worked out without building a UUID
    object: a call names several cards and suggestions, and the object costs more than the
    hash (RFC 9562: SHA-1 of namespace and name, version 5, variant bits 10)."""
    digest = hashlib.sha1(_URL_NAMESPACE + name.encode(), usedforsecurity=False).digest()
    raw = bytearray(digest[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def form_link(config: TrustConfig, contact_id: str, user_id: object) -> str | None:
    """A signed link to ThinkFamily's own form for the user the EHR names, when ``[web]`` has
    a base URL and the secret is set; otherwise None, and cards keep ``clinician_form_url``."""
    web = _web_settings(config)
    if web is None or not web.base_url or not isinstance(user_id, str) or not user_id:
        return None
    try:
        return web.link(contact_id, user_id)
    except NoSecret as exc:
        log.warning(
            "cards link to clinician_form_url: its secret is not set", extra={"reason": exc.env}
        )
    except ValueError:
        log.warning("cards link to clinician_form_url: the user id cannot be signed")
    return None


_last_web: list[tuple[TrustConfig, dict[str, Any], WebSettings | None] | None] = [None]
"""The ``[web]`` section last checked, as written then, and its settings (None: faulty)."""


def _web_settings(config: TrustConfig) -> WebSettings | None:
    """The checked ``[web]`` settings, None when the section has faults. Checked again only
    when the configuration or the section differs from the last one checked: a call would
    otherwise run the section through its model each time."""
    data = config.section("web")
    last = _last_web[0]
    if last is not None and last[0] is config and last[1] == data:
        return last[2]
    web, issues = check_web_settings(data, config.path)
    found = None if issues else web
    _last_web[0] = (config, copy.deepcopy(data), found)
    return found


def build_cards(
    assessment: Assessment,
    settings: FhirSettings,
    *,
    hook_instance: str,
    patient_id: str,
    encounter_id: str | None,
    signed_form_link: str | None = None,
    threshold: Threshold | None = None,
) -> list[dict[str, Any]]:
    """:param signed_form_link: from :func:`form_link`; replaces the SMART link when given.
    :param threshold: the matched authority's own wording, which concern cards name."""
    cards = [
        _card(p, assessment, settings, hook_instance, patient_id, encounter_id, signed_form_link)
        for p in assessment.prompts
    ]
    if threshold is not None:
        for card in cards:
            if card["source"]["topic"]["code"] in {c.value for c in CONCERN_PROMPTS}:
                card["detail"] = "\n\n".join(
                    part for part in (card.get("detail", ""), levels_line(threshold)) if part
                )
    return cards


def levels_line(threshold: Threshold) -> str:
    """The authority's levels of need in one line, with its threshold document when known."""
    levels = "; ".join(f"{n} {w.title}" for n, w in enumerate(threshold.levels, start=1))
    line = f"Levels of need: {levels}."
    if threshold.threshold_url:
        line += f" [Threshold document]({threshold.threshold_url})"
    return line


def _card(
    prompt: Prompt,
    assessment: Assessment,
    settings: FhirSettings,
    hook_instance: str,
    patient_id: str,
    encounter_id: str | None,
    signed_form_link: str | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": card_uuid(hook_instance, prompt.code),
        "summary": prompt.summary[:140],
        "indicator": prompt.severity.value,
        "source": {
            "label": settings.source_label,
            "topic": {"system": codes.TF_SYSTEM, "code": prompt.code.value},
        },
        "overrideReasons": [
            {"system": OVERRIDE_SYSTEM, "code": code, "display": display}
            for code, display in OVERRIDE_REASONS
        ],
    }
    if prompt.detail:
        card["detail"] = prompt.detail
    if signed_form_link:
        card["links"] = [
            {"label": "Open the Think Family form", "url": signed_form_link, "type": "absolute"}
        ]
    elif settings.clinician_form_url:
        card["links"] = [
            {
                "label": "Open the Think Family form",
                "url": settings.clinician_form_url,
                "type": "smart",
                "appContext": json.dumps(
                    {"contact_id": assessment.contact_id, "prompt": prompt.code.value}
                ),
            }
        ]
    if prompt.code in CONCERN_PROMPTS:
        card["suggestions"] = _suggestions(prompt, hook_instance, patient_id, encounter_id)
        card["selectionBehavior"] = "any"
    return card


@builds("Flag")
def suggested_flag(patient: Reference, encounter: Reference | None) -> Flag:
    """The safeguarding Flag a suggestion offers to create; the EHR fills in the rest."""
    return Flag(
        status="active",
        category=[concept(codes.FLAG_CATEGORY, "safety")],
        code=concept(
            *codes.SAFEGUARDING_CONCERN,
            "Safeguarding concern about children recorded (Think Family)",
        ),
        subject=patient,
        encounter=encounter,
    )


@builds("Task")
def suggested_task(prompt: Prompt, patient: Reference, encounter: Reference | None) -> Task:
    """A Task, for the professional, to record the decision."""
    # ``for`` is a Python keyword, so it goes in by its FHIR name.
    fields: dict[str, Any] = {"for": patient}
    return Task(
        status="requested",
        intent="order",
        priority="urgent" if prompt.severity.rank >= 2 else "routine",
        code=concept(codes.TF_SYSTEM, "think-family-decision"),
        description="Record the Think Family information-sharing decision.",
        encounter=encounter,
        **fields,
    )


_PATIENT = "Patient/{patient}"
_ENCOUNTER = "Encounter/{encounter}"


@functools.cache
def _suggested_forms(urgent: bool, with_encounter: bool) -> tuple[str, str]:
    """The suggested Flag and Task as JSON text, built and validated once per shape.

    Only the references differ from one call to the next, and a reference is any string to
    the models, so the resources are filled in from these forms instead of built each time.
    """
    patient = ref(_PATIENT)
    encounter = ref(_ENCOUNTER) if with_encounter else None
    severity = Severity.CRITICAL if urgent else Severity.INFO
    prompt = Prompt(PromptCode.CONSIDER_CHILDREN, severity, "form")
    flag = wire(suggested_flag(patient, encounter))
    task = wire(suggested_task(prompt, patient, encounter))
    return json.dumps(flag), json.dumps(task)


_PLACES = re.compile(re.escape(_PATIENT) + "|" + re.escape(_ENCOUNTER))


def _fill(form: str, patient_id: str, encounter_id: str | None) -> dict[str, Any]:
    """The resource of ``form`` referring to this patient and encounter (in one pass, so an
    id can never be read as a place to fill)."""
    places = {
        _PATIENT: json.dumps(f"Patient/{patient_id}")[1:-1],
        _ENCOUNTER: json.dumps(f"Encounter/{encounter_id}")[1:-1],
    }
    filled: dict[str, Any] = json.loads(_PLACES.sub(lambda m: places[m.group(0)], form))
    return filled


def _suggestions(
    prompt: Prompt, hook_instance: str, patient_id: str, encounter_id: str | None
) -> list[dict[str, Any]]:
    flag_form, task_form = _suggested_forms(prompt.severity.rank >= 2, bool(encounter_id))
    flag = _fill(flag_form, patient_id, encounter_id)
    task = _fill(task_form, patient_id, encounter_id)
    return [
        {
            "label": "Record a safeguarding flag",
            "uuid": name_uuid(f"{hook_instance}|{prompt.code.value}|flag"),
            "actions": [
                {"type": "create", "description": "Add a safeguarding flag", "resource": flag}
            ],
        },
        {
            "label": "Create a task to record the decision",
            "uuid": name_uuid(f"{hook_instance}|{prompt.code.value}|task"),
            "actions": [
                {"type": "create", "description": "Add a Think Family task", "resource": task}
            ],
        },
    ]
