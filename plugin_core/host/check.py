"""``thinkfamily config check``: every fault in a trust configuration, found in one pass.

The trust file and the files it names; every section a loaded plugin contributes a model for
(built-in or installed), even when the core sections have errors; then, when all of that is
valid, each plugin's own checks as it is configured, and the switches. Each fault names file,
key and reason. Nothing here raises: an input that breaks a check becomes one more fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from plugin_core.contract import PluginContext, ThinkFamilyError
from plugin_core.host.plugins import (
    DISABLED_ENV,
    Hooks,
    channel_issues,
    switch_issues,
    wire_plugins,
)
from plugin_core.rules.clock import LONDON
from plugin_core.settings.directory import NO_CONTACT, NOT_CONFIGURED, go_live_gaps
from plugin_core.settings.issues import ERROR, WARNING, ConfigError, ConfigIssue, has_errors
from plugin_core.settings.load import read_trust_config
from plugin_core.settings.reader import check_sections
from plugin_core.settings.trust import CORE_SECTIONS

UNCLAIMED = (
    "is not a section any loaded plugin reads and is ignored; check its spelling, "
    "or whether its plugin is disabled"
)


def check_configuration(
    path: str | Path,
    *,
    entry_points: bool = True,
    extra: Sequence[tuple[str, object]] = (),
    environ: Mapping[str, str] | None = None,
    strict: bool = False,
    today: date | None = None,
) -> list[ConfigIssue]:
    """Every error and warning in the configuration at ``path``; never raises for any input.

    :param extra: ``(name, plugin)`` pairs registered in process, as ``ThinkFamily`` takes them.
    :param strict: the go-live check: every gap in the directory (a route with no contact, no
        phone number, a contact never or not lately verified) is an error, not a warning.
    :param today: the date ``verified_on`` is measured from (default: today in London).
    """
    file = Path(path)
    issues: list[ConfigIssue] = []
    try:
        _check(file, issues, entry_points, extra, os.environ if environ is None else environ)
        day = today or datetime.now(LONDON).date()
        issues[:] = _go_live(file, issues, strict, day)
    except Exception as exc:  # the last guard: say the check stopped, never show a traceback
        issues.append(
            ConfigIssue(str(file), "(check)", f"the check stopped early ({type(exc).__name__})")
        )
    return issues


def _check(
    file: Path,
    issues: list[ConfigIssue],
    entry_points: bool,
    extra: Sequence[tuple[str, object]],
    environ: Mapping[str, str],
) -> None:
    reading = read_trust_config(file)
    issues += reading.issues
    if reading.data is None:
        return
    try:
        pm = wire_plugins(
            blocked=_disabled(reading.data, environ),
            extra=extra,
            entry_points=entry_points,
            environ=environ,
        )
    except Exception as exc:  # a plugin that cannot be loaded or registered
        issues.append(ConfigIssue(str(file), "(plugins)", f"cannot be loaded: {exc}"))
        return
    hooks = Hooks(pm)
    try:
        models = hooks.config_sections()
    except ThinkFamilyError as exc:  # sections unknown: nothing more can be checked
        issues.append(ConfigIssue(str(file), "(plugins)", str(exc)))
        return
    issues += check_sections(models, reading.data, file)
    for name in reading.data:
        if name not in CORE_SECTIONS and name not in models:
            issues.append(ConfigIssue(str(file), name, UNCLAIMED, WARNING))
    if reading.config is None or has_errors(issues):
        return
    try:
        hooks.configure(PluginContext(config=reading.config))
    except ConfigError as exc:
        issues += exc.issues
    except ThinkFamilyError as exc:
        issues.append(ConfigIssue(str(file), "(plugins)", str(exc)))
    try:  # routes on a host channel: a plugin must declare it, and its check must pass
        issues += channel_issues(hooks, reading.config)
    except ThinkFamilyError as exc:
        issues.append(ConfigIssue(str(file), "(plugins)", str(exc)))
    issues += switch_issues(pm, reading.config, extra=[n for n, _ in extra], environ=environ)


def _go_live(file: Path, issues: list[ConfigIssue], strict: bool, today: date) -> list[ConfigIssue]:
    """The directory's go-live gaps: errors under ``strict``, else only a stale date warns."""
    reading = read_trust_config(file)
    directory = reading.config.directory if reading.config is not None else None
    if directory is None:
        return issues
    gaps = go_live_gaps(directory, today)
    if not strict:
        stale = [(k, r) for k, r in gaps if k.endswith(".verified_on") and "six months" in r]
        return issues + [ConfigIssue(directory.file, k, r, WARNING) for k, r in stale]
    kept = [
        i
        for i in issues
        if not (
            i.severity == WARNING
            and i.file == directory.file
            and i.reason.startswith((NOT_CONFIGURED, NO_CONTACT))
        )
    ]
    return kept + [ConfigIssue(directory.file, k, r, ERROR) for k, r in gaps]


def _disabled(data: dict[str, Any], environ: Mapping[str, str]) -> list[str]:
    """The names switched off, read from the raw file so a faulty file still blocks them."""
    table = data.get("plugins")
    listed = table.get("disabled") if isinstance(table, dict) else None
    names = [n for n in listed if isinstance(n, str)] if isinstance(listed, list) else []
    return names + [n.strip() for n in environ.get(DISABLED_ENV, "").split(",") if n.strip()]
