"""``thinkfamily config check`` and the trust configuration loader (issue 2).

The command line is the installed console script run in a subprocess, as an integrator runs it.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.cli import main
from plugin_core.host.check import check_configuration
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import PromptCode, Route
from plugin_core.rules.clock import LONDON
from plugin_core.settings.issues import ConfigError
from plugin_core.settings.load import check_trust_config, load_trust_config

from .builders import CONFIG_DIR, REPO, make_contact


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=60, check=False
    )


def copy_example(tmp_path: Path) -> Path:
    for source in CONFIG_DIR.glob("*.toml"):
        shutil.copy(source, tmp_path / source.name)
    return tmp_path / "example-trust.toml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the example no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_config_check_on_the_example_exits_0_and_warns_about_missing_contacts(
    thinkfamily_script: Path,
) -> None:
    result = run(thinkfamily_script, "config", "check", str(CONFIG_DIR / "example-trust.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: ")]
    directory = str(CONFIG_DIR / "authorities.toml")
    expected_keys = [
        "authorities.islington.routes.out_of_hours",
        "authorities.islington.routes.early_help",
        "authorities.islington.routes.lado",
        "authorities.hackney.routes.front_door",
        "authorities.merton.routes.front_door",
        "authorities.redbridge.routes.lado",
    ]
    for key in expected_keys:
        assert any(f"{directory}: {key}: " in line for line in warnings), key
    assert any("hackney.routes.lado: not configured" in line for line in warnings)
    assert result.stdout.rstrip().endswith(f"valid ({len(warnings)} warning(s))")


def test_config_check_names_every_fault_with_file_key_and_reason(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = copy_example(tmp_path)
    directory = tmp_path / "authorities.toml"
    codes = tmp_path / "codes.toml"
    edit(trust, '# "record-household"', '"consider-everything" = "Ask."\n# "record-household"')
    edit(trust, 'token_env = "THINKFAMILY_API_TOKEN"', 'token = "s3cret-token"')
    edit(directory, 'channel = "email"', 'channel = "pigeon"')
    edit(directory, 'phone = "020 7527 7400"\n', "")
    edit(directory, '"N19", ', '"19N", ')
    edit(
        directory,
        'opens = "09:00", closes = "17:00" }\n\n[authorities.hackney.routes',
        'opens = "9am", closes = "17:00" }\n\n[authorities.hackney.routes',
    )
    edit(codes, 'system = "local"\ncodes = ["DA"', 'system = "read2"\ncodes = ["DA"')

    result = run(thinkfamily_script, "config", "check", str(trust))

    assert result.returncode == 1
    errors = error_lines(result.stderr)
    expected = [
        (trust, "wording.consider-everything", "'consider-everything' is not a prompt code"),
        (trust, "api.token", "tokens must not be written in the file"),
        (directory, "authorities.redbridge.routes.front_door.channel", "'pigeon' is not a channel"),
        (
            directory,
            "authorities.islington.routes.front_door.phone",
            "is required for the phone channel",
        ),
        (
            directory,
            "authorities.islington.postcodes[4]",
            "'19N' is not a postcode district or sector",
        ),
        (directory, "authorities.hackney.office_hours.opens", "'9am' is not a time like 09:00"),
        (codes, "indicator[19].system", "'read2' is not declared in [systems]"),
    ]
    for file, key, reason in expected:
        assert any(line.startswith(f"error: {file}: {key}: {reason}") for line in errors), (
            key,
            errors,
        )
    assert len(errors) == len(expected), errors
    assert f"{len(expected)} error(s) in {trust}" in result.stderr
    assert "s3cret-token" not in result.stdout + result.stderr


def test_config_check_names_a_missing_file_at_the_trust_key_that_names_it(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = copy_example(tmp_path)
    (tmp_path / "codes.toml").unlink()
    result = run(thinkfamily_script, "config", "check", str(trust))
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        f"error: {trust}: trust.code_lists: file not found: 'codes.toml'"
    ]


def test_config_check_names_a_missing_trust_file(thinkfamily_script: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = run(thinkfamily_script, "config", "check", str(missing))
    assert result.returncode == 1
    assert error_lines(result.stderr) == [f"error: {missing}: (file): file not found"]


# The loader, in process --------------------------------------------------------------------------


def test_loading_a_broken_configuration_raises_with_every_error(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, "recheck_days = 90", 'recheck_days = "ninety"')
    edit(trust, "urgent_levels = [4]", "urgent_levels = [5]")
    with pytest.raises(ConfigError) as caught:
        load_trust_config(trust)
    assert [(i.key, i.reason) for i in caught.value.issues] == [
        ("trust.recheck_days", "must be a whole number"),
        ("urgency.urgent_levels[0]", "must be a level of need from 1 to 4"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("recheck_days = 90", "recheck_days = 0", "trust.recheck_days"),
        ("urgent_ack_minutes = 60", "urgent_ack_minutes = 0", "urgency.urgent_ack_minutes"),
        ("routine_ack_hours = 24", "routine_ack_hours = 0", "urgency.routine_ack_hours"),
        ("lado_ack_hours = 8", "lado_ack_hours = 0", "urgency.lado_ack_hours"),
    ],
)
def test_zero_periods_are_errors_not_silently_the_default(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    trust = copy_example(tmp_path)
    edit(trust, old, new)
    issues = [i for i in check_trust_config(trust) if i.severity == "error"]
    assert [(i.key, i.reason) for i in issues] == [(key, "must be 1 or more")]


def test_wording_replaces_a_prompt_summary(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, '# "record-household" = ', '"record-household" = ')
    engine = ThinkFamily(load_trust_config(trust), entry_points=False)
    contact = make_contact(household=None)
    prompt = engine.assess(contact, now=contact.occurred_at, present=False).prompt(
        PromptCode.RECORD_HOUSEHOLD
    )
    assert prompt is not None
    assert prompt.summary == "Ask who lives at home, including any children under 18."


def test_wording_longer_than_140_characters_is_an_error(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, '# "record-household" = "Ask', f'"record-household" = "{"x" * 141}"\n# "Ask')
    issues = [i for i in check_trust_config(trust) if i.severity == "error"]
    assert [(i.key, i.reason) for i in issues] == [
        ("wording.record-household", "must fit in 140 characters")
    ]


def test_misspelt_keys_are_warned_about(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, "urgent_levels = [4]", "urgent_level = [3, 4]")
    edit(tmp_path / "authorities.toml", 'label = "Police', 'lable = "Police')
    warnings = [(i.key, i.reason) for i in check_trust_config(trust) if i.severity == "warning"]
    assert (
        "urgency.urgent_level",
        "is not a known key and is ignored; check its spelling",
    ) in warnings
    assert ("police.lable", "is not a known key and is ignored; check its spelling") in warnings


# The trust's safeguarding lead ---------------------------------------------------------------------

EXAMPLE_LEAD = """[safeguarding.lead]
# Required. The trust's safeguarding lead is alerted (an escalation in the store, the API and
# the audit trail) whenever level 4 or immediate danger is closed without a referral.
# Give a phone number, an email address, or both.
name = "Example Named Nurse"
role = "Named nurse for safeguarding children"
phone = "020 7000 0000"
email = "safeguarding@example-trust.nhs.uk"
"""


def test_the_example_names_the_trusts_safeguarding_lead() -> None:
    lead = load_trust_config(CONFIG_DIR / "example-trust.toml").safeguarding_lead
    assert lead is not None
    assert (lead.name, lead.role) == (
        "Example Named Nurse",
        "Named nurse for safeguarding children",
    )
    assert lead.contact == "020 7000 0000; safeguarding@example-trust.nhs.uk"


def test_config_check_refuses_a_trust_without_a_safeguarding_lead(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = copy_example(tmp_path)
    edit(trust, EXAMPLE_LEAD, "")
    result = run(thinkfamily_script, "config", "check", str(trust))
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"error: {trust}: safeguarding.lead: is required: ")
    assert "alerted when level 4 or immediate danger is not referred" in line


def test_config_check_names_each_fault_in_the_safeguarding_lead(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, 'role = "Named nurse for safeguarding children"', 'role = " "')
    edit(trust, 'phone = "020 7000 0000"', 'phone = "ring the ward"')
    edit(
        trust, 'email = "safeguarding@example-trust.nhs.uk"', 'email = "safeguarding"\npager = "1"'
    )
    issues = [(i.key, i.reason, i.severity) for i in check_trust_config(trust)]
    assert [i for i in issues if i[2] == "error"] == [
        ("safeguarding.lead.role", "must not be empty", "error"),
        ("safeguarding.lead.phone", "'ring the ward' is not a phone number", "error"),
        ("safeguarding.lead.email", "'safeguarding' is not an email address", "error"),
    ]
    assert (
        "safeguarding.lead.pager",
        "is not a known key and is ignored; check its spelling",
        "warning",
    ) in issues


def test_a_lead_needs_a_phone_or_an_email_and_either_alone_is_enough(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, 'phone = "020 7000 0000"\n', "")
    assert load_trust_config(trust).safeguarding_lead.contact == (  # type: ignore[union-attr]
        "safeguarding@example-trust.nhs.uk"
    )
    edit(trust, 'email = "safeguarding@example-trust.nhs.uk"\n', "")
    issues = [(i.key, i.reason) for i in check_trust_config(trust) if i.severity == "error"]
    assert issues == [("safeguarding.lead", "give a phone number or an email address for the lead")]


def test_a_lead_without_a_name_is_refused(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    edit(trust, 'name = "Example Named Nurse"\n', "")
    with pytest.raises(ConfigError) as caught:
        load_trust_config(trust)
    assert [(i.key, i.reason) for i in caught.value.issues] == [
        ("safeguarding.lead.name", "is required")
    ]


def test_every_key_of_the_example_is_in_the_configuration_reference() -> None:
    reference = (REPO / "docs" / "configuration.md").read_text()
    data_tables = {"authorities", "routes", "systems", "relationships", "wording"}

    def keys(table: dict[str, Any], parent: str = "") -> Iterator[str]:
        for key, value in table.items():
            if parent not in data_tables:
                yield key
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    yield from keys(item, key if parent not in data_tables else "")

    for name in ("example-trust.toml", "authorities.toml", "codes.toml", "relationships.toml"):
        with (CONFIG_DIR / name).open("rb") as handle:
            for key in keys(tomllib.load(handle)):
                forms = (f"`{key}`", f"`[{key}]`", f"`[[{key}]]`")
                assert any(form in reference for form in forms), f"{name}: {key} is not documented"
    for route in Route:
        assert f"`{route.value}`" in reference
    for code in PromptCode:
        assert f"`{code.value}`" in reference


def test_config_check_names_faults_in_adapter_sections(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = copy_example(tmp_path)
    edit(trust, 'auth = "none"', 'auth = "magic"')
    result = run(thinkfamily_script, "config", "check", str(trust))
    assert result.returncode == 1
    assert f"{trust}: fhir.auth: 'magic' is not one of none, bearer, smart-backend" in result.stderr


# The go-live check (--strict) ------------------------------------------------------------

COMPLETE_DIRECTORY = """
[police]
channel = "phone"
phone = "999"
verified_on = {day}

[authorities.islington]
name = "Islington"
postcodes = ["N1"]

[authorities.islington.routes.front_door]
channel = "email"
address = "front.door@example.org"
phone = "020 7000 0001"
verified_on = {day}

[authorities.islington.routes.out_of_hours]
channel = "phone"
phone = "020 7000 0002"
verified_on = {day}

[authorities.islington.routes.early_help]
channel = "phone"
phone = "020 7000 0003"
verified_on = {day}

[authorities.islington.routes.lado]
channel = "phone"
phone = "020 7000 0004"
verified_on = {day}
"""

TODAY = date(2026, 12, 1)


def complete_trust(tmp_path: Path, day: str = "2026-11-01") -> Path:
    trust = copy_example(tmp_path)
    (tmp_path / "authorities.toml").write_text(COMPLETE_DIRECTORY.format(day=day))
    return trust


def test_strict_config_check_on_the_example_exits_1_naming_each_gap(
    thinkfamily_script: Path,
) -> None:
    example = str(CONFIG_DIR / "example-trust.toml")
    result = run(thinkfamily_script, "config", "check", "--strict", example)
    assert result.returncode == 1
    errors = error_lines(result.stderr)
    directory = str(CONFIG_DIR / "authorities.toml")
    expected = [
        ("authorities.islington.routes.out_of_hours", "no contact given"),
        ("authorities.hackney.routes.lado", "not configured"),
        ("authorities.merton.routes.front_door", "no contact given"),
        ("authorities.redbridge.routes.front_door.verified_on", "missing"),
        ("police.verified_on", "missing"),
    ]
    for key, reason in expected:
        assert any(f"error: {directory}: {key}: {reason}" in line for line in errors), key
    assert not any("no contact given" in line for line in result.stdout.splitlines())


def test_strict_config_check_passes_a_directory_with_every_route_verified_lately(
    tmp_path: Path,
) -> None:
    issues = check_configuration(complete_trust(tmp_path), strict=True, today=TODAY)
    assert [i for i in issues if i.severity == "error"] == []


def test_strict_config_check_exits_0_on_a_complete_directory(tmp_path: Path) -> None:
    today = datetime.now(LONDON).date().isoformat()
    assert main(["config", "check", "--strict", str(complete_trust(tmp_path, today))]) == 0


def test_a_contact_verified_more_than_six_months_ago_fails_the_strict_check(
    tmp_path: Path,
) -> None:
    trust = complete_trust(tmp_path)
    edit(
        tmp_path / "authorities.toml",
        '020 7000 0004"\nverified_on = 2026-11-01',
        '020 7000 0004"\nverified_on = 2026-05-31',
    )
    strict = check_configuration(trust, strict=True, today=TODAY)
    assert [(i.key, i.severity) for i in strict] == [
        ("authorities.islington.routes.lado.verified_on", "error")
    ]
    assert "more than six months ago" in strict[0].reason
    lenient = check_configuration(trust, today=TODAY)
    assert [(i.key, i.severity) for i in lenient] == [
        ("authorities.islington.routes.lado.verified_on", "warning")
    ]


def test_a_contact_verified_exactly_six_months_ago_still_passes(tmp_path: Path) -> None:
    trust = complete_trust(tmp_path, day="2026-06-01")
    assert check_configuration(trust, strict=True, today=TODAY) == []


def test_an_email_only_route_without_a_phone_fails_the_strict_check(tmp_path: Path) -> None:
    trust = complete_trust(tmp_path)
    edit(tmp_path / "authorities.toml", 'phone = "020 7000 0001"\n', "")
    strict = check_configuration(trust, strict=True, today=TODAY)
    assert [(i.key, i.severity) for i in strict] == [
        ("authorities.islington.routes.front_door.phone", "error")
    ]
    assert check_configuration(trust, today=TODAY) == []


@pytest.mark.parametrize("value", ['"2026-11-01"', "2026-11-01T09:00:00", "20261101"])
def test_a_verified_on_that_is_not_a_date_is_an_error_even_without_strict(
    tmp_path: Path, value: str
) -> None:
    trust = complete_trust(tmp_path)
    edit(
        tmp_path / "authorities.toml",
        'phone = "999"\nverified_on = 2026-11-01',
        f'phone = "999"\nverified_on = {value}',
    )
    issues = check_configuration(trust, today=TODAY)
    assert [(i.key, i.severity) for i in issues] == [("police.verified_on", "error")]
    assert "must be a date" in issues[0].reason
