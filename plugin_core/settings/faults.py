"""Faults found by pydantic models, each as a path and a plain reason.

One translation serves the trust configuration (dotted keys such as ``hl7.max_connections``)
and the JSON a host posts (paths such as ``$.patient.birth_date``). pydantic's own messages are
replaced by short British wording, and the input value is never repeated, so a fault can be
shown or logged without carrying a patient's details or a secret. Validators that need their
own wording raise through :func:`refuse` or :class:`Refusals`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]
"""Where a fault is: table keys and list positions from the top of the input."""

CUSTOM = "thinkfamily"
"""The pydantic error type of faults worded by ThinkFamily's own validators."""

UNKNOWN_KEY = "extra_forbidden"
"""The pydantic error type of a key the model does not know."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: where, why, and whether it stops the input being used."""

    at: Loc
    reason: str
    severity: str = "error"
    kind: str = CUSTOM


def refuse(reason: str, *at: str | int) -> NoReturn:
    """Stop a validator with one fault; ``at`` names a key below the value being checked."""
    raise PydanticCustomError(CUSTOM, "{reason}", {"reason": reason, "at": at})


class Refusals:
    """Several faults found by one model validator, raised together at their own keys."""

    def __init__(self) -> None:
        self.found: list[tuple[Loc, str]] = []

    def add(self, reason: str, *at: str | int) -> None:
        self.found.append((at, reason))

    def raise_any(self) -> None:
        if self.found:
            raise PydanticCustomError(
                CUSTOM,
                "{reason}",
                {"reason": "; ".join(r for _, r in self.found), "faults": tuple(self.found)},
            )


def shown(value: str, limit: int = 40) -> str:
    """A configured value quoted in a reason, cut short so one long value cannot flood a report."""
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def choice(
    values: Sequence[str], noun: str = "", make: Callable[[str], Any] = str
) -> BeforeValidator:
    """A validator accepting one of ``values`` (text), made into ``make(value)``.

    The reason lists the choices: ``'pigeon' is not a channel (fhir, hl7, email, phone)``, or
    ``'magic' is not one of none, bearer`` when no noun is given.
    """
    listed = ", ".join(values)

    def check(value: object) -> Any:
        if not isinstance(value, str):
            refuse("must be text")
        if value not in values:
            what = f"{noun} ({listed})" if noun else f"one of {listed}"
            refuse(f"{shown(value)} is not {what}")
        return make(value)

    return BeforeValidator(check)


def never(reason: str) -> BeforeValidator:
    """A validator for a key that must not be given at all (a secret written in the file)."""

    def check(value: object) -> NoReturn:
        refuse(reason)

    return BeforeValidator(check)


# Translation -------------------------------------------------------------------------------

_WORDS: dict[str, str] = {
    "missing": "is required",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "frozen_set_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    UNKNOWN_KEY: "is not a known key",
}
_BOUNDED: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", "must be {} or more"),
    "greater_than": ("gt", "must be more than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
    "string_too_long": ("max_length", "must fit in {} characters"),
    "too_long": ("max_length", "must hold at most {} items"),
}

TOML_WORDS: Mapping[str, str] = {}
"""The default wording, for TOML: "text", "a table"."""

JSON_WORDS: Mapping[str, str] = {
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
}
"""Wording for JSON input: "a string", "an object"."""


def faults_of(error: ValidationError, words: Mapping[str, str] = TOML_WORDS) -> list[Fault]:
    """Every fault in a pydantic ValidationError, in the order pydantic found them."""
    found: list[Fault] = []
    for detail in error.errors(include_url=False, include_input=False):
        loc: Loc = tuple(p for p in detail["loc"] if p != "[key]")
        kind = detail["type"]
        ctx: dict[str, Any] = dict(detail.get("ctx") or {})
        if kind == CUSTOM and "faults" in ctx:
            found += [Fault(loc + tuple(at), str(reason)) for at, reason in ctx["faults"]]
        elif kind == CUSTOM:
            found.append(Fault(loc + tuple(ctx.get("at", ())), str(ctx["reason"]), kind=kind))
        else:
            found.append(Fault(loc, _reason(kind, ctx, words), kind=kind))
    return found


def _reason(kind: str, ctx: Mapping[str, Any], words: Mapping[str, str]) -> str:
    if kind in words:
        return words[kind]
    if kind in _WORDS:
        return _WORDS[kind]
    if kind in _BOUNDED:
        name, text = _BOUNDED[kind]
        return text.format(plain(ctx.get(name)))
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if kind == "value_error":
        return str(ctx.get("error", "is not valid"))
    return "is not valid"


def plain(value: Any) -> str:
    """A number as a person writes it: ``50000000``, ``0.1``, never ``5e+07``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Paths -------------------------------------------------------------------------------------


def dotted(loc: Iterable[str | int]) -> str:
    """A configuration key: ``authorities.islington.postcodes[4]``."""
    return json_path(loc, root="")


def json_path(loc: Iterable[str | int], root: str = "$") -> str:
    """A JSON path: ``$.household[0].birth_date``; with ``root=""``, ``escalated_to.name``."""
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
