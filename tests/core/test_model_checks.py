"""Domain values check their fields when built: a wrong value fails where it is made, naming the
field and never the value; inside a hook, the plugin that made it is named."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, date, datetime
from typing import Any

import pytest

from hooks import hookimpl
from plugin_core import model, model_reference
from plugin_core.contract import HostChannel, PluginError
from plugin_core.formats import serialise
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Assessment,
    Authority,
    AuthorityMatch,
    Channel,
    Child,
    Decision,
    DecisionEscalation,
    Destination,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Lead,
    ModelError,
    Person,
    Professional,
    Prompt,
    PromptCode,
    Receipt,
    Referral,
    Relationship,
    RiskIndicator,
    Route,
    Severity,
)
from plugin_core.settings.trust_config import TrustConfig

from .builders import PATIENT_BIRTH_DATE, PATIENT_NAME, make_contact, make_referral

WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NAIVE = WHEN.replace(tzinfo=None)
PERSON = Person("p1")
AUTHORITY = Authority("islington", "Islington")
LEAD = Lead("Sam Lead")
PROFESSIONAL = Professional("nurse-17")


def _decision(**changes: Any) -> Decision:
    fields: dict[str, Any] = {
        "id": "d1",
        "contact_id": "c1",
        "decided_by": PROFESSIONAL,
        "decided_at": WHEN,
        "share": True,
        "reasons": "reasons",
    }
    return Decision(**(fields | changes))


WRONG: list[tuple[str, Any]] = [
    ("HouseholdMember.relationship", lambda: HouseholdMember(relationship="sprog")),
    (
        "HouseholdMember.birth_date",
        lambda: HouseholdMember(Relationship.CHILD, birth_date=PATIENT_BIRTH_DATE),
    ),
    ("HouseholdMember.birth_date", lambda: HouseholdMember(Relationship.CHILD, birth_date=WHEN)),
    (
        "HouseholdMember.lives_with_patient",
        lambda: HouseholdMember(Relationship.CHILD, lives_with_patient="no"),
    ),
    ("Person.birth_date", lambda: Person("p1", birth_date="1988-05-01")),
    ("RiskIndicator.kind", lambda: RiskIndicator(kind="drugs")),
    ("RiskIndicator.weight", lambda: RiskIndicator(IndicatorKind.OTHER, weight="high")),
    ("FirstContact.occurred_at", lambda: FirstContact("c1", NAIVE, PERSON)),
    ("FirstContact.occurred_at", lambda: FirstContact("c1", "2026-03-02T10:00:00Z", PERSON)),
    ("FirstContact.patient", lambda: FirstContact("c1", WHEN, PATIENT_NAME)),
    ("FirstContact.household", lambda: FirstContact("c1", WHEN, PERSON, household=[{}])),
    ("FirstContact.pregnant", lambda: FirstContact("c1", WHEN, PERSON, pregnant="yes")),
    ("Child.relationship", lambda: Child("k1", 5, "kid", True)),
    ("AuthorityMatch.authority", lambda: AuthorityMatch("islington")),
    ("AuthorityMatch.candidates", lambda: AuthorityMatch(None, ("islington",))),
    ("Prompt.code", lambda: Prompt("call", Severity.INFO, "Call.")),
    ("Prompt.severity", lambda: Prompt(PromptCode.CALL_NOW, "urgent", "Call.")),
    ("Decision.decided_at", lambda: _decision(decided_at=NAIVE)),
    ("Decision.lawful_basis", lambda: _decision(lawful_basis="gdpr")),
    ("Decision.lado_criteria", lambda: _decision(lado_criteria=("harm",))),
    (
        "DecisionEscalation.kind",
        lambda: DecisionEscalation("e1", "d1", "c1", "ignored", LEAD, "nurse-17", WHEN),
    ),
    ("Destination.channel", lambda: Destination(AUTHORITY, Route.LADO, "fax", "", True)),
    ("Destination.route", lambda: Destination(AUTHORITY, "mash", Channel.EMAIL, "", True)),
    (
        "Referral.due_by",
        lambda: dataclasses.replace(make_referral(), due_by="2026-03-05"),
    ),
    ("Receipt.channel", lambda: Receipt(channel="fax", delivered=True)),
    ("Receipt.delivered", lambda: Receipt(Channel.EMAIL, delivered="yes")),
]


@pytest.mark.parametrize(("field", "build"), WRONG, ids=[f for f, _ in WRONG])
def test_a_value_built_wrongly_names_the_field_and_not_the_value(field: str, build: Any) -> None:
    with pytest.raises(ModelError) as caught:
        build()
    assert caught.value.field == field
    message = str(caught.value)
    assert message.startswith(field)
    for given in ("sprog", "1988-05-01", PATIENT_BIRTH_DATE, "drugs", "fax", "gdpr", PATIENT_NAME):
        assert given not in message


def test_household_member_with_relationship_son_is_refused_where_it_is_built() -> None:
    with pytest.raises(ModelError) as caught:
        HouseholdMember(relationship="son")  # type: ignore[arg-type]
    assert caught.value.field == "HouseholdMember.relationship"
    assert str(caught.value).startswith("HouseholdMember.relationship must be a Relationship (")
    assert "'son'" not in str(caught.value)


def test_an_enumeration_value_given_as_its_text_becomes_the_member() -> None:
    member = HouseholdMember(relationship="partners_child")  # type: ignore[arg-type]
    assert member.relationship is Relationship.PARTNERS_CHILD
    indicator = RiskIndicator(kind="mental_health", weight="critical")  # type: ignore[arg-type]
    assert (indicator.kind, indicator.weight) == (IndicatorKind.MENTAL_HEALTH, Severity.CRITICAL)


def test_a_list_is_kept_as_a_tuple_with_each_item_checked() -> None:
    child = HouseholdMember(Relationship.CHILD, birth_date=date(2016, 6, 1))
    contact = FirstContact("c1", WHEN, PERSON, household=[child])  # type: ignore[arg-type]
    assert contact.household == (child,)
    assessment = Assessment("c1", WHEN, True, [], [], [], AuthorityMatch(AUTHORITY))  # type: ignore[arg-type]
    assert assessment.children == () and hash(assessment.children) == hash(())


def test_values_read_back_from_the_store_pass_their_own_checks() -> None:
    contact = make_contact(household=[HouseholdMember(Relationship.CHILD, lives_with_patient=True)])
    assert serialise.loads(FirstContact, serialise.dumps(contact)) == contact
    referral = make_referral()
    assert serialise.loads(Referral, serialise.dumps(referral)) == referral


def test_a_plugin_building_a_member_wrongly_is_named_with_the_field(config: TrustConfig) -> None:
    class SloppyEhr:
        @hookimpl
        def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember]:
            return [HouseholdMember(relationship="son")]  # type: ignore[arg-type]

    engine = ThinkFamily(config, extra=[("sloppy-ehr", SloppyEhr())], entry_points=False)
    with pytest.raises(PluginError) as caught:
        engine.assess(make_contact())
    fault = caught.value
    assert (fault.plugin, fault.hook, fault.error, fault.field) == (
        "sloppy-ehr",
        "thinkfamily_household",
        "ModelError",
        "HouseholdMember.relationship",
    )
    assert str(fault) == (
        "plugin 'sloppy-ehr' failed in thinkfamily_household: "
        "ModelError (HouseholdMember.relationship)"
    )


def test_every_value_of_the_model_checks_its_fields_when_built() -> None:
    """A new dataclass in the model must call ``check_fields`` first in ``__post_init__``."""
    missing = []
    values = [
        (name, cls)
        for module in model_reference.model_modules()
        for name, cls in vars(module).items()
        if inspect.isclass(cls)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == module.__name__
    ]
    assert len(values) > 15, "the walk should find every value of the model"
    for name, cls in values:
        assert getattr(model, name) is cls, f"{name} is not importable from plugin_core.model"
        post = cls.__dict__.get("__post_init__")
        body = inspect.getsource(post).splitlines()[1:] if post else []
        if not body or body[0].strip() != "check_fields(self)":
            missing.append(name)
    assert missing == []


# Channels: the four of ThinkFamily's own, and a host's own x- names --------------------------------


def test_a_host_channel_name_gives_one_member_that_travels_with_the_receipt() -> None:
    channel = Channel("x-acme-filedrop")
    assert channel is Channel("x-acme-filedrop") and channel.is_host
    assert channel.value == "x-acme-filedrop" and not Channel.EMAIL.is_host
    assert list(Channel) == [Channel.FHIR, Channel.HL7, Channel.EMAIL, Channel.PHONE]
    receipt = Receipt(channel="x-acme-filedrop", delivered=True)  # type: ignore[arg-type]
    assert receipt.channel is channel
    assert serialise.loads(Receipt, serialise.dumps(receipt)).channel is channel


@pytest.mark.parametrize("name", ["fax", "x-", "X-Acme", "x-acme_drop", "x-" + "a" * 63])
def test_a_channel_that_is_neither_built_in_nor_x_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Channel(name)
    with pytest.raises(ModelError, match=r"HostChannel\.name"):
        HostChannel(name)
