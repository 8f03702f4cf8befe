"""What ``config check`` reports: each fault with its file, its dotted key and the reason.

Every fault is collected rather than the first one raised, so an integrator fixes a file in
one pass. Warnings (a misspelt key, a route with no contact) never stop the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from plugin_core.contract import ThinkFamilyError
from plugin_core.settings.faults import Fault, Loc, dotted

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One fault in a configuration file; warnings do not stop the service."""

    file: str
    key: str
    reason: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ConfigError(ThinkFamilyError):
    """The configuration cannot be used; ``issues`` lists every error found.

    Raised by the loader and by a plugin's ``thinkfamily_configure`` about its own settings;
    like every ``ThinkFamilyError`` it passes through the hook facade unchanged.
    """

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


class Issues:
    """The faults found in one file, in the order they were found."""

    def __init__(self, file: str | Path) -> None:
        self.file = str(file)
        self.found: list[ConfigIssue] = []

    def error(self, at: Loc, reason: str) -> None:
        self.found.append(ConfigIssue(self.file, dotted(at), reason))

    def warn(self, at: Loc, reason: str) -> None:
        self.found.append(ConfigIssue(self.file, dotted(at), reason, WARNING))

    def add(self, faults: Iterable[Fault], under: Loc = ()) -> None:
        """Faults found by a model, whose keys start at ``under``."""
        for fault in faults:
            key = dotted(under + fault.at) or "(file)"
            self.found.append(ConfigIssue(self.file, key, fault.reason, fault.severity))

    @property
    def has_errors(self) -> bool:
        return has_errors(self.found)


def has_errors(issues: Iterable[ConfigIssue]) -> bool:
    return any(i.severity == ERROR for i in issues)
