"""Values are strict where it matters: real booleans, real numbers, ports and periods in range.

A value of the wrong kind is a fault named by its key, never read as something else
(``starttls = "no"`` is not true) and never a crash of ``config check``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from plugin_core.cli import main
from plugin_core.host.check import check_configuration
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Channel, Route
from plugin_core.rules.routing import destination
from plugin_core.settings.issues import ConfigError
from plugin_core.settings.load import load_trust_config
from tests.peers.service import write_trust_config

from .builders import CONFIG_DIR


def trust(tmp_path: Path, extra: str = "", authorities: str | None = None) -> Path:
    return write_trust_config(tmp_path / "trust", extra_toml=extra, authorities=authorities)


def faults(path: Path) -> list[tuple[str, str]]:
    return [(i.key, i.reason) for i in check_configuration(path) if i.severity == "error"]


def test_outbox_poll_seconds_of_minus_one_is_refused(tmp_path: Path) -> None:
    path = trust(tmp_path, "[outbox]\npoll_seconds = -1\n")
    with pytest.raises(ConfigError) as caught:
        load_trust_config(path)
    assert [(i.key, i.reason) for i in caught.value.issues] == [
        ("outbox.poll_seconds", "must be 0.01 or more")
    ]


def test_outbox_retry_cap_below_the_first_delay_is_refused(tmp_path: Path) -> None:
    path = trust(tmp_path, "[outbox]\nretry_base_seconds = 10\nretry_cap_seconds = 5\n")
    assert faults(path) == [("outbox.retry_cap_seconds", "must be at least retry_base_seconds")]


def test_http_port_99999_is_refused(tmp_path: Path) -> None:
    path = trust(tmp_path, "[service]\nhttp_port = 99999\nmllp_port = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_trust_config(path)
    assert [(i.key, i.reason) for i in caught.value.issues] == [
        ("service.http_port", "must be a port number from 1 to 65535"),
        ("service.mllp_port", "must be a port number from 1 to 65535"),
    ]


def test_smtp_port_in_words_is_reported_not_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = trust(tmp_path, '[email]\nsmtp_port = "twenty-five"\n')
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"error: {path}: email.smtp_port: must be a whole number" in err
    assert "Traceback" not in err
    with pytest.raises(ConfigError) as caught:  # start-up refuses it the same way
        ThinkFamily(load_trust_config(path), entry_points=False)
    assert [i.key for i in caught.value.issues] == ["email.smtp_port"]


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("email", "starttls", '"no"'),
        ("email", "starttls", "0"),
        ("hl7", "enabled", '"yes"'),
        ("hl7", "nk1_is_household", "1"),
        ("hl7", "referral_tls", '"true"'),
    ],
)
def test_non_boolean_booleans_are_refused(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    path = trust(tmp_path, f"[{section}]\n{key} = {value}\n")
    assert faults(path) == [(f"{section}.{key}", "must be true or false")]


def test_starttls_false_is_read_as_false(tmp_path: Path) -> None:
    path = trust(tmp_path, "[email]\nstarttls = false\nsmtp_port = 2525\n")
    engine = ThinkFamily(load_trust_config(path), entry_points=False)
    mailer = engine.pm.get_plugin("adapters.email.plugin")
    # The deprecated switch, false, is read as no TLS at all (a relay on the same host).
    assert (mailer.tls.mode.value, mailer.port) == ("none", 2525)


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ('[service]\nhttp_port = "8080"\n', "service.http_port", "must be a whole number"),
        ("[service]\nhttp_port = 8080.0\n", "service.http_port", "must be a whole number"),
        ("[service]\nhttp_port = true\n", "service.http_port", "must be a whole number"),
        ("[outbox]\npoll_seconds = inf\n", "outbox.poll_seconds", "must be a finite number"),
        ("[outbox]\nbatch = 1e3\n", "outbox.batch", "must be a whole number"),
        ('[hl7]\nack_timeout_seconds = "30"\n', "hl7.ack_timeout_seconds", "must be a number"),
        ("[web]\nlink_ttl_minutes = nan\n", "web.link_ttl_minutes", "must be a finite number"),
        ("[fhir]\nretries = 2.5\n", "fhir.retries", "must be a whole number"),
        ("[email]\ntimeout_seconds = -1\n", "email.timeout_seconds", "must be more than 0"),
    ],
    ids=["text", "float", "boolean", "infinity", "float-batch", "text-timeout", "nan",
         "fraction", "negative"],
)  # fmt: skip
def test_numbers_are_not_read_from_text_booleans_or_infinity(
    tmp_path: Path, extra: str, key: str, reason: str
) -> None:
    assert faults(trust(tmp_path, extra)) == [(key, reason)]


def test_a_misspelt_key_in_a_core_section_stays_a_warning(tmp_path: Path) -> None:
    path = trust(tmp_path, "[service]\nhtp_port = 9000\n")
    issues = check_configuration(path, entry_points=False)
    assert [(i.key, i.severity) for i in issues if i.key.startswith("service")] == [
        ("service.htp_port", "warning")
    ]
    assert load_trust_config(path).http_port == 8080


def test_an_empty_list_of_urgent_levels_is_read_as_level_4(tmp_path: Path) -> None:
    path = trust(tmp_path, "[urgency]\nurgent_levels = []\n")
    assert load_trust_config(path).urgency.urgent_levels == frozenset({4})


# Directory values ---------------------------------------------------------------------------

AUTHORITIES = """
[police]
channel = "phone"
phone = "999"

[authorities.testshire]
name = "Testshire"
postcodes = ["N7"]
office_hours = {{ opens = {opens}, closes = "17:00" }}

[authorities.testshire.routes.front_door]
channel = "{channel}"
phone = "020 0000 0000"
address = "secure-post:testshire"
"""
MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_route_may_name_a_host_plugins_own_channel_starting_x(tmp_path: Path) -> None:
    path = trust(tmp_path, authorities=AUTHORITIES.format(channel="x-secure-post", opens='"09:00"'))
    config = load_trust_config(path)
    entry = config.directory.authorities["testshire"].routes[Route.FRONT_DOOR]
    assert entry.channel is not None and entry.channel.value == "x-secure-post"
    assert config.directory.police.channel is Channel.PHONE
    # Routed to the host's channel; the plugin that declares it delivers (config check and
    # start-up refuse a host channel that no plugin declares).
    where = destination(config.directory, "testshire", Route.FRONT_DOOR, MONDAY_NOON)
    assert where.channel.value == "x-secure-post"


@pytest.mark.parametrize("channel", ["x-", "pigeon", "X-post", "x-two words"])
def test_a_channel_neither_built_in_nor_starting_x_is_refused(tmp_path: Path, channel: str) -> None:
    path = trust(tmp_path, authorities=AUTHORITIES.format(channel=channel, opens='"09:00"'))
    (fault,) = faults(path)
    assert fault[0] == "authorities.testshire.routes.front_door.channel"
    assert fault[1].startswith(f"{channel!r} is not a channel (fhir, hl7, email, phone")


def test_office_hours_may_be_written_as_toml_times(tmp_path: Path) -> None:
    path = trust(tmp_path, authorities=AUTHORITIES.format(channel="phone", opens="08:30:00"))
    hours = load_trust_config(path).directory.authorities["testshire"].office_hours
    assert (hours.opens, hours.closes) == (time(8, 30), time(17, 0))


def test_the_example_configuration_has_no_errors() -> None:
    issues = check_configuration(CONFIG_DIR / "example-trust.toml", entry_points=False)
    assert [i for i in issues if i.severity == "error"] == []


def test_a_plugin_section_written_as_a_value_is_refused_at_start_up_and_by_config_check(
    tmp_path: Path,
) -> None:
    path = trust(tmp_path, "[email]\n")
    path.write_text("email = 25\n" + path.read_text().replace("\n[email]\n", "\n"))
    assert faults(path) == [("email", "must be a table")]
    with pytest.raises(ConfigError) as caught:
        ThinkFamily(load_trust_config(path), entry_points=False)
    assert [(i.key, i.reason) for i in caught.value.issues] == [("email", "must be a table")]
