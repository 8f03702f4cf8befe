"""Loading the code lists: every [[indicator]] carries a weight and a rationale, checked with
file, key and reason; aliases of a system match however they are spelt."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from plugin_core.model import IndicatorKind, Severity
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import check_trust_config, load_trust_config

from .builders import CONFIG_DIR

SYSTEMS = """
[systems]
icd10 = ["http://hl7.org/fhir/sid/icd-10", "I10", "ICD-10"]
local = ["https://thinkfamily.example/fhir/CodeSystem/flags", "L"]
"""


def trust_with_codes(tmp_path: Path, codes: str) -> Path:
    trust = tmp_path / "example-trust.toml"
    trust.write_text((CONFIG_DIR / "example-trust.toml").read_text())
    (tmp_path / "authorities.toml").write_text((CONFIG_DIR / "authorities.toml").read_text())
    (tmp_path / "relationships.toml").write_text((CONFIG_DIR / "relationships.toml").read_text())
    (tmp_path / "codes.toml").write_text(SYSTEMS + codes)
    return trust


def faults(tmp_path: Path, codes: str) -> list[tuple[str, str, str]]:
    """(severity, key, reason) of every fault in the code lists file."""
    trust = trust_with_codes(tmp_path, codes)
    return [
        (i.severity, i.key, i.reason)
        for i in check_trust_config(trust)
        if i.file == str(tmp_path / "codes.toml")
    ]


ENTRY = """
[[indicator]]
kind = "mental_health"
system = "icd10"
prefixes = ["F20"]
"""


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ('rationale = "Psychosis can impair care."', "indicator[0].weight", "is required"),
        (
            'weight = "high"\nrationale = "Psychosis can impair care."',
            "indicator[0].weight",
            "'high' is not a weight (info, warning, critical)",
        ),
        ('weight = "warning"', "indicator[0].rationale", "is required"),
        (
            'weight = "warning"\nrationale = "  "',
            "indicator[0].rationale",
            "must say why these codes bear on children's welfare",
        ),
        (
            f'weight = "warning"\nrationale = "{"x" * 201}"',
            "indicator[0].rationale",
            "must fit in 200 characters",
        ),
        (
            f'weight = "warning"\nrationale = "Psychosis."\nlabel = "{"y" * 41}"',
            "indicator[0].label",
            "must fit in 40 characters",
        ),
        ('weight = 2\nrationale = "Psychosis."', "indicator[0].weight", "must be text"),
    ],
    ids=["no-weight", "bad-weight", "no-rationale", "blank-rationale", "long-rationale",
         "long-label", "weight-not-text"],
)  # fmt: skip
def test_indicator_entry_fault_is_named_with_its_key_and_reason(
    tmp_path: Path, extra: str, key: str, reason: str
) -> None:
    assert ("error", key, reason) in faults(tmp_path, ENTRY + extra + "\n")


def test_valid_entry_loads_with_its_weight_rationale_and_label(tmp_path: Path) -> None:
    codes = (
        ENTRY
        + 'weight = "warning"\nrationale = "Psychosis can impair care."\nlabel = "psychosis"\n'
    )
    config = load_trust_config(trust_with_codes(tmp_path, codes))
    (rule,) = config.code_lists.rules
    assert (rule.kind, rule.weight, rule.rationale, rule.label) == (
        IndicatorKind.MENTAL_HEALTH,
        Severity.WARNING,
        "Psychosis can impair care.",
        "psychosis",
    )


def test_child_protection_entry_weighed_below_critical_is_warned_about(tmp_path: Path) -> None:
    codes = """
[[indicator]]
kind = "child_protection"
weight = "warning"
rationale = "A child protection plan."
system = "local"
codes = ["CPP"]
"""
    assert (
        "warning",
        "indicator[0].weight",
        "a child protection flag always gives critical; this is not used",
    ) in faults(tmp_path, codes)


def test_entry_hidden_by_an_earlier_one_is_warned_about(tmp_path: Path) -> None:
    codes = """
[[indicator]]
kind = "postnatal"
weight = "info"
rationale = "A recent birth."
system = "icd10"
prefixes = ["Z37"]

[[indicator]]
kind = "pregnancy_ended"
weight = "info"
rationale = "A stillbirth."
system = "I10"
prefixes = ["Z37.1"]
"""
    assert (
        "warning",
        "indicator[1]",
        "Z371 never used: indicator[0] matches them first (put the more specific entry first)",
    ) in faults(tmp_path, codes)


def test_alias_given_to_two_systems_is_an_error(tmp_path: Path) -> None:
    codes = '\nread = ["http://read.info/readv2", "icd_10"]\n'
    assert ("error", "systems.read", "'icd_10' already names another system") in faults(
        tmp_path, codes
    )


def test_config_check_command_reports_a_missing_weight(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = trust_with_codes(tmp_path, ENTRY + 'rationale = "Psychosis can impair care."\n')
    result = subprocess.run(
        [str(thinkfamily_script), "config", "check", str(trust)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"error: {tmp_path / 'codes.toml'}: indicator[0].weight: is required" in result.stderr


def test_every_example_entry_has_a_weight_and_rationale_and_no_warning(
    config: TrustConfig,
) -> None:
    assert config.code_lists.rules
    for rule in config.code_lists.rules:
        assert rule.rationale and len(rule.rationale) <= 200
        assert rule.label
    assert not [w for w in config.warnings if w.file.endswith("codes.toml")]


@pytest.mark.parametrize(
    "spelling", ["ICD-10", "icd10", "I10", "Icd_10", " icd 10 ", "http://hl7.org/fhir/sid/icd-10/"]
)
def test_system_spellings_reach_the_same_list(config: TrustConfig, spelling: str) -> None:
    assert config.code_lists.classify(spelling, "F20.0") is IndicatorKind.MENTAL_HEALTH


def test_a_rule_may_name_its_system_by_any_alias(tmp_path: Path) -> None:
    codes = """
[[indicator]]
kind = "domestic_abuse"
weight = "warning"
rationale = "Domestic abuse."
system = "l"
codes = ["DA"]
"""
    config = load_trust_config(trust_with_codes(tmp_path, codes))
    assert config.code_lists.classify("L", "da") is IndicatorKind.DOMESTIC_ABUSE
