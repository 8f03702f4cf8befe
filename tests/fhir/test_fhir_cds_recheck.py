"""Prompt fatigue at the chart: CDS Hooks ``patient-view`` calls against the real service.

A chart opened again in the same encounter gets the same cards from the same contact; after a
decision for the adult, opening the chart gives no cards for the trust's ``recheck_days``
unless something is new (a child, a pregnancy, a child protection flag). Real HTTP, the real
``thinkfamily serve`` on SQLite, prefetch built from the Medplum peer's household fixtures.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from plugin_core.store.base import ts
from tests.fhir.conftest import (
    Keys,
    MedplumPeer,
    as_collection,
    cds_token,
    fhir_service,
    household_bundle,
    needs_node_peer,
    prefetch_searches,
)
from tests.peers.service import ServiceProcess

pytestmark = [pytest.mark.integration, needs_node_peer]

SERVICE_ID = "thinkfamily-patient-view"
RECHECK_DAYS = 90  # the example trust's


@pytest.fixture(scope="module")
def service(
    medplum: MedplumPeer, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    with fhir_service(tmp_path_factory.mktemp("recheck"), medplum, keys, name="recheck") as proc:
        yield proc


@dataclass
class Chart:
    """One adult's record as the EHR would prefetch it: the patient, an encounter, the rest."""

    patient: dict[str, Any]
    encounter: dict[str, Any]
    resources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, tag: str, **options: Any) -> Chart:
        doc = as_collection(household_bundle(tag, **options))
        resources = [e["resource"] for e in doc["entry"]]
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        encounter = next(r for r in resources if r["resourceType"] == "Encounter")
        rest = [r for r in resources if r is not patient and r is not encounter]
        return cls(patient, encounter, rest)

    @property
    def patient_id(self) -> str:
        return str(self.patient["id"])

    def adding(self, other: Chart, kind: str, last_only: bool = False) -> Chart:
        """This chart with ``other``'s resources of one kind, made to point at this patient."""
        found = [r for r in other.resources if r["resourceType"] == kind]
        if last_only:
            found = found[-1:]
        text = json.dumps(found).replace(
            f"Patient/{other.patient_id}", f"Patient/{self.patient_id}"
        )
        return Chart(self.patient, self.encounter, self.resources + json.loads(text))

    def call(self, *, in_encounter: bool = True) -> dict[str, Any]:
        context: dict[str, Any] = {"userId": "Practitioner/prac-7", "patientId": self.patient_id}
        prefetch: dict[str, Any] = {"patient": self.patient, **prefetch_searches(self.resources)}
        if in_encounter:
            context["encounterId"] = self.encounter["id"]
            prefetch["encounter"] = self.encounter
        return {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "context": context,
            "prefetch": prefetch,
        }


@pytest.fixture
def open_chart(service: ServiceProcess, keys: Keys) -> Any:
    """Open a chart in the EHR: one ``patient-view`` call; returns its cards."""

    def open_it(chart: Chart, *, in_encounter: bool = True) -> list[dict[str, Any]]:
        url = f"{service.url}/cds-services/{SERVICE_ID}"
        response = requests.post(
            url,
            data=json.dumps(chart.call(in_encounter=in_encounter)),
            headers={
                "Authorization": f"Bearer {cds_token(keys.ehr, url)}",
                "Content-Type": "application/json",
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        cards: list[dict[str, Any]] = response.json()["cards"]
        return cards

    return open_it


def contact_of(cards: list[dict[str, Any]]) -> str:
    """The contact id a card's SMART link carries to the form."""
    contact: str = json.loads(cards[0]["links"][0]["appContext"])["contact_id"]
    return contact


def contacts_for(service: ServiceProcess, chart: Chart) -> list[dict[str, Any]]:
    listed = service.api("GET", "/api/contacts", params={"limit": "500"}).json()["contacts"]
    return [c for c in listed if c["id"].startswith(f"fhir:{chart.patient_id}:")]


def counter(service: ServiceProcess, name: str) -> int:
    value: int = service.api("GET", "/healthz").json()["counters"].get(name, 0)
    return value


def decide(service: ServiceProcess, contact_id: str) -> str:
    decision_id = f"d-{uuid.uuid4().hex[:8]}"
    doc = {
        "id": decision_id,
        "decided_by": {"id": "nurse-7", "role": "staff nurse"},
        "share": False,
        "level_of_need": 1,
        "reasons": "Children cared for by the other parent; no additional needs.",
    }
    response = service.api("POST", f"/api/contacts/{contact_id}/decision", json=doc)
    assert response.status_code == 201, response.text
    return decision_id


def audit_kinds(service: ServiceProcess, subject: str) -> list[str]:
    with sqlite3.connect(service.db_url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute("SELECT kind FROM audit WHERE subject = ? ORDER BY seq", (subject,))
        return [r[0] for r in rows]


# One encounter, one contact ------------------------------------------------------------------


def test_chart_opened_twice_in_one_encounter_gives_one_contact_and_the_same_cards(
    service: ServiceProcess, open_chart: Any
) -> None:
    chart = Chart.of("Twice")
    reused = counter(service, "contacts.reused")
    first = open_chart(chart)
    second = open_chart(chart)
    assert first and second == first
    assert [c["id"] for c in contacts_for(service, chart)] == [contact_of(first)]
    assert counter(service, "contacts.reused") == reused + 1


def test_chart_opened_twice_the_same_day_without_an_encounter_gives_one_contact(
    service: ServiceProcess, open_chart: Any
) -> None:
    chart = Chart.of("SameDay")
    first = open_chart(chart, in_encounter=False)
    assert open_chart(chart, in_encounter=False) == first
    assert len(contacts_for(service, chart)) == 1


def test_chart_opened_in_another_encounter_gets_a_contact_of_its_own(
    service: ServiceProcess, open_chart: Any
) -> None:
    chart = Chart.of("TwoVisits")
    first = open_chart(chart)
    later = Chart(chart.patient, dict(chart.encounter, id=uuid.uuid4().hex[:12]), chart.resources)
    second = open_chart(later)
    assert second and contact_of(second) != contact_of(first)
    assert {c["uuid"] for c in second}.isdisjoint(c["uuid"] for c in first)


# After a decision ----------------------------------------------------------------------------


def test_chart_opened_after_a_decision_gives_no_cards_and_counts_one_suppression(
    service: ServiceProcess, open_chart: Any
) -> None:
    chart = Chart.of("Decided")
    suppressed = counter(service, "contacts.prompts_suppressed")
    cards = open_chart(chart)
    assert "consider-children" in [c["source"]["topic"]["code"] for c in cards]
    decision = decide(service, contact_of(cards))
    assert open_chart(chart) == []
    assert counter(service, "contacts.prompts_suppressed") == suppressed + 1
    (quiet,) = [c for c in contacts_for(service, chart) if c["state"] == "suppressed"]
    assert quiet["relies_on"] == decision and "consider-children" in quiet["prompts"]
    assert audit_kinds(service, quiet["id"]) == ["contact.accepted", "contact.prompts_suppressed"]


def _new_child(chart: Chart) -> Chart:
    more = Chart.of("Newborn", children=("2016-06-01", "2019-02-11", "2026-01-20"))
    return chart.adding(more, "RelatedPerson", last_only=True)


def _pregnancy(chart: Chart) -> Chart:
    return chart.adding(
        Chart.of("Expecting", pregnant=True, household_observation=False), "Observation"
    )


def _child_protection_flag(chart: Chart) -> Chart:
    return chart.adding(Chart.of("Flagged", with_cp_flag=True), "Flag")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param(_new_child, "consider-children", id="new-child"),
        pytest.param(_pregnancy, "consider-unborn", id="pregnancy"),
        pytest.param(_child_protection_flag, "consider-children", id="child-protection-flag"),
    ],
)
def test_chart_opened_after_a_decision_with_something_new_shows_cards_saying_what(
    service: ServiceProcess, open_chart: Any, change: Any, code: str
) -> None:
    chart = Chart.of("Changed")
    decide(service, contact_of(open_chart(chart)))
    assert open_chart(chart) == []
    cards = open_chart(change(chart))
    assert code in [c["source"]["topic"]["code"] for c in cards]
    for card in cards:
        assert card["detail"].startswith("New since the decision of ")


def test_suppression_survives_a_restart(service: ServiceProcess, open_chart: Any) -> None:
    chart = Chart.of("Restart")
    decide(service, contact_of(open_chart(chart)))
    service.stop()
    service.start()
    assert open_chart(chart) == []


def test_after_recheck_days_the_chart_prompts_again(
    service: ServiceProcess, open_chart: Any
) -> None:
    chart = Chart.of("Later")
    decision = decide(service, contact_of(open_chart(chart)))
    assert open_chart(chart) == []
    # The decision as if recorded one re-check period and a minute ago.
    then = datetime.now(UTC) - timedelta(days=RECHECK_DAYS, minutes=1)
    with sqlite3.connect(service.db_url.removeprefix("sqlite:///")) as conn:
        conn.execute(
            "UPDATE decision_facts SET since = ? WHERE decision_id = ?", (ts(then), decision)
        )
    cards = open_chart(chart)
    assert "consider-children" in [c["source"]["topic"]["code"] for c in cards]
    assert not any(c.get("detail", "").startswith("New since") for c in cards)
