"""A plugin failing on the command line: one line naming the plugin, the hook and the error's
class; ``--debug`` adds the frames (file, line, function) and still no values.

The plugin is an installed package whose exception, and its chained cause, carry the
synthetic patient's identifiers.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.peers.plugin_package import plugin_package

from .builders import PATIENT_BIRTH_DATE, PATIENT_NAME, PATIENT_NHS_NUMBER, PATIENT_POSTCODE, REPO

PATIENT_VALUES = (PATIENT_NAME, PATIENT_NHS_NUMBER, PATIENT_BIRTH_DATE, PATIENT_POSTCODE)

FAULTY_EHR = """
from hooks import hookimpl


class AcmeEhr:
    @hookimpl
    def thinkfamily_household(self, contact):
        patient = contact.patient
        try:
            raise KeyError(f"no household for {patient.nhs_number} born {patient.birth_date}")
        except KeyError as exc:
            raise RuntimeError(f"EHR lookup failed for {patient.name}, {patient.postcode}") from exc


plugin = AcmeEhr()
"""

ONE_LINE = "thinkfamily: plugin 'acme-ehr' failed in thinkfamily_household: RuntimeError\n"


@pytest.fixture
def assess(tmp_path: Path, thinkfamily_script: Path) -> list[str]:
    """The command, as a list, assessing the README's example contact with the faulty plugin."""
    contact = tmp_path / "contact.json"
    contact.write_text((REPO / "docs" / "example-contact.json").read_text())
    return [str(thinkfamily_script), "assess", str(contact)]


def run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = plugin_package(tmp_path / "site", FAULTY_EHR)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def test_failing_hook_prints_one_line_naming_plugin_hook_and_error_class(
    assess: list[str], tmp_path: Path
) -> None:
    doc = json.loads(Path(assess[-1]).read_text())
    assert doc["patient"]["nhs_number"] == PATIENT_NHS_NUMBER  # the plugin has it to leak
    result = run(assess, tmp_path)
    assert result.returncode == 3
    assert (result.stdout, result.stderr) == ("", ONE_LINE)


def test_debug_adds_frames_without_messages_or_values(assess: list[str], tmp_path: Path) -> None:
    command = [assess[0], "--debug", *assess[1:]]
    result = run(command, tmp_path)
    assert result.returncode == 3 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == ONE_LINE.strip()
    frames = [line for line in lines if line.startswith('  File "')]
    assert any("acme_ehr_thinkfamily.py" in f and "in thinkfamily_household" in f for f in frames)
    assert {"KeyError", "RuntimeError", "plugin_core.contract.PluginError"} <= set(lines)
    assert "EHR lookup failed" not in result.stderr and "no household" not in result.stderr
    for value in PATIENT_VALUES:
        assert value not in result.stderr
