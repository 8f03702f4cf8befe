"""The hazard log is evidence only while every control it cites is proved by a test that exists.

A hazard that names a deleted or renamed test, or leaves out a field DCB0129 asks for, fails here
so the log cannot drift from the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOG = REPO / "docs" / "clinical-safety" / "hazard-log.md"
CASE = REPO / "docs" / "clinical-safety" / "safety-case.md"
FIELDS = ("Cause", "Effect", "Initial risk", "Controls", "Residual risk", "Tests")
TEST_NAME = re.compile(r"`(test_[a-z0-9_]+)`")
RISK = re.compile(r"\b[1-5]\b")


def _hazards() -> dict[str, str]:
    parts = re.split(r"^### (H\d+)\b", LOG.read_text(encoding="utf-8"), flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^\s*(?:async )?def (test_[a-z0-9_]+)", path.read_text(), re.M))
    return names


def test_hazard_log_holds_at_least_twelve_numbered_hazards() -> None:
    ids = list(_hazards())
    assert len(ids) >= 12
    assert ids == [f"H{n}" for n in range(1, len(ids) + 1)], (
        "hazards are numbered H1, H2, … in order"
    )


@pytest.mark.parametrize("hazard", sorted(_hazards(), key=lambda h: int(h[1:])))
def test_each_hazard_has_every_dcb0129_field_and_a_risk_rating(hazard: str) -> None:
    body = _hazards()[hazard]
    for name in FIELDS:
        assert re.search(rf"^- \*\*{name}\*\*:", body, re.M), f"{hazard} lacks {name}"
    for name in ("Initial risk", "Residual risk"):
        line = re.search(rf"^- \*\*{name}\*\*:(.*)$", body, re.M)
        assert line and RISK.search(line.group(1)), f"{hazard} {name} gives no rating 1-5"
    assert TEST_NAME.search(body), f"{hazard} names no test"


def test_every_test_named_in_the_hazard_log_exists() -> None:
    defined = _defined_tests()
    named = set(TEST_NAME.findall(LOG.read_text(encoding="utf-8")))
    missing = sorted(named - defined)
    assert not missing, f"hazard log names tests that do not exist: {missing}"


def test_safety_case_refers_to_every_hazard() -> None:
    case = CASE.read_text(encoding="utf-8")
    for hazard in _hazards():
        assert re.search(rf"\b{hazard}\b", case), f"safety case does not mention {hazard}"
