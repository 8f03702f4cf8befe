"""A call repeated but for its hook instance is given the contact a fresh mapping gives.

``adapters.fhir.cds.repeat`` remembers the contacts of recent calls by their body; these tests
prove a remembered contact equal to mapping the prefetch again, and that anything else about
a call (its prefetch, a resource read from the server, a hook instance written more than once)
is mapped afresh.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.fhir.cds.gather import gather
from adapters.fhir.cds.repeat import RepeatContacts
from adapters.fhir.mapping import contact_id_for, to_contact
from plugin_core.formats.serialise import dumps
from plugin_core.model import FirstContact
from plugin_core.settings.load import load_trust_config
from tests.fhir.conftest import as_collection, household_bundle, prefetch_searches

CODE_LISTS = load_trust_config().code_lists
OPTIONS: list[dict[str, Any]] = [
    {},
    {"with_cp_flag": True, "pregnant": True},
    {"household_observation": False},
    {"children": ("2010-01-01",), "with_condition": False},
]


def body(tag: str, option: dict[str, Any], *, encounter: str | None) -> dict[str, Any]:
    """A patient-view call with a full prefetch, with or without an encounter that has a
    start (without one, the contact's time is the time of the call)."""
    resources = [e["resource"] for e in as_collection(household_bundle(tag, **option))["entry"]]

    patient = resources[0]
    context = {"userId": "Practitioner/p-1", "patientId": patient["id"]}
    prefetch: dict[str, Any] = {"patient": patient}
    if encounter == "started":
        found = next(r for r in resources if r["resourceType"] == "Encounter")
        context["encounterId"] = found["id"]
        prefetch["encounter"] = found
    elif encounter == "unstarted":
        found = {
            k: v
            for k, v in next(r for r in resources if r["resourceType"] == "Encounter").items()
            if k != "period"
        }
        context["encounterId"] = found["id"]
        prefetch["encounter"] = found
    prefetch.update(prefetch_searches(resources))
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": context,
            "prefetch": prefetch}  # fmt: skip


class Mapped:
    """Counts the mappings made, so a test sees which calls were remembered."""

    def __init__(self) -> None:
        self.count = 0


def through(
    repeat: RepeatContacts, doc: dict[str, Any], mapped: Mapped, *, extra: bool = False
) -> FirstContact:
    """The contact for one call, as the route asks for it: the body as sent, parsed again."""
    raw = json.dumps(doc).encode()
    parsed = json.loads(raw)
    context = parsed["context"]
    record = gather(parsed["prefetch"], context["patientId"], context.get("encounterId"), None)
    if extra:  # as if the service had read a flag from the FHIR server
        record.flags.append(
            {
                "resourceType": "Flag",
                "id": "f-x",
                "status": "active",
                "code": {"text": "x"},
                "subject": {"reference": f"Patient/{context['patientId']}"},
            }
        )
    contact_id = contact_id_for(
        context["patientId"], context.get("encounterId"), parsed["hookInstance"]
    )

    def mapping() -> FirstContact:
        mapped.count += 1
        return to_contact(record, CODE_LISTS, contact_id=contact_id)

    return repeat.contact(
        raw, parsed["hookInstance"], parsed["prefetch"], record, CODE_LISTS, contact_id, mapping
    )


def fresh(doc: dict[str, Any]) -> FirstContact:
    context = doc["context"]
    record = gather(doc["prefetch"], context["patientId"], context.get("encounterId"), None)
    contact_id = contact_id_for(
        context["patientId"], context.get("encounterId"), doc["hookInstance"]
    )
    return to_contact(record, CODE_LISTS, contact_id=contact_id)


def test_a_repeated_call_is_given_the_contact_a_fresh_mapping_gives() -> None:
    repeat, mapped = RepeatContacts(), Mapped()
    calls = 0
    for i, option in enumerate(OPTIONS):
        for encounter in (None, "started", "unstarted"):
            first = body(f"R{i}", option, encounter=encounter)
            through(repeat, first, mapped)
            for _ in range(3):
                again = {**first, "hookInstance": str(uuid.uuid4())}
                before = datetime.now(UTC)
                remembered = through(repeat, again, mapped)
                expected = fresh(again)
                calls += 1
                if encounter == "started":
                    assert remembered == expected
                    assert dumps(remembered) == dumps(expected)
                else:  # timed by the call, as the fresh mapping is
                    assert before <= remembered.occurred_at <= datetime.now(UTC)
                    assert replace(remembered, occurred_at=expected.occurred_at) == expected
                assert remembered.id.endswith(again["hookInstance"])
    assert mapped.count == len(OPTIONS) * 3  # once for each first call, never for a repeat
    assert calls == len(OPTIONS) * 9


def test_a_call_that_differs_in_its_prefetch_is_mapped_afresh() -> None:
    repeat, mapped = RepeatContacts(), Mapped()
    first = body("D", OPTIONS[1], encounter="started")
    through(repeat, first, mapped)
    changed = copy.deepcopy(first)
    changed["hookInstance"] = str(uuid.uuid4())
    changed["prefetch"]["flags"]["entry"] = []
    contact = through(repeat, changed, mapped)
    assert mapped.count == 2
    assert contact == fresh(changed)
    later = copy.deepcopy(first)
    later["prefetch"]["encounter"]["period"]["start"] = (
        datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(hours=1)
    ).isoformat()
    later["hookInstance"] = str(uuid.uuid4())
    assert through(repeat, later, mapped) == fresh(later)
    assert mapped.count == 3


def test_a_hook_instance_written_twice_or_a_resource_from_the_server_is_never_remembered() -> None:
    repeat, mapped = RepeatContacts(), Mapped()
    doc = body("T", {}, encounter="started")
    doc["prefetch"]["patient"]["identifier"] = [
        {"system": "https://ehr.example.test/id", "value": "same"}
    ]
    for _ in range(2):
        doc["hookInstance"] = "same"  # also a value inside the prefetch
        through(repeat, doc, mapped)
    assert mapped.count == 2
    other = body("S", {}, encounter="started")
    for _ in range(2):
        other["hookInstance"] = str(uuid.uuid4())
        through(repeat, other, mapped, extra=True)
    assert mapped.count == 4
    assert len(repeat) == 0


def test_only_the_most_recent_calls_are_remembered() -> None:
    repeat, mapped = RepeatContacts(keep=2), Mapped()
    docs = [body(f"K{i}", {}, encounter="started") for i in range(3)]
    for doc in docs:
        through(repeat, doc, mapped)
    assert len(repeat) == 2
    through(repeat, {**docs[0], "hookInstance": str(uuid.uuid4())}, mapped)  # forgotten
    through(repeat, {**docs[2], "hookInstance": str(uuid.uuid4())}, mapped)  # remembered
    assert mapped.count == 4


def test_a_hook_instance_written_escaped_never_stands_for_a_string_in_the_prefetch() -> None:
    """The hook instance's plain text found once, but inside the prefetch: the top-level
    ``hookInstance`` is written with an escape, so a body whose prefetch differs there has
    a hook instance of its own text and is mapped afresh."""
    repeat, mapped = RepeatContacts(), Mapped()
    seen = []
    base = body("E", {}, encounter="started")
    for family in ("Testone", "Testtwo", "Testone"):
        doc = copy.deepcopy(base)
        doc["hookInstance"] = family
        doc["prefetch"]["patient"]["name"][0]["family"] = family
        raw = json.dumps(doc).encode().replace(f'"hookInstance": "{family}"'.encode(),
                                               b'"hookInstance": "\\u0054' + family[1:].encode() + b'"')  # fmt: skip
        parsed = json.loads(raw)
        assert parsed["hookInstance"] == family and raw.count(f'"{family}"'.encode()) == 1
        context = parsed["context"]
        record = gather(parsed["prefetch"], context["patientId"], context.get("encounterId"), None)
        contact_id = contact_id_for(context["patientId"], context.get("encounterId"), family)

        def mapping(record: Any = record, contact_id: str = contact_id) -> FirstContact:
            mapped.count += 1
            return to_contact(record, CODE_LISTS, contact_id=contact_id)

        found = repeat.contact(
            raw, family, parsed["prefetch"], record, CODE_LISTS, contact_id, mapping
        )
        assert found == fresh(parsed)
        seen.append(found.patient.name)
    assert seen[0] != seen[1] and seen[0] == seen[2]
    assert mapped.count == 2  # the third body is the first again, byte for byte
