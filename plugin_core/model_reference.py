"""Writes ``docs/model-reference.md`` from the dataclasses and enumerations themselves.

The reference lists each value a hook takes or returns, with its fields, types, defaults and
docstrings, and each enumeration with its values, so it cannot drift from the code: a test
renders it again and compares. Run ``python -m plugin_core.model_reference [PATH]`` after
changing ``plugin_core/model/`` or the value types of ``plugin_core/contract.py``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import itertools
import pkgutil
import re
import sys
from enum import Enum
from pathlib import Path
from types import ModuleType

from plugin_core import contract, model

DEFAULT_PATH = Path("docs/model-reference.md")

MODEL_ORDER = (
    "people",
    "record",
    "directory",
    "levels",
    "contacts",
    "decisions",
    "referrals",
    "household",
)
"""The model's modules in reading order; one not named here follows, by name."""

CONTRACT_VALUES = (
    "HostChannel",
    "RouteContact",
    "PluginContext",
    "ServeOptions",
    "Accepted",
    "ReferralDetails",
)
"""The value types of ``plugin_core.contract`` a plugin builds or is given."""

_HEADER = """# Model reference

Generated from `plugin_core/model/` and `plugin_core/contract.py` by
`python -m plugin_core.model_reference`: do not edit by hand; a test fails when this page and
the code differ. How the values are used: [hooks.md](hooks.md).

Every value is a frozen dataclass that checks its fields when it is built, so a value built
wrongly fails in the code that built it, with a `ModelError` naming the field (never the
value); inside a hook, ThinkFamily then names the plugin. The checks, by field type:

- an enumeration takes a member, or the member's value as text (`"child"` becomes
  `Relationship.CHILD`); other text is refused;
- `date` takes a date, not a date-time and not text; `datetime` takes a date-time with its
  time zone;
- `bool` takes `True` or `False` (`"no"` is refused);
- `tuple[X, ...]` takes a tuple or a list (kept as a tuple), each item checked as `X`;
- a field typed as another value takes an instance of it.

Identifying fields (names, NHS number, dates of birth, postcodes) are left out of each value's
`repr`, so they stay out of tracebacks and logs.
"""


def render() -> str:
    """The whole page, as committed."""
    parts = [_HEADER, "## Values\n"]
    modules = model_modules()
    for cls in (c for m in modules for c in _classes(m, dataclass=True)):
        parts.append(_dataclass(cls, "plugin_core.model"))
    parts.append("## Values of the plugin contract\n")
    for name in CONTRACT_VALUES:
        parts.append(_dataclass(getattr(contract, name), "plugin_core.contract"))
    parts.append("## Enumerations\n")
    for cls in (c for m in modules for c in _classes(m, dataclass=False)):
        parts.append(_enumeration(cls))
    return "\n".join(parts).rstrip() + "\n"


def write(path: Path = DEFAULT_PATH) -> None:
    path.write_text(render(), encoding="utf-8")


def model_modules() -> list[ModuleType]:
    """Each module of ``plugin_core.model``: those in ``MODEL_ORDER`` first, then any other."""
    names = [m.name for m in pkgutil.iter_modules(model.__path__)]
    ordered = [n for n in MODEL_ORDER if n in names] + sorted(set(names) - set(MODEL_ORDER))
    return [importlib.import_module(f"{model.__name__}.{n}") for n in ordered]


def _classes(module: ModuleType, *, dataclass: bool) -> list[type]:
    """The module's own dataclasses or enumerations, in the order of its source."""
    found: list[type] = []
    for node in ast.parse(inspect.getsource(module)).body:
        cls = getattr(module, node.name) if isinstance(node, ast.ClassDef) else None
        if not isinstance(cls, type):
            continue
        if dataclasses.is_dataclass(cls) if dataclass else issubclass(cls, Enum):
            found.append(cls)
    return found


def _notes(cls: type) -> dict[str, str]:
    """Each attribute's docstring: the string written on the line after it in the class."""
    node = ast.parse(_dedented(inspect.getsource(cls))).body[0]
    assert isinstance(node, ast.ClassDef)
    notes: dict[str, str] = {}
    body = node.body
    for here, after in itertools.pairwise(body):
        target = None
        if isinstance(here, ast.AnnAssign) and isinstance(here.target, ast.Name):
            target = here.target.id
        elif isinstance(here, ast.Assign) and isinstance(here.targets[0], ast.Name):
            target = here.targets[0].id
        if (
            target
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            notes[target] = _text(after.value.value)
    return notes


def _dedented(source: str) -> str:
    lines = source.splitlines()
    indent = len(lines[0]) - len(lines[0].lstrip())
    return "\n".join(line[indent:] for line in lines)


def _dataclass(cls: type, module: str) -> str:
    notes = _notes(cls)
    annotations = inspect.get_annotations(cls)
    rows = ["| field | type | default | notes |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        kind = str(annotations.get(f.name, f.type))
        rows.append(
            f"| `{f.name}` | `{_cell(kind)}` | {_default(f)} | {_cell(notes.get(f.name, ''))} |"
        )
    lines = [f"### `{cls.__name__}`", "", f"`{module}.{cls.__name__}`", ""]
    lines += [_text(inspect.getdoc(cls) or ""), "", *rows, ""]
    lines += _properties(cls)
    return "\n".join(lines)


def _enumeration(cls: type[Enum]) -> str:
    notes = _notes(cls)
    rows = ["| value | notes |", "|---|---|"]
    for member in cls:
        rows.append(f"| `{member.value}` | {_cell(notes.get(member.name, ''))} |")
    lines = [f"### `{cls.__name__}`", "", f"`plugin_core.model.{cls.__name__}`", ""]
    lines += [_text(inspect.getdoc(cls) or ""), "", *rows, ""]
    lines += _properties(cls)
    return "\n".join(lines)


def _properties(cls: type) -> list[str]:
    found = [
        f"- `{name}`: {_text(inspect.getdoc(value) or '')}"
        for name, value in vars(cls).items()
        if isinstance(value, property) and not name.startswith("_")
    ]
    return ["Properties:", "", *found, ""] if found else []


def _default(f: dataclasses.Field[object]) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
        if isinstance(value, tuple) and len(repr(value)) > 60:
            return f"{len(value)} items (see notes)"  # too long to read in a table
        return f"`{value.value!r}`" if isinstance(value, Enum) else f"`{value!r}`"
    if f.default_factory is not dataclasses.MISSING:
        return f"`{f.default_factory()!r}`"
    return "required"


def _text(doc: str) -> str:
    """A docstring as Markdown: reST roles and double back-quotes made plain code."""
    doc = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", inspect.cleandoc(doc))
    return doc.replace("``", "`")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
