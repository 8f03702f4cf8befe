"""A FHIR Bundle (any type) read as one adult's first contact, for files and request bodies.

The adult is the Bundle's only Patient, or the subject of its Encounter when there are several.
Entries about other patients are ignored. Errors name the JSON path, never a value.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from adapters.fhir.errors import FhirBundleInvalid
from adapters.fhir.mapping import MODELS, PatientRecord, contact_id_for, to_contact
from plugin_core.model import FirstContact
from plugin_core.settings.code_lists import CodeLists


def looks_like_bundle(data: bytes) -> bool:
    """Cheap check before parsing: JSON that declares ``"resourceType": "Bundle"``."""
    head = data[:4096].lstrip()
    if not head.startswith(b"{") or b'"resourceType"' not in head:
        return False
    compact = head.replace(b" ", b"").replace(b"\n", b"").replace(b"\t", b"").replace(b"\r", b"")
    return b'"resourceType":"Bundle"' in compact


def load_bundle(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FhirBundleInvalid(f"$: not valid JSON (line {getattr(exc, 'lineno', '?')})") from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise FhirBundleInvalid("$.resourceType: must be Bundle")
    return doc


def record_from_resources(
    resources: list[tuple[str, dict[str, Any], str]], patient_id: str | None = None
) -> PatientRecord:
    """Gather one adult's resources from ``(fullUrl, resource, json path)`` triples."""
    by_ref: dict[str, dict[str, Any]] = {}
    for full_url, resource, _ in resources:
        kind, rid = resource.get("resourceType"), resource.get("id")
        if full_url:
            by_ref[full_url] = resource
        if isinstance(kind, str) and isinstance(rid, str):
            by_ref[f"{kind}/{rid}"] = resource
    paths = {id(resource): path for _, resource, path in resources}
    patients = [r for _, r, _ in resources if r.get("resourceType") == "Patient"]
    encounters = [r for _, r, _ in resources if r.get("resourceType") == "Encounter"]
    adult: dict[str, Any] | None = None
    if patient_id is not None:
        adult = by_ref.get(f"Patient/{patient_id}")
    elif len(patients) == 1:
        adult = patients[0]
    elif encounters:
        subject = _ref(encounters[0].get("subject"))
        adult = by_ref.get(subject) if subject else None
    if adult is None:
        if not patients:
            raise FhirBundleInvalid("$.entry: no Patient resource")
        raise FhirBundleInvalid(
            "$.entry: several Patients and no Encounter subject names the adult"
        )
    adult_refs = {f"Patient/{adult.get('id')}"} | {url for url, r in by_ref.items() if r is adult}

    def about_adult(resource: dict[str, Any], key: str) -> bool:
        ref = _ref(resource.get(key))
        return ref is None or ref in adult_refs

    record = PatientRecord(patient=adult, paths=paths)
    linked = {_ref(link.get("other")) for link in adult.get("link") or [] if isinstance(link, dict)}
    for _, resource, _ in resources:
        kind = resource.get("resourceType")
        if kind == "Encounter" and record.encounter is None and about_adult(resource, "subject"):
            record.encounter = resource
        elif kind == "RelatedPerson":
            rid = f"RelatedPerson/{resource.get('id')}"
            if about_adult(resource, "patient") or rid in linked:
                record.related_persons.append(resource)
        elif kind == "Condition" and about_adult(resource, "subject"):
            record.conditions.append(resource)
        elif kind == "Observation" and about_adult(resource, "subject"):
            record.observations.append(resource)
        elif kind == "Flag" and about_adult(resource, "subject"):
            record.flags.append(resource)
    return record


def bundle_resources(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """The entries' resources the adapter reads, with their full URLs and JSON paths."""
    entries = doc.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise FhirBundleInvalid("$.entry: must be a list")
    out: list[tuple[str, dict[str, Any], str]] = []
    for i, entry in enumerate(entries):
        path = f"$.entry[{i}]"
        if not isinstance(entry, dict):
            raise FhirBundleInvalid(f"{path}: must be an object")
        resource = entry.get("resource")
        if resource is None:
            continue
        if not isinstance(resource, dict):
            raise FhirBundleInvalid(f"{path}.resource: must be an object")
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            raise FhirBundleInvalid(f"{path}.resource.resourceType: is required")
        if kind not in MODELS:
            continue  # resources the adapter does not read are allowed and ignored
        full_url = entry.get("fullUrl", "")
        out.append((full_url if isinstance(full_url, str) else "", resource, f"{path}.resource"))
    return out


def parse_bundle_contact(
    data: bytes, code_lists: CodeLists, *, occurred_at: datetime | None = None
) -> FirstContact:
    """A FirstContact from a Bundle's bytes, or FhirBundleInvalid naming the JSON path."""
    doc = load_bundle(data)
    record = record_from_resources(bundle_resources(doc))
    patient_id = record.patient.get("id")
    if not isinstance(patient_id, str) or not patient_id:
        path = record.paths.get(id(record.patient), "$.Patient")
        raise FhirBundleInvalid(f"{path}.id: is required")
    encounter_id = record.encounter.get("id") if record.encounter else None
    suffix = doc.get("id") if isinstance(doc.get("id"), str) else None
    if not suffix:
        suffix = hashlib.sha256(data).hexdigest()[:16]
    return to_contact(
        record,
        code_lists,
        contact_id=contact_id_for(
            patient_id, encounter_id if isinstance(encounter_id, str) else None, suffix
        ),
        occurred_at=occurred_at,
    )


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return str(value["reference"])
    return None
