"""The fake EHR: patients' households, problems and local authority, from one JSON file.

A real integration would call the EHR's own API here. Faults in the file are reported by their
JSON path (``patients[0].household[1].birth_date``), never by the value found there: the
file holds patients' details.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from plugin_core.model import IndicatorKind
from plugin_core.settings.trust_config import ConfigError, ConfigIssue

_KINDS = frozenset(kind.value for kind in IndicatorKind)


@dataclass(frozen=True)
class Member:
    """Someone the EHR records in the patient's household, as the EHR words it."""

    id: str | None
    name: str | None
    birth_date: date | None
    relationship: str | None
    lives_with_patient: bool | None
    postcode: str | None

    def __repr__(self) -> str:
        return f"Member(id={self.id!r})"


@dataclass(frozen=True)
class Problem:
    """A coded entry on the patient's problem list or an alert the EHR raised."""

    kind: str | None
    system: str | None
    code: str | None
    display: str | None


@dataclass(frozen=True)
class PatientRecord:
    id: str
    household: tuple[Member, ...] | None
    """None when the household was never asked about; empty when nobody else lives there."""
    problems: tuple[Problem, ...]
    local_authority: str | None
    """The authority's id in the trust's directory, when the EHR knows it better than the
    postcode does (a child looked after by another authority, say)."""


class _Reader:
    def __init__(self, file: Path) -> None:
        self.file = str(file)
        self.issues: list[ConfigIssue] = []

    def fault(self, where: str, reason: str) -> None:
        self.issues.append(ConfigIssue(self.file, where, reason))

    def text(self, item: dict[str, Any], key: str, where: str) -> str | None:
        value = item.get(key)
        if value is None or isinstance(value, str):
            return value
        self.fault(f"{where}.{key}", "must be text")
        return None

    def day(self, item: dict[str, Any], key: str, where: str) -> date | None:
        value = self.text(item, key, where)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fault(f"{where}.{key}", "must be a date like 2017-02-11")
            return None

    def flag(self, item: dict[str, Any], key: str, where: str) -> bool | None:
        value = item.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.fault(f"{where}.{key}", "must be true, false or null")
        return None

    def kind(self, item: dict[str, Any], where: str) -> str | None:
        value = self.text(item, "kind", where)
        if value is not None and value not in _KINDS:
            self.fault(f"{where}.kind", f"is not an indicator kind ({', '.join(sorted(_KINDS))})")
            return None
        return value

    def items(self, value: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(value, list):
            self.fault(where, "must be a list")
            return []
        found = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                found.append((f"{where}[{i}]", item))
            else:
                self.fault(f"{where}[{i}]", "must be an object")
        return found


def load_records(path: Path) -> dict[str, PatientRecord]:
    """Every patient in the file by the EHR's id; raises ConfigError listing each fault."""
    reader = _Reader(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([ConfigIssue(str(path), "(file)", _unreadable(exc))]) from None
    patients = data.get("patients") if isinstance(data, dict) else None
    records: dict[str, PatientRecord] = {}
    for where, item in reader.items(patients, "patients"):
        patient_id = reader.text(item, "id", where)
        if not patient_id:
            reader.fault(f"{where}.id", "is required")
            continue
        if patient_id in records:
            reader.fault(f"{where}.id", "is given to an earlier patient too")
        household = None
        if item.get("household") is not None:
            household = tuple(
                Member(
                    id=reader.text(member, "id", at),
                    name=reader.text(member, "name", at),
                    birth_date=reader.day(member, "birth_date", at),
                    relationship=reader.text(member, "relationship", at),
                    lives_with_patient=reader.flag(member, "lives_with_patient", at),
                    postcode=reader.text(member, "postcode", at),
                )
                for at, member in reader.items(item["household"], f"{where}.household")
            )
        problems = tuple(
            Problem(
                kind=reader.kind(problem, at),
                system=reader.text(problem, "system", at),
                code=reader.text(problem, "code", at),
                display=reader.text(problem, "display", at),
            )
            for at, problem in reader.items(item.get("problems", []), f"{where}.problems")
        )
        records[patient_id] = PatientRecord(
            id=patient_id,
            household=household,
            problems=problems,
            local_authority=reader.text(item, "local_authority", where),
        )
    if reader.issues:
        raise ConfigError(reader.issues)
    return records


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror})"
    return "not valid JSON"
