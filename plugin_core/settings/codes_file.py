"""The code lists file: ``[systems]``, each ``[[indicator]]`` entry, and an older
``[relationships]`` table still read from here.

Each entry is read with its own model, so one faulty entry does not hide another's faults;
the first entry that matches a code decides, so a code an earlier entry already matches is
warned about.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from plugin_core.model import IndicatorKind, Relationship, Severity
from plugin_core.settings.code_lists import CodeLists, CodeRule, code_key, system_key
from plugin_core.settings.faults import Fault, choice, refuse, shown
from plugin_core.settings.issues import WARNING, ConfigIssue, Issues
from plugin_core.settings.reader import read_toml, valid_fields, validate
from plugin_core.settings.section import Section, SettingsContext

RATIONALE_MAX = 200
LABEL_MAX = 40
_RELATIONSHIPS = ", ".join(r.value for r in Relationship)


@dataclass(frozen=True, slots=True)
class CodesContext(SettingsContext):
    """The systems declared in ``[systems]``, which every entry's ``system`` must name."""

    systems: dict[str, str]


def _rationale(value: str) -> str:
    value = value.strip()
    if not value:
        refuse("must say why these codes bear on children's welfare")
    if len(value) > RATIONALE_MAX:
        refuse(f"must fit in {RATIONALE_MAX} characters")
    return value


def _label(value: str) -> str:
    value = value.strip()
    if len(value) > LABEL_MAX:
        refuse(f"must fit in {LABEL_MAX} characters")
    return value


def _declared(value: str, info: ValidationInfo) -> str:
    systems = info.context.systems if isinstance(info.context, CodesContext) else {}
    uri = systems.get(system_key(value))
    if uri is None:
        refuse(f"{shown(value)} is not declared in [systems]")
    return uri


class IndicatorEntry(Section):
    """One ``[[indicator]]``: the codes of one system that mean one kind, and their weight."""

    kind: Annotated[
        IndicatorKind,
        choice([k.value for k in IndicatorKind], "an indicator kind", IndicatorKind),
    ]
    weight: Annotated[Severity, choice(["info", "warning", "critical"], "a weight", Severity)]
    rationale: Annotated[str, AfterValidator(_rationale)]
    label: Annotated[str, AfterValidator(_label)] = ""
    system: Annotated[str, AfterValidator(_declared)]
    codes: list[str] = Field(default_factory=list)
    prefixes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _matches_something(self) -> IndicatorEntry:
        if not self.codes and not self.prefixes:
            refuse("must give codes or prefixes")
        return self

    def notes(self) -> Iterator[Fault]:
        if self.kind is IndicatorKind.CHILD_PROTECTION and self.weight is not Severity.CRITICAL:
            yield Fault(
                ("weight",),
                "a child protection flag always gives critical; this is not used",
                WARNING,
            )

    def rule(self) -> CodeRule:
        return CodeRule(
            self.kind,
            self.system,
            frozenset(code_key(c) for c in self.codes),
            tuple(code_key(p) for p in self.prefixes),
            self.weight,
            self.rationale,
            self.label,
        )


class CodesFile(Section):
    systems: dict[str, Any] = Field(default_factory=dict)
    indicator: list[Any] = Field(default_factory=list)
    relationships: dict[str, Any] = Field(default_factory=dict)


def read_code_lists(path: Path) -> tuple[CodeLists | None, list[ConfigIssue]]:
    """The code lists, or None when they have errors; and every issue found in them."""
    issues = Issues(path)
    data = read_toml(path, issues)
    if data is None:
        return None, issues.found
    top = validate(CodesFile, data, issues, context=SettingsContext(path))
    if top is None:  # its faults are listed: read on with the tables that are tables
        top = valid_fields(CodesFile, data)
    systems = _systems(top.systems, issues)
    context = CodesContext(path, systems)
    rules: list[tuple[str, CodeRule]] = []
    for i, raw in enumerate(top.indicator):
        entry = validate(IndicatorEntry, raw, issues, at=("indicator", i), context=context)
        if entry is not None:
            _warn_shadowed(issues, entry.rule(), f"indicator[{i}]", rules)
            rules.append((f"indicator[{i}]", entry.rule()))
    relationships = _older_relationships(top.relationships, issues)
    if issues.has_errors:
        return None, issues.found
    return CodeLists(systems, tuple(r for _, r in rules), relationships), issues.found


def _systems(table: dict[str, Any], issues: Issues) -> dict[str, str]:
    """:func:`system_key` of every name and alias -> the canonical URI (the list's first item)."""
    systems: dict[str, str] = {}
    for name, aliases in table.items():
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            issues.error(
                ("systems", name), "must be a list of texts (the system's URI and aliases)"
            )
            continue
        uri = aliases[0] if aliases else name
        for alias in [name, *aliases]:
            key = system_key(alias)
            if systems.get(key, uri) != uri:
                issues.error(("systems", name), f"{shown(alias)} already names another system")
            systems[key] = uri
    return systems


def _older_relationships(table: dict[str, Any], issues: Issues) -> dict[str, Relationship]:
    found: dict[str, Relationship] = {}
    for local, mapped in table.items():
        if isinstance(mapped, str) and mapped in {r.value for r in Relationship}:
            found[local.strip().upper()] = Relationship(mapped)
        elif isinstance(mapped, str):
            issues.error(
                ("relationships", local),
                f"{shown(mapped)} is not a relationship ({_RELATIONSHIPS})",
            )
        else:
            issues.error(("relationships", local), "must be text")
    return found


def _warn_shadowed(
    issues: Issues, rule: CodeRule, key: str, earlier: list[tuple[str, CodeRule]]
) -> None:
    """Warn about codes an earlier entry already matches: the first match wins, so they are dead."""
    for before_key, before in earlier:
        if before.system != rule.system:
            continue
        hidden = sorted(
            c
            for c in (*rule.codes, *rule.prefixes)
            if c in before.codes or any(c.startswith(p) for p in before.prefixes)
        )
        if hidden:
            issues.warn(
                (key,),
                f"{', '.join(hidden)} never used: {before_key} matches them first "
                "(put the more specific entry first)",
            )
