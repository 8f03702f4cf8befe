"""``thinkfamily assess`` on the README's example contact, and on input it must refuse (issue 2).

``docs/example-contact.json`` is the contact in the README's worked example. Every value in it
is synthetic; the refusals must still never echo any of them.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import assessment_to_dict, parse_contact
from plugin_core.host.engine import ThinkFamily

from .builders import PATIENT_BIRTH_DATE, PATIENT_NAME, PATIENT_NHS_NUMBER, PATIENT_POSTCODE, REPO

EXAMPLE = REPO / "docs" / "example-contact.json"
NOW = "2026-03-01T10:05:00+00:00"  # as in the README
PATIENT_VALUES = (
    PATIENT_NAME,
    PATIENT_NHS_NUMBER,
    PATIENT_BIRTH_DATE,
    PATIENT_POSTCODE,
    "Sam Smith",
)


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), "assess", *args], capture_output=True, text=True, timeout=60, check=False
    )


def example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return doc


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contact.json"
    path.write_text(text)
    return path


def assert_refused_without_patient_values(
    result: subprocess.CompletedProcess[str], reason: str
) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("thinkfamily: ")
    assert reason in result.stderr
    for value in PATIENT_VALUES:
        assert value not in result.stderr


def test_assess_example_contact_prints_consider_children_warning_for_islington(
    thinkfamily_script: Path,
) -> None:
    result = run(thinkfamily_script, str(EXAMPLE), "--now", NOW)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["contact_id"] == "contact-1"
    assert out["assessed_at"] == NOW
    assert out["household_known"] is True
    assert [(c["age"], c["relationship"], c["unborn"]) for c in out["children"]] == [
        (9, "child", False)
    ]
    assert out["indicators"] == ["substance_misuse"]
    assert [(p["code"], p["severity"]) for p in out["prompts"]] == [
        ("consider-children", "warning")
    ]
    assert "substance misuse" in out["prompts"][0]["detail"]
    assert out["authority"]["id"] == "islington"
    for value in PATIENT_VALUES:
        assert value not in result.stdout


def readme_json_blocks() -> list[Any]:
    text = (REPO / "README.md").read_text().split("## A worked example", 1)[1]
    return [json.loads(block.split("```", 1)[0]) for block in text.split("```json\n")[1:3]]


def test_readme_example_contact_is_the_example_file() -> None:
    contact, _ = readme_json_blocks()
    assert contact == example()


def test_readme_example_output_matches_the_assessment(engine: ThinkFamily) -> None:
    _, printed = readme_json_blocks()
    contact = parse_contact(EXAMPLE.read_bytes(), engine.config.code_lists)
    out = assessment_to_dict(engine.assess(contact, now=datetime.fromisoformat(NOW)))
    for key, value in printed.items():
        assert out[key] == value, key


def test_readme_variations_ask_for_the_household_and_the_authority(engine: ThinkFamily) -> None:
    never_asked = example() | {"household": None}
    shared = example()
    shared["patient"]["postcode"] = "N1 5AA"
    now = datetime.fromisoformat(NOW)
    for doc, code in [(never_asked, "record-household"), (shared, "confirm-authority")]:
        contact = parse_contact(json.dumps(doc), engine.config.code_lists)
        prompts = assessment_to_dict(engine.assess(contact, now=now, present=False))["prompts"]
        assert code in [p["code"] for p in prompts]


def test_assess_bad_json_exits_2_naming_the_line(thinkfamily_script: Path, tmp_path: Path) -> None:
    truncated = EXAMPLE.read_text()[:-40]
    result = run(thinkfamily_script, str(write(tmp_path, truncated)), "--now", NOW)
    assert_refused_without_patient_values(result, "$: not valid JSON (line")


@pytest.mark.parametrize("missing", ["absent", "empty"])
def test_assess_contact_without_id_exits_2(
    thinkfamily_script: Path, tmp_path: Path, missing: str
) -> None:
    doc = example()
    if missing == "absent":
        del doc["id"]
    else:
        doc["id"] = " "
    result = run(thinkfamily_script, str(write(tmp_path, json.dumps(doc))), "--now", NOW)
    assert_refused_without_patient_values(result, "$.id: is required")


def test_assess_naive_datetime_exits_2_asking_for_an_offset(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    doc = example()
    doc["occurred_at"] = "2026-03-01T10:00:00"
    result = run(thinkfamily_script, str(write(tmp_path, json.dumps(doc))), "--now", NOW)
    assert_refused_without_patient_values(result, "$.occurred_at: must include a UTC offset")


def test_assess_bad_birth_date_exits_2_without_the_value(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    doc = example()
    doc["patient"]["birth_date"] = "01/05/1988"
    result = run(thinkfamily_script, str(write(tmp_path, json.dumps(doc))), "--now", NOW)
    assert_refused_without_patient_values(result, "$.patient.birth_date: must be a date")
    assert "01/05/1988" not in result.stderr


def test_assess_unreadable_file_exits_2(thinkfamily_script: Path, tmp_path: Path) -> None:
    missing = run(thinkfamily_script, str(tmp_path / "absent.json"))
    assert_refused_without_patient_values(missing, "cannot read (No such file or directory)")
    directory = run(thinkfamily_script, str(tmp_path))
    assert_refused_without_patient_values(directory, "cannot read")


def test_assess_naive_now_exits_2(thinkfamily_script: Path) -> None:
    result = run(thinkfamily_script, str(EXAMPLE), "--now", "2026-03-02T10:00:00")
    assert_refused_without_patient_values(result, "--now must include a UTC offset")


def test_a_reader_that_stops_early_is_not_reported_as_a_failure(thinkfamily_script: Path) -> None:
    """``thinkfamily assess … | head`` : the pipe closes before the output is written."""
    process = subprocess.Popen(
        [str(thinkfamily_script), "assess", str(EXAMPLE), "--now", NOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "failed" not in stderr and "Traceback" not in stderr
