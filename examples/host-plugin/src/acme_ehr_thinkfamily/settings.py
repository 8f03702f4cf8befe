"""The ``[acme_ehr]`` table of the trust file, checked when ThinkFamily configures the plugin.

Every fault is collected and raised together as a ``ConfigError``, so ``thinkfamily config
check`` lists them all with the trust file and the key, as it does for its own tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugin_core.settings.trust_config import ConfigError, ConfigIssue, TrustConfig

SECTION = "acme_ehr"
KEYS = ("records", "worklist", "notes", "drop_folder")


@dataclass(frozen=True)
class Settings:
    """Where the fake EHR keeps its records, worklist, notes and dropped referrals."""

    records: Path
    """The EHR's records (JSON): households, problems, the local authority of some patients."""
    worklist: Path
    """JSON lines: one row per prompt to show (ids and prompt codes only)."""
    notes: Path
    """JSON lines: one note per decision written back."""
    drop_folder: Path
    """Each route's ``address`` is a folder inside this one; referrals are written there."""


def read_settings(config: TrustConfig) -> Settings | None:
    """The checked settings, or None when the trust file has no ``[acme_ehr]`` table."""
    section: dict[str, Any] = config.section(SECTION)
    if not section:
        return None
    file = str(config.path)
    issues: list[ConfigIssue] = []

    def fault(key: str, reason: str) -> None:
        issues.append(ConfigIssue(file, f"{SECTION}.{key}", reason))

    for key in section:
        if key not in KEYS:
            fault(key, f"is not a known key (known: {', '.join(KEYS)})")
    paths: dict[str, Path] = {}
    for key in KEYS:
        raw = section.get(key)
        if raw is None:
            fault(key, "is required")
        elif not isinstance(raw, str) or not raw.strip():
            fault(key, "must be a file or folder path as text")
        else:
            paths[key] = config.path.parent / raw  # relative to the trust file
    if "records" in paths and not paths["records"].is_file():
        fault("records", "file not found")
    if "drop_folder" in paths and not paths["drop_folder"].is_dir():
        fault("drop_folder", "folder not found")
    for key in ("worklist", "notes"):
        if key in paths and not paths[key].parent.is_dir():
            fault(key, "its folder does not exist")
    if issues:
        raise ConfigError(issues)
    return Settings(**paths)
