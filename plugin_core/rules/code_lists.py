"""Clinical code lists as the rules read them: which codes of which system mean which indicator.

Read from the code lists file by :mod:`plugin_core.settings.codes_file`; frozen, so a rule
reads them and never changes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugin_core.model import IndicatorKind, Relationship, Severity


@dataclass(frozen=True, slots=True)
class CodeRule:
    """One ``[[indicator]]`` entry: the codes of one system that mean one kind, and their weight."""

    kind: IndicatorKind
    system: str
    codes: frozenset[str]
    prefixes: tuple[str, ...]
    weight: Severity = Severity.WARNING
    rationale: str = ""
    label: str = ""


def system_key(system: str) -> str:
    """A system name, alias, URI or OID reduced to the form the [systems] table is keyed by.

    Senders spell the same system many ways ("ICD-10", "icd10", "SNOMED CT", "urn:oid:..."), so
    case, spaces, hyphens and underscores in short names do not count, nor "urn:oid:" or a
    trailing slash.
    """
    key = system.strip().casefold().rstrip("/")
    if key.startswith("urn:oid:"):
        return key[len("urn:oid:") :]
    if ":" in key:
        return key
    return re.sub(r"[\s_-]+", "", key)


def code_key(code: str) -> str:
    """A code as matched: case and the dot of an ICD-10 code ("F10.2" is "F102") do not count."""
    return code.strip().upper().replace(".", "")


# HL7's own tables (yes/no, administrative sex, ...) are known vocabularies, never clinical
# findings: their codes are not listed as unclassified.
_HL7_TABLE = re.compile(r"^hl7[0-9]{4}$")
_HL7_TERMINOLOGY = "http://terminology.hl7.org/"


@dataclass(frozen=True, slots=True)
class CodeLists:
    """Clinical code lists that classify record entries as risk indicators."""

    systems: dict[str, str]
    """:func:`system_key` of every name, alias and URI in [systems] -> the canonical URI."""
    rules: tuple[CodeRule, ...]
    relationships: dict[str, Relationship]

    def canonical_system(self, system: str | None) -> str | None:
        """The canonical URI of a recognised system; otherwise the text as sent, trimmed."""
        if system is None or not system.strip():
            return None
        return self.systems.get(system_key(system), system.strip())

    def recognises(self, system: str | None) -> bool:
        """True when the system is declared in [systems] or is one of HL7's own tables."""
        if system is None or not system.strip():
            return False
        key = system_key(system)
        return (
            key in self.systems or bool(_HL7_TABLE.match(key)) or key.startswith(_HL7_TERMINOLOGY)
        )

    def match(self, system: str | None, code: str | None) -> CodeRule | None:
        """The first list that names a coded entry, or None."""
        # A code without its system is ambiguous across code systems: never guess.
        if not code or not code.strip() or system is None or not system.strip():
            return None
        canonical = self.systems.get(system_key(system))
        if canonical is None:
            return None
        normal = code_key(code)
        for rule in self.rules:
            if rule.system != canonical:
                continue
            if normal in rule.codes or any(normal.startswith(p) for p in rule.prefixes):
                return rule
        return None

    def classify(self, system: str | None, code: str | None) -> IndicatorKind | None:
        """The indicator kind for a coded entry, or None when no list names it."""
        rule = self.match(system, code)
        return rule.kind if rule is not None else None
