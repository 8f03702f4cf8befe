"""The adult's clinical record as the rules read it, and the prompts they raise from it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plugin_core.model_checks import ModelError, check_fields


class IndicatorKind(StrEnum):
    """What a risk indicator in the adult's record stands for."""

    SUBSTANCE_MISUSE = "substance_misuse"
    MENTAL_HEALTH = "mental_health"
    DOMESTIC_ABUSE = "domestic_abuse"
    CHILD_PROTECTION = "child_protection"
    PREGNANCY = "pregnancy"
    PREGNANCY_ENDED = "pregnancy_ended"
    """A pregnancy that has ended (miscarriage, termination, ectopic): not a current pregnancy."""
    POSTNATAL = "postnatal"
    """A recent birth: a newborn is implied even when the household lists no children."""
    OTHER = "other"


class Severity(StrEnum):
    """CDS Hooks card indicator values, in rising order."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class PromptCode(StrEnum):
    """Stable prompt codes used by hosts and tests."""

    RECORD_HOUSEHOLD = "record-household"
    CONSIDER_CHILDREN = "consider-children"
    CONSIDER_UNBORN = "consider-unborn"
    CONFIRM_AUTHORITY = "confirm-authority"
    CALL_NOW = "call-now"


@dataclass(frozen=True, slots=True)
class RiskIndicator:
    """A coded entry in the adult's record that bears on children's welfare."""

    kind: IndicatorKind
    """What the entry stands for; ``other`` with a ``system`` and ``code`` to let the trust's
    code lists classify it."""
    system: str | None = None
    """The code system's URI, OID or a name the code lists declare (``ICD-10``)."""
    code: str | None = None
    display: str | None = None
    """The host's text for the code; not used by the rules."""
    source: str = "contact"
    """Which system said so (``contact``, ``ehr``)."""
    weight: Severity | None = None
    """How much the entry weighs on children's welfare; None until classified (see severity.py)."""
    rationale: str = ""
    """The clinical reason for the weight, from the code list or the default for the kind."""
    label: str = ""
    """A short plain name for the entry ("psychosis"), used when explaining a severity."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something the professional should do now, shown as a card, worklist row or host call."""

    code: PromptCode
    severity: Severity
    summary: str
    detail: str = ""
    severity_reason: str = ""
    """Why the prompt has its severity, in a few plain words, for the professional and the audit."""

    def __post_init__(self) -> None:
        check_fields(self)
        if len(self.summary) > 140:
            raise ModelError(f"prompt {self.code.value} summary is over 140 characters")
