"""Routing by hour and urgency (issue 11).

Out of hours, urgent work for the front door (level 4, immediate danger) goes to the emergency
duty team with a call now; routine work (level 3) is sent to the front door at once, marked with
when it opens, with no call now. Early help and the LADO keep their own hours. Times are London
time: in 2026 the clocks go forward on 29 March; 6 April (Easter Monday) and 4 May are bank
holidays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time
from pathlib import Path

import pytest

from hooks import hookimpl
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import (
    Call,
    Channel,
    Consent,
    Decision,
    Destination,
    LadoCriterion,
    LawfulBasis,
    Professional,
    PromptCode,
    Receipt,
    Referral,
    ReferralStatus,
    Route,
    Severity,
)
from plugin_core.rules.clock import LONDON, OfficeHours
from plugin_core.rules.decide import make_referrals
from plugin_core.rules.routing import calls_for, destination
from plugin_core.settings.trust_config import (
    AuthorityEntry,
    ConfigError,
    Directory,
    RouteEntry,
    TrustConfig,
    load_trust_config,
)
from tests.peers.service import write_trust_config

REDBRIDGE_FRONT_DOOR = "020 8708 3885"
REDBRIDGE_OUT_OF_HOURS = "020 8708 5897"
ISLINGTON_FRONT_DOOR = "020 7527 7400"
SATURDAY = datetime(2026, 3, 7, 11, 0, tzinfo=LONDON)
MONDAY_OPENING = datetime(2026, 3, 9, 9, 0, tzinfo=LONDON)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@dataclass(eq=False)  # pluggy keeps plugins in sets
class Mailer:
    """A host that sends email referrals and keeps what it was given."""

    sent: list[tuple[Referral, Destination]] = field(default_factory=list)

    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel is not Channel.EMAIL:
            return None
        self.sent.append((referral, destination))
        return Receipt(Channel.EMAIL, delivered=True, reference=f"mail-{len(self.sent)}")


@pytest.fixture
def mailer() -> Mailer:
    return Mailer()


@pytest.fixture
def host(config: TrustConfig, mailer: Mailer) -> ThinkFamily:
    return ThinkFamily(config, extra=[("test-mailer", mailer)], entry_points=False)


def decision(
    level: int, authority: str, at: datetime, *, danger: bool = False, lado: bool = False
) -> Decision:
    return Decision(
        id=f"d-{level}-{authority}",
        contact_id="c-hour",
        decided_by=Professional("nurse-3"),
        decided_at=at,
        share=True,
        reasons="Parent admitted overnight; the children are with a neighbour.",
        level_of_need=level,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        consent=Consent.GIVEN,
        what_shared="Admission and the household.",
        authority_id=authority,
        immediate_danger=danger,
        concerns_person_working_with_children=lado,
        lado_criteria=(LadoCriterion.HARMED_CHILD,) if lado else (),
    )


def referrals(
    config: TrustConfig, level: int, authority: str, at: datetime, **kwargs: bool
) -> dict[Route, Referral]:
    made = make_referrals(
        decision(level, authority, at, **kwargs), authority_id=None, rules=config.rules, now=at
    )
    return {r.route: r for r in made}


# Level 3 out of hours: sent to the front door, marked for the next working day ------------------


def test_level_3_on_a_saturday_is_emailed_to_the_front_door_with_no_call_and_marked_for_monday(
    host: ThinkFamily, mailer: Mailer
) -> None:
    referral = referrals(host.config, 3, "redbridge", SATURDAY)[Route.FRONT_DOOR]
    attempt = host.attempt(referral, now=SATURDAY)
    assert attempt.status is ReferralStatus.DELIVERED and attempt.prompt is None
    assert attempt.destination.route is Route.FRONT_DOOR
    (sent,) = mailer.sent
    assert sent[1].address == "CPAT.Referrals@redbridge.gov.uk"
    assert sent[1].opens_at == MONDAY_OPENING and not sent[1].in_hours
    assert attempt.receipt is not None and attempt.receipt.opens_at == MONDAY_OPENING
    assert attempt.receipt.opens_at.isoformat() == "2026-03-09T09:00:00+00:00"


@pytest.mark.parametrize(
    ("saturday", "tuesday"),
    [
        (london(2026, 5, 2, 11), london(2026, 5, 5, 9)),  # early May bank holiday
        (london(2026, 4, 4, 11), london(2026, 4, 7, 9)),  # Easter Monday
    ],
    ids=["early-may", "easter"],
)
def test_level_3_on_the_saturday_before_a_bank_holiday_monday_is_marked_for_tuesday(
    host: ThinkFamily, mailer: Mailer, saturday: datetime, tuesday: datetime
) -> None:
    referral = referrals(host.config, 3, "redbridge", saturday)[Route.FRONT_DOOR]
    attempt = host.attempt(referral, now=saturday)
    assert attempt.status is ReferralStatus.DELIVERED and attempt.prompt is None
    assert attempt.receipt is not None and attempt.receipt.opens_at == tuesday
    # British Summer Time: 09:00 in London is 08:00 UTC, and the mark says London time.
    assert attempt.receipt.opens_at.isoformat().endswith("T09:00:00+01:00")


def test_level_3_after_closing_on_a_weekday_is_marked_for_the_next_morning(
    host: ThinkFamily, mailer: Mailer
) -> None:
    evening = london(2026, 3, 3, 17, 0)  # a Tuesday, as the front door closes
    referral = referrals(host.config, 3, "redbridge", evening)[Route.FRONT_DOOR]
    attempt = host.attempt(referral, now=evening)
    assert attempt.status is ReferralStatus.DELIVERED and attempt.prompt is None
    assert attempt.receipt is not None and attempt.receipt.opens_at == london(2026, 3, 4, 9)


def test_level_3_in_office_hours_goes_to_the_front_door_with_no_mark(
    host: ThinkFamily, mailer: Mailer
) -> None:
    morning = london(2026, 3, 3, 10, 0)
    referral = referrals(host.config, 3, "redbridge", morning)[Route.FRONT_DOOR]
    attempt = host.attempt(referral, now=morning)
    assert attempt.status is ReferralStatus.DELIVERED
    assert attempt.receipt is not None and attempt.receipt.opens_at is None
    assert mailer.sent[0][1].opens_at is None and mailer.sent[0][1].in_hours


def test_level_3_on_a_saturday_to_a_front_door_reached_only_by_phone_asks_for_a_call_from_monday(
    engine: ThinkFamily,
) -> None:
    referral = referrals(engine.config, 3, "islington", SATURDAY)[Route.FRONT_DOOR]
    attempt = engine.attempt(referral, now=SATURDAY)
    assert attempt.status is ReferralStatus.CALL_REQUIRED and attempt.prompt is not None
    assert attempt.prompt.summary == (
        f"Phone Islington from 09:00 on Monday 9 March: {ISLINGTON_FRONT_DOOR}."
    )
    assert "now" not in attempt.prompt.summary
    assert attempt.prompt.severity is Severity.WARNING
    assert "closed now" in attempt.prompt.detail and "999" in attempt.prompt.detail


# Level 4 or immediate danger out of hours: the emergency duty team, with a call now ------------


def test_level_4_on_a_saturday_goes_to_the_emergency_duty_team_with_a_call_prompt(
    host: ThinkFamily, mailer: Mailer
) -> None:
    referral = referrals(host.config, 4, "redbridge", SATURDAY)[Route.FRONT_DOOR]
    attempt = host.attempt(referral, now=SATURDAY)
    assert attempt.destination.route is Route.OUT_OF_HOURS
    assert attempt.destination.opens_at is None
    assert mailer.sent == []  # Redbridge's duty team takes calls, not email
    assert attempt.status is ReferralStatus.CALL_REQUIRED and attempt.prompt is not None
    assert attempt.prompt.code is PromptCode.CALL_NOW
    assert attempt.prompt.severity is Severity.CRITICAL
    assert attempt.prompt.summary == f"Phone Redbridge now: {REDBRIDGE_OUT_OF_HOURS}."


def test_immediate_danger_at_level_3_on_a_saturday_goes_to_the_police_and_the_duty_team(
    host: ThinkFamily,
) -> None:
    made = referrals(host.config, 3, "redbridge", SATURDAY, danger=True)
    assert list(made) == [Route.POLICE, Route.FRONT_DOOR]
    door = host.attempt(made[Route.FRONT_DOOR], now=SATURDAY)
    assert door.destination.route is Route.OUT_OF_HOURS
    assert door.prompt is not None and REDBRIDGE_OUT_OF_HOURS in door.prompt.summary
    police = host.attempt(made[Route.POLICE], now=SATURDAY)
    assert police.prompt is not None and police.prompt.summary == "Phone the police now: 999."


def test_a_trust_that_makes_level_3_urgent_sends_it_to_the_duty_team_out_of_hours(
    config: TrustConfig,
) -> None:
    urgent_three = replace(config, urgency=replace(config.urgency, urgent_levels=frozenset({3, 4})))
    referral = referrals(urgent_three, 3, "redbridge", SATURDAY)[Route.FRONT_DOOR]
    found = ThinkFamily(urgent_three, entry_points=False).destination_for(referral, SATURDAY)
    assert (found.route, found.phones) == (Route.OUT_OF_HOURS, (REDBRIDGE_OUT_OF_HOURS,))


# Early help and the LADO keep their own hours ---------------------------------------------------


def _borough(*, early_help_hours: OfficeHours | None = None, lado_phone: str = "") -> Directory:
    routes = {
        Route.FRONT_DOOR: RouteEntry(
            Channel.EMAIL, "door@borough.example", "020 0000 1001", "Borough front door"
        ),
        Route.OUT_OF_HOURS: RouteEntry(Channel.PHONE, phone="020 0000 1002", label="Borough EDT"),
        Route.EARLY_HELP: RouteEntry(
            Channel.EMAIL, "early-help@borough.example", office_hours=early_help_hours
        ),
        Route.LADO: RouteEntry(Channel.EMAIL, "lado@borough.example", lado_phone),
    }
    return Directory(
        {"borough": AuthorityEntry("borough", "Borough", ("ZZ9",), OfficeHours(), routes)},
        RouteEntry(Channel.PHONE, phone="999"),
    )


def test_early_help_in_the_evening_is_sent_and_due_from_the_next_working_day(
    config: TrustConfig,
) -> None:
    evening = london(2026, 3, 3, 19, 0)  # Tuesday
    borough = replace(config, directory=_borough())
    referral = referrals(borough, 2, "borough", evening)[Route.EARLY_HELP]
    found = ThinkFamily(borough, entry_points=False).destination_for(referral, evening)
    assert (found.route, found.channel, found.address) == (
        Route.EARLY_HELP,
        Channel.EMAIL,
        "early-help@borough.example",
    )
    assert found.opens_at == london(2026, 3, 4, 9)
    # 24 working hours, all from Wednesday's opening: 17:00 on Friday.
    assert referral.due_by == london(2026, 3, 6, 17)
    one_day = replace(borough, urgency=replace(config.urgency, routine_ack_hours=8))
    assert referrals(one_day, 2, "borough", evening)[Route.EARLY_HELP].due_by == london(
        2026, 3, 4, 17
    )


def test_early_help_with_its_own_hours_waits_for_them_while_the_front_door_is_open() -> None:
    directory = _borough(early_help_hours=OfficeHours(time(10, 0), time(16, 0)))
    morning = london(2026, 3, 2, 9, 30)  # Monday
    early_help = destination(directory, "borough", Route.EARLY_HELP, morning, urgent=False)
    assert early_help.route is Route.EARLY_HELP and not early_help.in_hours
    assert early_help.opens_at == london(2026, 3, 2, 10)
    door = destination(directory, "borough", Route.FRONT_DOOR, morning, urgent=False)
    assert door.in_hours and door.opens_at is None
    late = destination(directory, "borough", Route.EARLY_HELP, london(2026, 3, 2, 16, 30))
    assert late.opens_at == london(2026, 3, 3, 10)


def test_lado_without_hours_of_its_own_follows_the_authoritys_and_never_the_duty_team() -> None:
    directory = _borough()
    evening = london(2026, 3, 6, 17, 30)  # Friday
    found = destination(directory, "borough", Route.LADO, evening, urgent=True)
    assert (found.route, found.address) == (Route.LADO, "lado@borough.example")
    assert found.opens_at == london(2026, 3, 9, 9)
    assert "020 0000 1002" not in found.phones  # the duty team is not the LADO's number
    assert found.phones == ("020 0000 1001",)  # the front door, for when it opens


def test_route_hours_in_the_directory_file_are_read_and_refused_for_the_duty_team(
    tmp_path: Path,
) -> None:
    authorities = """
[police]
channel = "phone"
phone = "999"

[authorities.borough]
name = "Borough"
postcodes = ["ZZ9"]

[authorities.borough.routes.front_door]
channel = "email"
address = "door@borough.example"

[authorities.borough.routes.out_of_hours]
channel = "phone"
phone = "020 0000 1002"

[authorities.borough.routes.early_help]
channel = "email"
address = "early-help@borough.example"
office_hours = { opens = "09:30", closes = "16:30" }

[authorities.borough.routes.lado]
channel = "email"
address = "lado@borough.example"
"""
    config = load_trust_config(write_trust_config(tmp_path / "ok", authorities=authorities))
    entry = config.directory.authorities["borough"]
    assert entry.routes[Route.EARLY_HELP].office_hours == OfficeHours(time(9, 30), time(16, 30))
    assert entry.routes[Route.LADO].office_hours is None
    refused = authorities.replace(
        'phone = "020 0000 1002"',
        'phone = "020 0000 1002"\noffice_hours = { opens = "17:00", closes = "23:00" }',
    )
    with pytest.raises(ConfigError) as caught:
        load_trust_config(write_trust_config(tmp_path / "refused", authorities=refused))
    (issue,) = caught.value.issues
    assert issue.key == "authorities.borough.routes.out_of_hours.office_hours"
    assert "whenever the front door is closed" in issue.reason


# Who to call and when, as fields ----------------------------------------------------------------


def test_calls_for_an_urgent_referral_on_a_saturday_are_the_duty_team_now_then_the_front_door(
    config: TrustConfig,
) -> None:
    calls = calls_for(config.directory, "redbridge", Route.FRONT_DOOR, SATURDAY, urgent=True)
    assert calls == (
        Call(
            REDBRIDGE_OUT_OF_HOURS,
            "Redbridge Child Protection and Assessment Team (evenings and weekends)",
            True,
        ),
        Call(
            REDBRIDGE_FRONT_DOOR,
            "Redbridge Child Protection and Assessment Team",
            False,
            MONDAY_OPENING,
        ),
    )


def test_calls_for_a_routine_referral_on_a_saturday_are_all_for_monday(
    config: TrustConfig,
) -> None:
    calls = calls_for(config.directory, "redbridge", Route.FRONT_DOOR, SATURDAY, urgent=False)
    assert calls == (
        Call(
            REDBRIDGE_FRONT_DOOR,
            "Redbridge Child Protection and Assessment Team",
            False,
            MONDAY_OPENING,
        ),
    )
    weekday = calls_for(
        config.directory, "redbridge", Route.FRONT_DOOR, london(2026, 3, 9, 10), urgent=False
    )
    assert [(c.number, c.available_now, c.available_from) for c in weekday] == [
        (REDBRIDGE_FRONT_DOOR, True, None)
    ]


def test_calls_for_a_route_without_a_label_name_the_authority_and_the_route() -> None:
    (call,) = calls_for(_borough(), "borough", Route.LADO, london(2026, 3, 2, 10))
    assert call == Call("020 0000 1001", "Borough front door", True)
    (own,) = calls_for(
        _borough(lado_phone="020 0000 1004"), "borough", Route.LADO, london(2026, 3, 2, 10)
    )
    assert own == Call("020 0000 1004", "Borough LADO", True)
