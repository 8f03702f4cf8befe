"""The trust configuration as the rest of ThinkFamily reads it, once loaded and checked."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugin_core.model import PromptCode
from plugin_core.rules.code_lists import CodeLists
from plugin_core.rules.directory import Directory
from plugin_core.rules.escalate import SafeguardingLead
from plugin_core.rules.trust_rules import TrustRules, Urgency
from plugin_core.settings.issues import ConfigIssue

__all__ = ["SafeguardingLead", "TrustConfig", "Urgency", "default_config_path"]


@dataclass(frozen=True, slots=True)
class TrustConfig:
    """Everything a trust configures, loaded and checked."""

    path: Path
    trust_id: str
    trust_name: str
    recheck_days: int
    directory: Directory
    code_lists: CodeLists
    urgency: Urgency
    wording: dict[PromptCode, str] = field(default_factory=dict)
    api_token_env: str = "THINKFAMILY_API_TOKEN"
    http_port: int = 8080
    mllp_port: int = 2575
    sections: dict[str, Any] = field(default_factory=dict)
    """Every top-level value of the trust file as written, for the plugins' section models."""
    warnings: tuple[ConfigIssue, ...] = ()
    safeguarding_lead: SafeguardingLead | None = None

    def section(self, name: str) -> dict[str, Any]:
        """A raw section for an adapter to read (``[hl7]``, ``[fhir]``, ``[email]``); the
        adapter checks it with the model it contributes through ``thinkfamily_config_sections``."""
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}

    @property
    def rules(self) -> TrustRules:
        """What the rules read of this configuration, and nothing more."""
        return TrustRules(
            self.directory, self.code_lists, self.urgency, self.wording, self.recheck_days
        )

    @property
    def api_token(self) -> str | None:
        """The API bearer token, read from the environment so it never sits in the file."""
        return os.environ.get(self.api_token_env) or None


def default_config_path() -> Path:
    """The example trust configuration shipped with ThinkFamily."""
    package = Path(__file__).resolve().parents[1]  # plugin_core, installed or in a checkout
    for candidate in (package / "_config", package.parent / "config"):
        if (candidate / "example-trust.toml").is_file():
            return candidate / "example-trust.toml"
    raise FileNotFoundError("the example trust configuration is not installed")
