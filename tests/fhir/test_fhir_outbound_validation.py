"""A value the R4B models refuse stops the build, naming the resource and field but never the
value; ids from other systems that cannot be FHIR ids are left off rather than refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
import responses

from adapters.fhir.errors import FhirResourceInvalid
from adapters.fhir.plugin import FhirPlugin
from adapters.fhir.writeback import write_back_bundle
from plugin_core.contract import ReferralDetails
from plugin_core.host.plugins import PluginContext
from plugin_core.model import Channel
from plugin_core.settings.load import load_trust_config
from tests.fhir.outbound_scene import CONTACT, DECISION, DESTINATION, Scene, scene, unresolved


def _forced(value: Any, **changes: Any) -> Any:
    """A copy of a model value with fields set past the checks the model makes when built, as
    a value gone wrong on its way (a store, a plugin's own subclass) would reach the adapter."""
    copy = replace(value)
    for name, changed in changes.items():
        object.__setattr__(copy, name, changed)
    return copy


def _with_child_born(s: Scene, birth: Any) -> Scene:
    """The scene with the first child's birth date replaced, bypassing the model's types."""
    first, *rest = s.assessment.children
    children = (_forced(first, birth_date=birth), *rest)
    return replace(s, assessment=replace(s.assessment, children=children))


def test_child_birth_date_that_is_not_a_date_stops_the_message_naming_the_field_only() -> None:
    s = _with_child_born(scene(), "2016-02-30")
    with pytest.raises(FhirResourceInvalid) as caught:
        s.message()
    text = str(caught.value)
    assert text.startswith("RelatedPerson.birthDate: ")
    assert "2016" not in text and "02-30" not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_patient_birth_date_in_the_wrong_form_is_refused_without_quoting_it() -> None:
    s = scene()
    contact = replace(s.contact, patient=_forced(s.contact.patient, birth_date="01/05/1988"))
    with pytest.raises(FhirResourceInvalid, match=r"^Patient\.birthDate: ") as caught:
        s.message(contact=contact)
    assert "1988" not in str(caught.value)


def test_clock_without_a_time_zone_stops_the_message_at_the_bundle_timestamp() -> None:
    with pytest.raises(FhirResourceInvalid, match=r"^Bundle\.timestamp: "):
        scene().message(now=datetime(2026, 3, 3, 10, 0))  # noqa: DTZ001 - the fault under test


def test_destination_without_an_address_is_refused_as_the_header_endpoint() -> None:
    destination = replace(DESTINATION, address=None)
    with pytest.raises(FhirResourceInvalid) as caught:
        scene().message(destination=destination)
    assert str(caught.value).startswith("MessageHeader MessageHeaderDestination.endpoint: ")


def test_age_of_the_wrong_type_stops_the_write_back_naming_the_answer_field() -> None:
    s = scene()
    first, *rest = s.assessment.children
    assessment = replace(s.assessment, children=(replace(first, age="seven"), *rest))
    with pytest.raises(FhirResourceInvalid) as caught:
        write_back_bundle(s.decision, assessment, "pat-1", "enc-1")
    text = str(caught.value)
    assert text.startswith("QuestionnaireResponse QuestionnaireResponseItemAnswer.valueInteger: ")
    assert "seven" not in text


def test_local_ids_that_cannot_be_fhir_ids_are_left_off_and_entries_stay_linked() -> None:
    contact = {**CONTACT, "id": "hl7-contact-1", "patient": {**CONTACT["patient"], "id": "PAS|77"}}
    decision = {**DECISION, "decided_by": {"id": "a.nurse@trust.example.test"}}
    s = scene(contact, decision)
    bundle = s.message()
    by_kind = {e.resource.get_resource_type(): e.resource for e in bundle.entry}
    assert by_kind["Patient"].id is None
    assert by_kind["Patient"].identifier[0].value == "9000000009"
    assert by_kind["Practitioner"].id is None
    assert by_kind["Practitioner"].identifier[0].value == "a.nurse@trust.example.test"
    # The Flag's author names the host's id, as the write-back does; everything else links.
    assert unresolved(bundle) == {"Practitioner/a.nurse@trust.example.test"}


class _Port:
    def __init__(self, details: ReferralDetails) -> None:
        self.details = details

    def referral_details(self, referral: Any) -> ReferralDetails:
        return self.details

    def count(self, metric: str, amount: int = 1) -> None:
        return None


def test_referral_that_cannot_be_built_asks_for_a_call_and_sends_nothing() -> None:
    s = _with_child_born(scene(), "not a date")
    plugin = FhirPlugin()
    port = _Port(ReferralDetails(s.contact, s.assessment, s.decision))
    plugin.thinkfamily_configure(PluginContext(config=load_trust_config(), service=port))  # type: ignore[arg-type]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        receipt = plugin.thinkfamily_dispatch(s.referral, DESTINATION)
        assert len(wire.calls) == 0
    assert receipt is not None and receipt.channel is Channel.FHIR
    assert not receipt.delivered and not receipt.retryable
    assert "RelatedPerson.birthDate" in receipt.detail
    assert "not a date" not in receipt.detail
