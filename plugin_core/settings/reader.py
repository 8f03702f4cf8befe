"""How every table is read: TOML, then its model, then every fault with file, key and reason.

Every file of a trust configuration, and every plugin's section, is read the same way:
:func:`read_toml` parses the file, :func:`validate` checks one table against its model and
records each fault at its dotted key. Nothing here raises for bad input; the loaders decide
what to do with the issues.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from plugin_core.settings.faults import UNKNOWN_KEY, Fault, Loc, faults_of
from plugin_core.settings.issues import ERROR, ConfigIssue, Issues
from plugin_core.settings.section import SettingsContext

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, issues: Issues) -> dict[str, Any] | None:
    """The parsed file, or None with the reason recorded under the key ``(file)``."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        issues.error(("(file)",), "file not found")
    except tomllib.TOMLDecodeError as exc:
        issues.error(("(file)",), f"not valid TOML: {exc}")
    except UnicodeDecodeError:
        issues.error(("(file)",), "not valid TOML: the file is not UTF-8 text")
    except RecursionError:
        issues.error(("(file)",), "not valid TOML: tables or lists nested too deeply")
    except OSError as exc:
        issues.error(("(file)",), f"cannot be read: {exc.strerror or type(exc).__name__}")
    except ValueError:  # a name no file can have (a NUL character, say)
        issues.error(("(file)",), "cannot be read: the file name is not usable")
    return None


def validate(
    model: type[M],
    data: Any,
    issues: Issues,
    *,
    at: Loc = (),
    context: SettingsContext | None = None,
) -> M | None:
    """``data`` read as ``model``, or None; every fault is recorded under the key ``at``.

    Unknown keys are reported as the model says (``Section.unknown_key``); when they are only
    warnings, the model is read again without them, so a misspelt key never stops the service.
    """
    reason = str(getattr(model, "unknown_key", "is not a known key"))
    severity = str(getattr(model, "unknown_key_severity", ERROR))
    try:
        try:
            value = model.model_validate(data, context=context)
        except ValidationError as exc:
            faults = [_unknown(f, reason, severity) for f in faults_of(exc)]
            issues.add(faults, at)
            if any(f.severity == ERROR for f in faults):
                return None
            value = model.model_validate(data, context=context, extra="ignore")
        notes = getattr(value, "notes", None)
        if callable(notes):
            issues.add(notes(), at)
    except ValidationError as exc:  # read again without unknown keys: cannot fail differently
        issues.add((f for f in faults_of(exc) if f.kind != UNKNOWN_KEY), at)
        return None
    except Exception as exc:  # a plugin's own validator that fails: name the section, go on
        issues.error(at, f"could not be checked: its model raised {type(exc).__name__}")
        return None
    return value


def valid_fields(model: type[M], data: Any) -> M:
    """``model`` built from the keys of ``data`` that are valid on their own, the rest left at
    their defaults: once a table's faults are reported, the tables beside it are still read."""
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if isinstance(data, dict) and name in data and field.annotation is not None:
            try:
                value = TypeAdapter(field.annotation).validate_python(data[name], strict=True)
            except (ValidationError, TypeError):
                continue
            found[name] = value
    return model.model_construct(**found)


def _unknown(fault: Fault, reason: str, severity: str) -> Fault:
    if fault.kind != UNKNOWN_KEY:
        return fault
    return replace(fault, reason=reason, severity=severity)


def read_sections(
    models: Mapping[str, type[BaseModel]],
    data: Mapping[str, Any],
    issues: Issues,
    context: SettingsContext,
) -> dict[str, BaseModel | None]:
    """Each named section read with its model; an absent section is read as an empty table."""
    return {
        name: validate(model, data.get(name, {}), issues, at=(name,), context=context)
        for name, model in models.items()
    }


def check_sections(
    models: Mapping[str, tuple[type[BaseModel], ...]], data: Mapping[str, Any], file: Path
) -> list[ConfigIssue]:
    """Every fault in the sections plugins contribute; a section two plugins read is checked
    by both, and a fault both find is listed once."""
    issues = Issues(file)
    context = SettingsContext(file)
    for name, kinds in models.items():
        for kind in kinds:
            validate(kind, data.get(name, {}), issues, at=(name,), context=context)
    return list(dict.fromkeys(issues.found))
