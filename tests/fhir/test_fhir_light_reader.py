"""The fast reader of plain resources agrees with the fhir.resources models on a corpus.

Whatever the reader accepts, the models accept too, with equal values for every element it
reads; whatever it declines goes to the models, so refusals keep their wording. The corpus is
the synthetic households the other tests use, resources that hold every element the reader
knows, and mutations of each: every value replaced by awkward ones, every key removed, unknown
keys added.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.fhir import light
from adapters.fhir.mapping import MODELS, PatientRecord, to_contact
from plugin_core.formats.serialise import dumps
from plugin_core.settings.load import load_trust_config
from tests.fhir.conftest import as_collection, household_bundle

CODING = {"system": "http://snomed.info/sct", "code": "77386006", "display": "Pregnant"}
CONCEPT = {"coding": [CODING], "text": "Pregnant"}
REF = {"reference": "Patient/p-1", "display": "Alex"}
META = {"versionId": "3", "lastUpdated": "2026-02-20T09:00:00.123Z"}
ADDRESS = {
    "use": "home",
    "type": "physical",
    "text": "1 Test Road",
    "line": ["1 Test Road", "Flat 2"],
    "city": "London",
    "district": "Islington",
    "postalCode": "N7 8JL",
    "country": "GB",
}
NAME = {
    "use": "official",
    "text": "Alex Test",
    "family": "Test",
    "given": ["Alex"],
    "prefix": ["Ms"],
}

FULL = [
    {
        "resourceType": "Patient",
        "id": "p-1",
        "meta": META,
        "identifier": [
            {
                "use": "official",
                "system": "https://fhir.nhs.uk/Id/nhs-number",
                "value": "9000000009",
            }
        ],
        "active": True,
        "name": [NAME],
        "gender": "female",
        "birthDate": "1988-05-01",
        "address": [ADDRESS],
    },
    {
        "resourceType": "RelatedPerson",
        "id": "rp-1",
        "meta": META,
        "identifier": [{"system": "urn:test", "value": "7"}],
        "active": False,
        "patient": REF,
        "relationship": [CONCEPT],
        "name": [NAME],
        "gender": "male",
        "birthDate": "2016-06-01",
        "address": [ADDRESS],
    },
    {
        "resourceType": "Encounter",
        "id": "e-1",
        "meta": META,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": REF,
        "period": {"start": "2026-03-01T10:00:00+01:00", "end": "2026-03-02T10:00:00.123456-05:30"},
        "location": [{"location": {"reference": "Location/ward-1"}}],
    },
    {
        "resourceType": "Condition",
        "id": "c-1",
        "clinicalStatus": CONCEPT,
        "verificationStatus": CONCEPT,
        "category": [CONCEPT],
        "code": CONCEPT,
        "subject": REF,
        "encounter": {"reference": "Encounter/e-1"},
    },
    {
        "resourceType": "Observation",
        "id": "o-1",
        "status": "final",
        "category": [CONCEPT],
        "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3", "version": "2.7"}]},
        "subject": REF,
        "focus": [REF, {"reference": "RelatedPerson/rp-1"}],
        "encounter": REF,
        "effectiveDateTime": "2026-02-20T09:00:00Z",
        "issued": "2026-02-20T09:00:00+14:00",
        "valueCodeableConcept": CONCEPT,
    },
    {
        "resourceType": "Flag",
        "id": "f-1",
        "status": "active",
        "category": [CONCEPT],
        "code": CONCEPT,
        "subject": REF,
        "period": {"start": "2026-01-01T00:00:00Z"},
        "encounter": REF,
    },
]

ODD_VALUES: list[Any] = [
    None, "", " ", " x", "x ", "a  b", "a b", "a\tb", "a\u00a0b", "a\x0bb", "\n",
    0, 1, 1.5, True, False, [], {}, ["x"], {"x": 1}, "true", "x" * 65,
    "1988", "1988-05", "1988-02-30", "0999-01-01", "1988-05-01T10:00:00Z",
    "2026-03-01T10:00:00", "2026-03-01T24:00:00Z", "2026-03-01T10:00:60Z",
    "2026-03-01T10:00:00+14:30", "2026-03-01T10:00:00.1Z", "2026-03-01T10:00:00.1234567Z",
    "2026-03-01", "urn:x y", "Patient/p-1", "ünïcode", "é",
]  # fmt: skip


def corpus() -> list[dict[str, Any]]:
    found = [copy.deepcopy(r) for r in FULL]
    for options in (
        {},
        {"with_cp_flag": True, "pregnant": True},
        {"household_observation": False, "with_condition": False},
    ):
        doc = as_collection(household_bundle("L", **options))
        found += [e["resource"] for e in doc["entry"]]
    return found


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield (*path, i)
            yield from _paths(child, (*path, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


def _without(doc: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(doc)
    target = out
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return out


def mutants(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _paths(resource):
        if path == ("resourceType",):
            continue
        for odd in ODD_VALUES:
            yield _set(resource, path, odd)
        yield _without(resource, path)
    for path in [(), *_paths(resource)]:
        target = resource
        for step in path:
            target = target[step]
        if isinstance(target, dict):
            for extra in ("extension", "_gender", "unknownElement", "id"):
                if extra not in target:
                    yield _set(resource, (*path, extra), [{"url": "urn:x"}])


def _model(resource: dict[str, Any]) -> Any | None:
    try:
        return MODELS[resource["resourceType"]].model_validate(resource)
    except ValidationError:
        return None


def assert_same(view: Any, model: Any, kind: str, where: str) -> None:
    """Every element the reader knows equal on the view and the model, value and type."""
    for name, (element, repeats) in light.TYPES[kind].items():
        attr = light.python_name(name)
        mine, theirs = getattr(view, attr), getattr(model, attr)
        at = f"{where}.{name}"
        if mine is None or theirs is None:
            assert mine is None and theirs is None, at
            continue
        if repeats:
            assert isinstance(theirs, list) and len(mine) == len(theirs), at
            pairs = list(zip(mine, theirs, strict=True))
        else:
            pairs = [(mine, theirs)]
        for a, b in pairs:
            if element in light.TYPES:
                assert_same(a, b, element, at)
            else:
                assert type(a) is type(b) or (isinstance(a, str) and isinstance(b, str)), at
                assert a == b, at
                if isinstance(a, datetime):
                    assert a.utcoffset() == b.utcoffset(), at
                if isinstance(a, date) and not isinstance(a, datetime):
                    assert not isinstance(b, datetime), at


def test_the_light_reader_reads_every_corpus_resource() -> None:
    for resource in corpus():
        assert light.read(resource) is not None, resource["resourceType"]


def test_what_the_light_reader_accepts_the_models_accept_with_equal_values() -> None:
    accepted = declined = 0
    for base in corpus():
        for resource in [base, *mutants(base)]:
            view = light.read(resource)
            model = _model(resource)
            where = f"{resource['resourceType']} {json.dumps(resource)[:200]}"
            if view is None:
                declined += 1
                continue
            accepted += 1
            assert model is not None, where
            assert_same(view, model, resource["resourceType"], where)
    # Both sides of the comparison are exercised, neither vacuously.
    assert accepted > 500 and declined > 2000, (accepted, declined)


def test_contacts_mapped_through_the_light_reader_equal_those_through_the_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code_lists = load_trust_config().code_lists
    options: list[dict[str, Any]] = [
        {},
        {"with_cp_flag": True, "pregnant": True},
        {"household_observation": False},
        {"children": ("2010-01-01",), "with_condition": False},
    ]
    for option in options:
        resources = [e["resource"] for e in as_collection(household_bundle("M", **option))["entry"]]

        def of(kind: str, found: list[dict[str, Any]] = resources) -> list[dict[str, Any]]:
            return [r for r in found if r["resourceType"] == kind]

        record = PatientRecord(
            patient=of("Patient")[0],
            encounter=of("Encounter")[0],
            related_persons=of("RelatedPerson"),
            conditions=of("Condition"),
            observations=of("Observation"),
            flags=of("Flag"),
        )
        fast = to_contact(record, code_lists, contact_id="fhir:p:e:1")
        with monkeypatch.context() as patched:
            patched.setattr(light, "read", lambda resource: None)
            slow = to_contact(record, code_lists, contact_id="fhir:p:e:1")
        assert fast == slow
        assert dumps(fast) == dumps(slow)
