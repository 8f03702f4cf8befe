"""Loading a trust configuration: the trust file, then the files it names, every fault at once.

Each file is read with :func:`plugin_core.settings.reader.read_toml` and its tables with their
models; the issues of all four files are returned together, each with file, key and reason.
Adapter sections are kept raw here and checked against the models the plugins contribute
(``thinkfamily_config_sections``), by ``config check`` and at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from plugin_core.settings.code_lists import CodeLists
from plugin_core.settings.codes_file import read_code_lists
from plugin_core.settings.config import TrustConfig, default_config_path
from plugin_core.settings.directory import Directory, read_directory
from plugin_core.settings.faults import shown
from plugin_core.settings.issues import ERROR, ConfigError, ConfigIssue, Issues, has_errors
from plugin_core.settings.reader import read_sections, read_toml
from plugin_core.settings.relationships import (
    RELATIONSHIPS_FILE,
    read_relationships,
    with_vocabulary,
)
from plugin_core.settings.section import SettingsContext
from plugin_core.settings.trust import (
    CORE_SECTIONS,
    ApiSection,
    SafeguardingSection,
    ServiceSection,
    TrustSection,
    UrgencySection,
    WordingSection,
)


@dataclass(frozen=True, slots=True)
class Reading:
    """A trust file read: the configuration when it can be used, every issue, and the parsed
    TOML (None when the file could not be read) for checking plugin sections."""

    config: TrustConfig | None
    issues: list[ConfigIssue] = field(default_factory=list)
    data: dict[str, Any] | None = None


def load_trust_config(path: str | Path | None = None) -> TrustConfig:
    """Load a trust configuration and the files it names, or raise ConfigError with every fault."""
    reading = read_trust_config(path)
    if reading.config is None or has_errors(reading.issues):
        raise ConfigError([i for i in reading.issues if i.severity == ERROR])
    return reading.config


def check_trust_config(path: str | Path) -> list[ConfigIssue]:
    """Every error and warning in a trust configuration and the files it names."""
    return read_trust_config(path).issues


def read_trust_config(path: str | Path | None = None) -> Reading:
    """The configuration (None when it has errors) and every issue; never raises for bad input."""
    path = Path(path) if path else default_config_path()
    issues = Issues(path)
    data = read_toml(path, issues)
    if data is None:
        return Reading(None, issues.found)
    if "trust" not in data:
        issues.error(("trust",), "is required")
    models = read_sections(CORE_SECTIONS, data, issues, SettingsContext(path))
    trust = cast(TrustSection | None, models["trust"])
    found = list(issues.found)
    names = _file_names(data.get("trust"))
    found += _missing_files(path, names)
    directory: Directory | None = None
    codes: CodeLists | None = None
    if names["directory"]:
        directory, more = read_directory(path.parent / names["directory"])
        found += more
    if names["postcode_lookup"]:
        from plugin_core.settings.postcodes import attach_lookup  # only when a trust has one

        directory, more = attach_lookup(
            path, names["postcode_lookup"], directory, path.parent / names["directory"]
        )
        found += more
    if names["code_lists"]:
        codes, more = read_code_lists(path.parent / names["code_lists"])
        found += more
    vocabulary = None
    if names["relationships"]:
        vocabulary, more = read_relationships(path.parent / names["relationships"])
        found += more
    if codes is not None and vocabulary is not None:
        codes, more = with_vocabulary(codes, vocabulary, path.parent / names["code_lists"])
        found += more
    if trust is None or directory is None or codes is None or has_errors(found):
        return Reading(None, found, data)
    urgency = cast(UrgencySection, models["urgency"])
    lead = cast(SafeguardingSection, models["safeguarding"]).lead
    service = cast(ServiceSection, models["service"])
    config = TrustConfig(
        path=path,
        trust_id=trust.id,
        trust_name=trust.name,
        recheck_days=trust.recheck_days,
        directory=directory,
        code_lists=codes,
        urgency=urgency.urgency(),
        wording=dict(cast(WordingSection, models["wording"]).root),
        api_token_env=cast(ApiSection, models["api"]).token_env,
        http_port=service.http_port,
        mllp_port=service.mllp_port,
        sections=dict(data),
        warnings=tuple(i for i in found if i.severity != ERROR),
        safeguarding_lead=lead.lead() if lead is not None else None,
    )
    return Reading(config, found, data)


def _missing_files(trust_file: Path, names: dict[str, str]) -> list[ConfigIssue]:
    """A file ``[trust]`` names that is not there is a fault of the trust file's key, not of a
    file nobody wrote; the name is then dropped so nothing tries to read it."""
    missing = []
    for key in ("directory", "code_lists", "relationships"):
        if names[key] and not (trust_file.parent / names[key]).is_file():
            reason = f"file not found: {shown(names[key], 80)}"
            missing.append(ConfigIssue(str(trust_file), f"trust.{key}", reason))
            names[key] = ""
    return missing


def _file_names(table: Any) -> dict[str, str]:
    """The files ``[trust]`` names, read even when another key of it is wrong, so their own
    faults are listed in the same pass; a name that is not text is reported by the model."""
    table = table if isinstance(table, dict) else {}
    names = {
        "directory": "",
        "code_lists": "",
        "relationships": RELATIONSHIPS_FILE,
        "postcode_lookup": "",
    }
    for key in names:
        value = table.get(key)
        if isinstance(value, str) and value.strip():
            names[key] = value.strip()
    return names
