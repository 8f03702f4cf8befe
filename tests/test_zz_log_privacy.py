"""Every log line the suite produced, in-process and from service processes, is free of the
synthetic patients' identifying values.

Named to run last: it reads what the rest of the suite wrote to the shared log directory.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.conftest import log_dir

_SOURCES = (
    "tests.core.builders",
    "tests.service.conftest",
    "tests.hl7.conftest",
    "tests.web.conftest",
    "tests.fhir.conftest",
    "tests.service.test_example_host_plugin",
)


def synthetic_identifiers() -> set[str]:
    found: set[str] = set()
    for name in _SOURCES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        found.update(getattr(module, "IDENTIFIERS", ()))
        for attr in (
            "PATIENT_NAME",
            "PATIENT_NHS_NUMBER",
            "PATIENT_BIRTH_DATE",
            "PATIENT_POSTCODE",
        ):
            if hasattr(module, attr):
                found.add(getattr(module, attr))
    return {value for value in found if value}


def test_the_scan_knows_the_synthetic_patients() -> None:
    values = synthetic_identifiers()
    assert {"Alex Smith", "9434765919", "Morwenna Testcase", "9990001112"} <= values


def test_no_log_line_of_the_suite_carries_a_patient_identifier() -> None:
    files = sorted(p for p in Path(log_dir()).glob("*.log") if p.stat().st_size)
    if not any(p.name.startswith("in-process-") for p in files) or len(files) < 2:
        pytest.skip("run with the whole suite: this test reads the logs the other tests wrote")
    values = synthetic_identifiers()
    lines = 0
    leaks: list[str] = []
    for path in files:
        text = path.read_text(errors="replace")
        lines += text.count("\n")
        for value in values:
            if value in text:
                leaks.append(f"{path.name}: {value[:3]}…")
    assert lines > 100, "too little logging was captured for the scan to mean anything"
    assert leaks == []
