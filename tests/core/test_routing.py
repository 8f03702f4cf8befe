"""Which authority, which route, and how it is reached at a given time (issue 2).

Office hours are London time: 08:30 UTC is 09:30 in British Summer Time (open) but 08:30 in
Greenwich Mean Time (before opening). In 2026 the clocks go forward on 29 March and back on
25 October; in 2027 Good Friday (26 March) falls just before they go forward on 28 March.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Channel,
    Consent,
    Decision,
    LawfulBasis,
    Professional,
    PromptCode,
    Route,
    Severity,
)
from plugin_core.rules.children import children_in
from plugin_core.rules.clock import OfficeHours, is_bank_holiday
from plugin_core.rules.decide import make_referrals
from plugin_core.rules.routing import (
    authorities_for_postcode,
    destination,
    locate_authority,
    normalise_postcode,
    routes_for,
)
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.directory import AuthorityEntry, Directory, RouteEntry

from .builders import make_contact, member, utc

ISLINGTON_FRONT_DOOR = "020 7527 7400"
REDBRIDGE_FRONT_DOOR = "020 8708 3885"
REDBRIDGE_OUT_OF_HOURS = "020 8708 5897"


def open_at(config: TrustConfig, at: datetime) -> bool:
    return config.directory.authorities["redbridge"].office_hours.is_open(at)


# Office hours, clock changes and bank holidays --------------------------------------------------


def test_weekday_morning_in_winter_is_in_hours(config: TrustConfig) -> None:
    assert open_at(config, utc(2026, 3, 2, 10, 0))


def test_0830_utc_after_the_spring_clock_change_is_0930_bst_and_in_hours(
    config: TrustConfig,
) -> None:
    assert open_at(config, utc(2026, 3, 30, 8, 30))  # Monday after 29 March


def test_0830_utc_before_the_spring_clock_change_is_0830_gmt_before_opening(
    config: TrustConfig,
) -> None:
    assert not open_at(config, utc(2026, 3, 27, 8, 30))  # Friday before 29 March


def test_0830_utc_before_the_autumn_clock_change_is_0930_bst_and_in_hours(
    config: TrustConfig,
) -> None:
    assert open_at(config, utc(2026, 10, 23, 8, 30))  # Friday before 25 October


def test_0830_utc_after_the_autumn_clock_change_is_0830_gmt_before_opening(
    config: TrustConfig,
) -> None:
    assert not open_at(config, utc(2026, 10, 26, 8, 30))  # Monday after 25 October


def test_1630_utc_in_summer_is_1730_bst_after_closing(config: TrustConfig) -> None:
    assert not open_at(config, utc(2026, 7, 1, 16, 30))
    assert open_at(config, utc(2026, 7, 1, 15, 59))


def test_closing_time_itself_is_out_of_hours() -> None:
    hours = OfficeHours()
    assert hours.is_open(utc(2026, 1, 7, 16, 59))
    assert not hours.is_open(utc(2026, 1, 7, 17, 0))


def test_weekend_is_out_of_hours(config: TrustConfig) -> None:
    assert not open_at(config, utc(2026, 3, 7, 11, 0))  # Saturday
    assert not open_at(config, utc(2026, 3, 8, 11, 0))  # Sunday


def test_christmas_day_is_out_of_hours(config: TrustConfig) -> None:
    assert not open_at(config, utc(2026, 12, 25, 11, 0))  # a Friday


@pytest.mark.parametrize(
    "day",
    [date(2026, 12, 28), date(2027, 12, 27), date(2027, 12, 28)],
    ids=["boxing-day-2026", "christmas-2027", "boxing-day-2027"],
)
def test_substitute_bank_holiday_is_out_of_hours(config: TrustConfig, day: date) -> None:
    assert is_bank_holiday(day)
    assert not open_at(config, utc(day.year, day.month, day.day, 11, 0))


def test_good_friday_before_the_spring_clock_change_is_out_of_hours(config: TrustConfig) -> None:
    assert not open_at(config, utc(2027, 3, 26, 10, 0))
    assert open_at(config, utc(2027, 3, 25, 10, 0))  # Maundy Thursday is a working day


def test_good_friday_after_the_spring_clock_change_is_out_of_hours(config: TrustConfig) -> None:
    assert not open_at(config, utc(2026, 4, 3, 8, 30))
    assert open_at(config, utc(2026, 4, 2, 8, 30))


# Front door and emergency duty team -------------------------------------------------------------


def test_front_door_in_hours_uses_the_front_door_contact(config: TrustConfig) -> None:
    found = destination(config.directory, "redbridge", Route.FRONT_DOOR, utc(2026, 3, 30, 8, 30))
    assert (found.route, found.channel, found.in_hours) == (Route.FRONT_DOOR, Channel.EMAIL, True)
    assert found.address == "CPAT.Referrals@redbridge.gov.uk"
    assert found.phones == (REDBRIDGE_FRONT_DOOR,)


def test_front_door_out_of_hours_goes_to_the_emergency_duty_team(config: TrustConfig) -> None:
    found = destination(config.directory, "redbridge", Route.FRONT_DOOR, utc(2026, 3, 27, 8, 30))
    assert (found.route, found.channel, found.in_hours) == (
        Route.OUT_OF_HOURS,
        Channel.PHONE,
        False,
    )
    assert found.address == REDBRIDGE_OUT_OF_HOURS


def test_front_door_on_a_bank_holiday_goes_to_the_emergency_duty_team(config: TrustConfig) -> None:
    found = destination(config.directory, "redbridge", Route.FRONT_DOOR, utc(2026, 12, 25, 11, 0))
    assert found.route is Route.OUT_OF_HOURS


# Routes a decision takes ------------------------------------------------------------------------

SHARING = Decision(
    id="decision-1",
    contact_id="contact-1",
    decided_by=Professional("nurse-7"),
    decided_at=utc(2026, 3, 2, 10, 30),
    share=True,
    reasons="Concerns for the children's care.",
    level_of_need=3,
    lawful_basis=LawfulBasis.PUBLIC_TASK,
    consent=Consent.GIVEN,
    what_shared="Admission reason.",
    authority_id="islington",
)


@pytest.mark.parametrize("level", [3, 4])
def test_levels_3_and_4_go_to_the_front_door(level: int) -> None:
    assert routes_for(replace(SHARING, level_of_need=level)) == (Route.FRONT_DOOR,)


def test_level_2_goes_to_early_help() -> None:
    assert routes_for(replace(SHARING, level_of_need=2)) == (Route.EARLY_HELP,)


def test_immediate_danger_goes_to_the_police_first_and_the_front_door() -> None:
    decision = replace(SHARING, level_of_need=2, immediate_danger=True)
    assert routes_for(decision) == (Route.POLICE, Route.FRONT_DOOR)


def test_concern_about_someone_working_with_children_goes_to_the_lado() -> None:
    decision = replace(SHARING, level_of_need=1, concerns_person_working_with_children=True)
    assert routes_for(decision) == (Route.LADO,)
    assert routes_for(replace(decision, level_of_need=3)) == (Route.LADO, Route.FRONT_DOOR)


def test_not_sharing_takes_no_route() -> None:
    assert routes_for(replace(SHARING, share=False, immediate_danger=True)) == ()


def test_police_destination_is_999_at_any_hour(config: TrustConfig) -> None:
    found = destination(config.directory, None, Route.POLICE, utc(2026, 12, 25, 3, 0))
    assert (found.channel, found.address, found.phones) == (Channel.PHONE, "999", ("999",))
    assert found.authority is None


def test_lado_route_is_reached_by_phone_when_no_lado_contact_is_given(config: TrustConfig) -> None:
    found = destination(config.directory, "islington", Route.LADO, utc(2026, 3, 2, 10, 0))
    assert (found.route, found.channel) == (Route.LADO, Channel.PHONE)
    assert found.phones == (ISLINGTON_FRONT_DOOR,)


def test_early_help_without_a_contact_offers_the_front_door_in_hours_but_not_the_duty_team_after(
    config: TrustConfig,
) -> None:
    in_hours = destination(config.directory, "redbridge", Route.EARLY_HELP, utc(2026, 3, 2, 10))
    assert (in_hours.route, in_hours.channel) == (Route.EARLY_HELP, Channel.PHONE)
    assert in_hours.phones == (REDBRIDGE_FRONT_DOOR,)
    assert in_hours.label == "no contact configured"
    # Level 2 needs are not an emergency: the emergency duty team is not the number to ring;
    # the front door is, once it opens in the morning.
    evening = destination(config.directory, "redbridge", Route.EARLY_HELP, utc(2026, 3, 2, 19))
    assert REDBRIDGE_OUT_OF_HOURS not in evening.phones
    assert evening.phones == (REDBRIDGE_FRONT_DOOR,)
    assert evening.opens_at == utc(2026, 3, 3, 9, 0)
    front_door_evening = destination(
        config.directory, "redbridge", Route.FRONT_DOOR, utc(2026, 3, 2, 19)
    )
    assert front_door_evening.phones == (REDBRIDGE_OUT_OF_HOURS,)


def test_route_with_no_number_anywhere_is_a_phone_destination_without_numbers(
    config: TrustConfig,
) -> None:
    found = destination(config.directory, "hackney", Route.FRONT_DOOR, utc(2026, 3, 2, 10))
    assert (found.channel, found.phones) == (Channel.PHONE, ())
    assert found.authority is not None and found.authority.id == "hackney"


def test_unconfirmed_authority_is_a_phone_destination_saying_so(config: TrustConfig) -> None:
    found = destination(config.directory, None, Route.FRONT_DOOR, utc(2026, 3, 2, 10))
    assert (found.authority, found.channel, found.label) == (
        None,
        Channel.PHONE,
        "authority not confirmed",
    )


def test_missing_route_with_a_phone_lists_each_number_once() -> None:
    door = RouteEntry(None, phone="020 0000 0001", missing="no secure email yet")
    directory = Directory(
        {"a": AuthorityEntry("a", "A", ("N7",), OfficeHours(), {Route.FRONT_DOOR: door})},
        RouteEntry(Channel.PHONE, phone="999"),
    )
    found = destination(directory, "a", Route.FRONT_DOOR, utc(2026, 3, 2, 10))
    assert found.phones == ("020 0000 0001",)


def test_call_prompt_names_the_authority_and_its_numbers(
    engine: ThinkFamily, config: TrustConfig
) -> None:
    (referral,) = make_referrals(
        replace(SHARING, level_of_need=4, authority_id="redbridge"),
        authority_id=None,
        rules=config.rules,
        now=utc(2026, 3, 2, 19),
    )
    prompt = engine.call_prompt(referral, at=utc(2026, 3, 2, 19))
    assert prompt.code is PromptCode.CALL_NOW and prompt.severity is Severity.CRITICAL
    assert prompt.summary == f"Phone Redbridge now: {REDBRIDGE_OUT_OF_HOURS}."


# Locating the authority ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("N7 8JL", ("N7", "N7 8")),
        ("n78jl", ("N7", "N7 8")),
        ("EC1V 4AB", ("EC1V", "EC1V 4")),
        ("SW19", ("SW19", None)),
        ("not a postcode", None),
        ("", None),
    ],
)
def test_postcodes_are_normalised_to_district_and_sector(
    raw: str, parts: tuple[str, str | None] | None
) -> None:
    assert normalise_postcode(raw) == parts


def test_postcode_in_one_authority_locates_it(engine: ThinkFamily) -> None:
    contact = make_contact(household=[member(date(2016, 6, 1))], postcode="N7 8JL")
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.authority is not None
    assert result.authority.authority.id == "islington"
    assert result.prompt(PromptCode.CONFIRM_AUTHORITY) is None


def test_postcode_listed_by_two_authorities_asks_to_confirm_with_candidates(
    engine: ThinkFamily,
) -> None:
    contact = make_contact(household=[member(date(2016, 6, 1))], postcode="E11 1AA")
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.authority is None
    assert [a.id for a in result.authority.candidates] == ["redbridge", "waltham-forest"]
    prompt = result.prompt(PromptCode.CONFIRM_AUTHORITY)
    assert prompt is not None and prompt.severity is Severity.WARNING
    assert prompt.detail == "Could be: Redbridge, Waltham Forest."


def test_postcode_outside_the_directory_asks_to_confirm(engine: ThinkFamily) -> None:
    contact = make_contact(household=[member(date(2016, 6, 1))], postcode="SW1A 1AA")
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.candidates == ()
    prompt = result.prompt(PromptCode.CONFIRM_AUTHORITY)
    assert prompt is not None and prompt.detail == "a postcode is outside the trust's directory"


def test_invalid_or_missing_postcode_asks_to_confirm(engine: ThinkFamily) -> None:
    for postcode, reason in [
        ("ZZ", "a recorded postcode is not a valid UK postcode"),
        (None, "no postcode is recorded"),
    ]:
        contact = make_contact(household=[member(date(2016, 6, 1))], postcode=postcode)
        prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
            PromptCode.CONFIRM_AUTHORITY
        )
        assert prompt is not None and prompt.detail == reason


def test_ambiguous_postcode_without_children_asks_nothing(engine: ThinkFamily) -> None:
    contact = make_contact(household=[], postcode="N1 1AA")
    assert engine.assess(contact, now=contact.occurred_at, present=False).prompts == ()


def test_childs_own_postcode_beats_the_adults(config: TrustConfig) -> None:
    contact = make_contact(postcode="N7 8JL")
    children = children_in(
        [member(date(2016, 6, 1), postcode="IG1 1AA")], date(2026, 3, 2), pregnant=False
    )
    match = locate_authority(config.directory, contact, children)
    assert match.authority is not None and match.authority.id == "redbridge"


def test_sector_match_beats_district_match() -> None:
    directory = Directory(
        {
            "islington": AuthorityEntry("islington", "Islington", ("N1",), OfficeHours(), {}),
            "hackney": AuthorityEntry("hackney", "Hackney", ("N1 5", "E8"), OfficeHours(), {}),
        },
        RouteEntry(Channel.PHONE, phone="999"),
    )
    assert [a.id for a in authorities_for_postcode(directory, "N1 5AA")] == ["hackney"]
    assert [a.id for a in authorities_for_postcode(directory, "N1 9GU")] == ["islington"]
