"""Plugins through the hook facade: checked at registration, faults traced to the plugin (issue 2)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pluggy
import pytest

from adapters.fhir.errors import FhirUnavailable
from hooks import hookimpl
from plugin_core.contract import ContactInvalid, PluginContext, PluginError, ThinkFamilyError
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Authority,
    AuthorityMatch,
    Channel,
    Child,
    Destination,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    PromptCode,
    Referral,
    Relationship,
    RiskIndicator,
    Route,
)
from plugin_core.settings.config import TrustConfig

from .builders import PATIENT_NAME, make_contact, make_referral, member


def with_plugin(config: TrustConfig, plugin: object, **kwargs: Any) -> ThinkFamily:
    return ThinkFamily(config, extra=[("test-host", plugin)], entry_points=False, **kwargs)


# Registration checks -----------------------------------------------------------------------------


def test_misspelt_hookimpl_name_fails_check_pending(config: TrustConfig) -> None:
    class Misspelt:
        @hookimpl
        def thinkfamily_houshold(self, contact: FirstContact) -> list[HouseholdMember]:
            return []

    with pytest.raises(pluggy.PluginValidationError, match="thinkfamily_houshold"):
        with_plugin(config, Misspelt())


def test_hookimpl_with_an_argument_the_spec_lacks_is_refused(config: TrustConfig) -> None:
    class ExtraArgument:
        @hookimpl
        def thinkfamily_household(self, contact: FirstContact, ward: str) -> None:
            return None

    with pytest.raises(pluggy.PluginValidationError, match="ward"):
        with_plugin(config, ExtraArgument())


def test_hook_wrappers_are_refused_naming_the_plugin(config: TrustConfig) -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def thinkfamily_household(self, contact: FirstContact) -> Any:
            return (yield)

    with pytest.raises(PluginError, match="hook wrappers are not supported") as caught:
        with_plugin(config, Wrapper())
    assert (caught.value.plugin, caught.value.hook) == ("test-host", "thinkfamily_household")


def test_blocking_a_built_in_plugin_by_name_leaves_it_out(config: TrustConfig) -> None:
    blocked = "plugin_core.builtin.directory"
    engine = ThinkFamily(config, blocked=[blocked], entry_points=False)
    assert engine.pm.get_plugin(blocked) is None
    assert engine.pm.is_blocked(blocked)
    contact = make_contact(household=[member(date(2016, 6, 1))])
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.reason == "no plugin could locate the authority"
    assert result.prompt(PromptCode.CONFIRM_AUTHORITY) is not None


def test_configure_gives_each_plugin_the_context_once(config: TrustConfig) -> None:
    class Configured:
        def __init__(self) -> None:
            self.contexts: list[PluginContext] = []

        @hookimpl
        def thinkfamily_configure(self, context: PluginContext) -> None:
            self.contexts.append(context)

    plugin = Configured()
    engine = with_plugin(config, plugin)
    assert plugin.contexts == [engine.context]
    assert plugin.contexts[0].config is config and plugin.contexts[0].service is None


# Faults are named after the plugin that made them -------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"relationship": "child"}, "returned dict, expected a list or None"),
        (["child"], "returned a list holding str, expected HouseholdMember"),
    ],
    ids=["dict", "list-of-str"],
)
def test_plugin_returning_the_wrong_type_is_named(
    config: TrustConfig, answer: object, reason: str
) -> None:
    class WrongType:
        @hookimpl
        def thinkfamily_household(self, contact: FirstContact) -> object:
            return answer

    engine = with_plugin(config, WrongType())
    with pytest.raises(PluginError) as caught:
        engine.assess(make_contact())
    assert str(caught.value) == f"plugin 'test-host' failed in thinkfamily_household: {reason}"


def test_first_answer_hook_returning_the_wrong_type_is_named(config: TrustConfig) -> None:
    class WrongAuthority:
        @hookimpl
        def thinkfamily_locate_authority(self, contact: FirstContact, children: list[Child]) -> str:
            return "islington"

    engine = with_plugin(config, WrongAuthority())
    with pytest.raises(
        PluginError, match="returned str, expected AuthorityMatch or None"
    ) as caught:
        engine.assess(make_contact())
    assert caught.value.plugin == "test-host"
    assert caught.value.hook == "thinkfamily_locate_authority"


def test_plugin_raising_is_named_without_repeating_its_message(config: TrustConfig) -> None:
    class Raising:
        @hookimpl
        def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator]:
            raise KeyError(f"no record for {PATIENT_NAME}")

    engine = with_plugin(config, Raising())
    with pytest.raises(PluginError) as caught:
        engine.assess(make_contact())
    assert str(caught.value) == "plugin 'test-host' failed in thinkfamily_risk_indicators: KeyError"
    assert isinstance(caught.value.__cause__, KeyError)
    assert PATIENT_NAME not in str(caught.value)


def test_raising_plugin_is_named_when_two_plugins_share_its_class(config: TrustConfig) -> None:
    class Ward:
        def __init__(self, broken: bool) -> None:
            self.broken = broken

        @hookimpl
        def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator]:
            if self.broken:
                raise ConnectionError("ward system down")
            return []

    engine = ThinkFamily(
        config,
        extra=[("ward-a", Ward(broken=False)), ("ward-b", Ward(broken=True))],
        entry_points=False,
    )
    with pytest.raises(PluginError) as caught:
        engine.assess(make_contact())
    assert (caught.value.plugin, caught.value.hook) == ("ward-b", "thinkfamily_risk_indicators")


def test_wrong_answer_from_a_transport_is_reported_without_sending_twice(
    config: TrustConfig,
) -> None:
    class Courier:
        def __init__(self, answer: object) -> None:
            self.answer = answer
            self.calls = 0

        @hookimpl
        def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> object:
            self.calls += 1
            return self.answer

    wrong, quiet = Courier("sent"), Courier(None)
    engine = ThinkFamily(config, extra=[("quiet", quiet), ("wrong", wrong)], entry_points=False)
    where = Destination(None, Route.FRONT_DOOR, Channel.EMAIL, "duty@council.example", True)
    with pytest.raises(PluginError, match="returned str, expected Receipt or None") as caught:
        engine.hooks.dispatch(make_referral(), where)
    assert caught.value.hook == "thinkfamily_dispatch"
    assert "'wrong'" in str(caught.value) and "'quiet'" in str(caught.value)
    assert wrong.calls == 1 and quiet.calls == 0


def test_contact_invalid_passes_through_the_facade_unchanged(config: TrustConfig) -> None:
    problem = ContactInvalid("PID-7: not a date")

    class Strict:
        @hookimpl
        def thinkfamily_parse_contact(self, data: bytes, hint: str) -> FirstContact | None:
            raise problem

    engine = with_plugin(config, Strict())
    with pytest.raises(ContactInvalid) as caught:
        engine.hooks.parse_contact(b"MSH|^~\\&|", "adt.hl7")
    assert caught.value is problem


def test_an_error_of_ours_not_meant_for_the_caller_is_named_like_any_fault(
    config: TrustConfig,
) -> None:
    class Ehr:
        @hookimpl
        def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator]:
            raise FhirUnavailable("FHIR server not reachable after 3 attempt(s)")

    engine = with_plugin(config, Ehr())
    with pytest.raises(PluginError) as caught:
        engine.assess(make_contact())
    assert (caught.value.plugin, caught.value.hook) == ("test-host", "thinkfamily_risk_indicators")
    assert isinstance(caught.value.__cause__, FhirUnavailable)
    assert isinstance(caught.value.__cause__, ThinkFamilyError)


def test_parse_contact_first_answer_wins_over_the_built_in_reader(config: TrustConfig) -> None:
    own = make_contact(contact_id="from-host")

    class Reader:
        @hookimpl
        def thinkfamily_parse_contact(self, data: bytes, hint: str) -> FirstContact | None:
            return own if hint.endswith(".json") else None

    engine = with_plugin(config, Reader())
    body = b'{"id": "built-in", "occurred_at": "2026-03-01T10:00:00+00:00", "patient": {"id": "p"}}'
    assert engine.hooks.parse_contact(body, "contact.json") is own
    parsed = engine.hooks.parse_contact(body, "")
    assert parsed is not None and parsed.id == "built-in"


# Answers merged, and first answers winning ---------------------------------------------------------


def test_household_answers_from_host_and_contact_are_merged(config: TrustConfig) -> None:
    class Household:
        @hookimpl
        def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember]:
            return [member(date(2019, 1, 1), ref="host-child")]

    engine = with_plugin(config, Household())
    contact = make_contact(household=[member(date(2016, 6, 1), ref="contact-child")])
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert sorted(c.ref for c in result.children) == ["contact-child", "host-child"]


def test_household_is_unknown_only_when_every_answer_is_none(config: TrustConfig) -> None:
    class Knows:
        @hookimpl
        def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember]:
            return []

    contact = make_contact(household=None)
    known = with_plugin(config, Knows()).assess(contact, now=contact.occurred_at, present=False)
    assert known.household_known is True and known.prompts == ()


def test_risk_indicators_from_the_host_are_classified_by_code(config: TrustConfig) -> None:
    class Record:
        @hookimpl
        def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator]:
            return [RiskIndicator(IndicatorKind.OTHER, "L", "MARAC", source="host")]

    contact = make_contact(household=[member(date(2016, 6, 1))])
    result = with_plugin(config, Record()).assess(contact, now=contact.occurred_at, present=False)
    assert [(i.kind, i.source) for i in result.indicators] == [
        (IndicatorKind.DOMESTIC_ABUSE, "host")
    ]


def test_host_authority_answer_beats_the_directory(config: TrustConfig) -> None:
    class AddressService:
        @hookimpl
        def thinkfamily_locate_authority(
            self, contact: FirstContact, children: list[Child]
        ) -> AuthorityMatch:
            assert [c.relationship for c in children] == [Relationship.CHILD]
            merton = Authority("merton", "Merton")
            return AuthorityMatch(merton, (merton,), "host address service")

    contact = make_contact(household=[member(date(2016, 6, 1))], postcode="N1 1AA")
    engine = with_plugin(config, AddressService())
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.authority == Authority("merton", "Merton")
    assert result.prompt(PromptCode.CONFIRM_AUTHORITY) is None


def test_host_declining_to_locate_leaves_it_to_the_directory(config: TrustConfig) -> None:
    class Unsure:
        @hookimpl
        def thinkfamily_locate_authority(
            self, contact: FirstContact, children: list[Child]
        ) -> None:
            return None

    contact = make_contact(household=[member(date(2016, 6, 1))])
    result = with_plugin(config, Unsure()).assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.authority == Authority("islington", "Islington")


# Service hooks --------------------------------------------------------------------------------------


def test_http_routes_and_listeners_are_merged_from_plugins(config: TrustConfig) -> None:
    route, listener = object(), object()

    class Service:
        @hookimpl
        def thinkfamily_http_routes(self, context: PluginContext) -> list[object]:
            return [route]

        @hookimpl
        def thinkfamily_listeners(self, context: PluginContext) -> list[object]:
            return [listener]

    engine = with_plugin(config, Service())
    assert route in engine.hooks.http_routes(engine.context)
    assert listener in engine.hooks.listeners(engine.context)


def test_http_routes_that_are_not_a_list_are_named(config: TrustConfig) -> None:
    class Service:
        @hookimpl
        def thinkfamily_http_routes(self, context: PluginContext) -> object:
            return "GET /"

    engine = with_plugin(config, Service())
    with pytest.raises(
        PluginError, match="'test-host' failed in thinkfamily_http_routes: returned str"
    ):
        engine.hooks.http_routes(engine.context)
