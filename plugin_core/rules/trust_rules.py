"""What the rules read of a trust's configuration, and nothing more.

The settings loader checks the trust file; :attr:`TrustConfig.rules
<plugin_core.settings.config.TrustConfig.rules>` hands the rules this small frozen view of it,
so a rule never sees file paths, ports, tokens or an adapter's section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plugin_core.model import PromptCode
from plugin_core.rules.code_lists import CodeLists
from plugin_core.rules.directory import Directory


@dataclass(frozen=True, slots=True)
class Urgency:
    """Which levels of need are urgent, and how soon each route must acknowledge a referral."""

    urgent_levels: frozenset[int] = frozenset({4})
    urgent_ack_minutes: int = 60
    routine_ack_hours: int = 24
    """Working hours of the route (three working days at 09:00-17:00)."""
    lado_ack_hours: int = 8
    """Working hours of the LADO (one working day at 09:00-17:00)."""


@dataclass(frozen=True, slots=True)
class TrustRules:
    """The trust's directory, code lists, urgency, prompt wording and recheck period."""

    directory: Directory
    code_lists: CodeLists
    urgency: Urgency = Urgency()
    wording: dict[PromptCode, str] = field(default_factory=dict)
    """The trust's own summary for a prompt code, replacing the built-in one."""
    recheck_days: int = 90
    """Days after which a household record is old enough to ask about again."""
