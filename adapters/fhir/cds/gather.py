"""The adult's resources for a hook call: from prefetch where given, else from the FHIR server.

A prefetch value of ``null`` or a missing key means the EHR could not or did not fetch it; the
service then reads it itself. When it needs something it cannot get, the call is answered 412.
"""

from __future__ import annotations

from typing import Any

from adapters.fhir.client import FhirClient
from adapters.fhir.errors import FhirError
from adapters.fhir.mapping import PatientRecord

SEARCHES = {
    "relatedPersons": ("RelatedPerson", "patient"),
    "conditions": ("Condition", "patient"),
    "observations": ("Observation", "patient"),
    "flags": ("Flag", "patient"),
}


class BadPrefetch(FhirError, ValueError):
    """A prefetch value is of the wrong type; the message names the key."""


class DataUnavailable(FhirError, LookupError):
    """Data the service needs is neither prefetched nor readable from a FHIR server."""


def gather(
    prefetch: dict[str, Any],
    patient_id: str,
    encounter_id: str | None,
    client: FhirClient | None,
) -> PatientRecord:
    patient = _single(prefetch, "patient", "Patient", patient_id)
    if patient is None:
        patient = _read(client, "Patient", patient_id)
        if patient is None:
            raise DataUnavailable("Patient")
    encounter = None
    if encounter_id:
        encounter = _single(prefetch, "encounter", "Encounter", encounter_id)
        if encounter is None:
            encounter = _read(client, "Encounter", encounter_id)
    record = PatientRecord(
        patient=patient, encounter=encounter, paths={id(patient): "$.prefetch.patient"}
    )
    lists: dict[str, list[dict[str, Any]]] = {}
    for key, (resource_type, param) in SEARCHES.items():
        found = _searchset(prefetch, key, resource_type)
        if found is None:
            if client is None:
                raise DataUnavailable(key)
            try:
                found = client.search(resource_type, {param: f"Patient/{patient_id}"})
            except FhirError:
                raise DataUnavailable(key) from None
        else:
            for i, resource in enumerate(found):
                record.paths[id(resource)] = f"$.prefetch.{key}.entry[{i}].resource"
        lists[key] = found
    record.related_persons = lists["relatedPersons"]
    record.conditions = lists["conditions"]
    record.observations = lists["observations"]
    record.flags = [f for f in lists["flags"] if f.get("status") == "active"]
    known = {r.get("id") for r in record.related_persons}
    for link in patient.get("link") or []:
        ref = (link.get("other") or {}).get("reference", "") if isinstance(link, dict) else ""
        if isinstance(ref, str) and ref.startswith("RelatedPerson/") and ref[14:] not in known:
            linked = _read(client, "RelatedPerson", ref[14:]) if client else None
            if linked is not None:
                record.related_persons.append(linked)
    return record


def _single(
    prefetch: dict[str, Any], key: str, resource_type: str, wanted_id: str
) -> dict[str, Any] | None:
    value = prefetch.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("resourceType") != resource_type:
        raise BadPrefetch(f"$.prefetch.{key}: must be a {resource_type} resource")
    if value.get("id") != wanted_id:
        raise BadPrefetch(f"$.prefetch.{key}.id: is not the {resource_type} named in the context")
    return value


def _searchset(
    prefetch: dict[str, Any], key: str, resource_type: str
) -> list[dict[str, Any]] | None:
    value = prefetch.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise BadPrefetch(f"$.prefetch.{key}: must be a Bundle")
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(value.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise BadPrefetch(f"$.prefetch.{key}.entry[{i}].resource: must be an object")
        if resource.get("resourceType") == resource_type:
            out.append(resource)
        elif resource.get("resourceType") != "OperationOutcome":
            raise BadPrefetch(f"$.prefetch.{key}.entry[{i}].resource: must be a {resource_type}")
    return out


def _read(client: FhirClient | None, resource_type: str, resource_id: str) -> dict[str, Any] | None:
    if client is None:
        return None
    try:
        return client.read(resource_type, resource_id)
    except FhirError:
        raise DataUnavailable(resource_type) from None
