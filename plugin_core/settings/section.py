"""The base of every section model, and the value types sections share.

A section of the trust file (``[service]``, ``[hl7]``, a host plugin's ``[acme]``) is a
pydantic model derived from :class:`Section`: types are strict (``"no"`` is not a boolean,
``"25"`` is not a number, ``true`` is not a number), numbers have stated ranges, infinity and
NaN are refused, and a key the model does not know is reported (a misspelt key would otherwise
silently leave its default in force).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from plugin_core.settings.faults import CUSTOM, Fault, plain, refuse, shown
from plugin_core.settings.issues import WARNING


@dataclass(frozen=True, slots=True)
class SettingsContext:
    """What validators may know besides the value: the file being read (for relative paths)."""

    file: Path

    @property
    def folder(self) -> Path:
        return self.file.parent


def context_of(info: ValidationInfo) -> SettingsContext | None:
    context = info.context
    return context if isinstance(context, SettingsContext) else None


class Section(BaseModel):
    """A table of the trust configuration, checked as a whole with every fault reported.

    Override ``unknown_key`` and ``unknown_key_severity`` to say how a key the model does not
    know is reported (by default a warning, as the core sections do), and :meth:`notes` for
    warnings about values that are valid but probably not meant.
    """

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )

    unknown_key: ClassVar[str] = "is not a known key and is ignored; check its spelling"
    unknown_key_severity: ClassVar[str] = WARNING

    def notes(self) -> Iterator[Fault]:
        """Warnings about a valid section, each at its key below the section."""
        return iter(())

    @classmethod
    def early_faults(cls, table: dict[str, Any]) -> Iterator[Fault]:
        """Faults in the table as written, reported even when other keys are wrong (a secret
        written in the file); each at its key below the section."""
        return iter(())

    @model_validator(mode="wrap")
    @classmethod
    def _with_early_faults(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        early = [_detail(f) for f in cls.early_faults(data)] if isinstance(data, dict) else []
        if not early:
            return handler(data)
        try:
            handler(data)
        except ValidationError as exc:
            found = [_again(d) for d in exc.errors(include_url=False)]
            raise ValidationError.from_exception_data(cls.__name__, found + early) from None
        raise ValidationError.from_exception_data(cls.__name__, early)


def _detail(fault: Fault) -> InitErrorDetails:
    ctx = {"reason": fault.reason, "at": fault.at}
    return InitErrorDetails(type=PydanticCustomError(CUSTOM, "{reason}", ctx), loc=(), input=None)


def _again(detail: ErrorDetails) -> InitErrorDetails:
    """A fault already found, in the form pydantic takes to raise it again."""
    ctx = dict(detail.get("ctx") or {})
    message = detail["msg"].replace("{", "(").replace("}", ")")  # shown by nobody: faults_of
    kind = PydanticCustomError(detail["type"], message, ctx)  # words it from type and ctx
    return InitErrorDetails(type=kind, loc=detail["loc"], input=None)


# Shared value types ------------------------------------------------------------------------


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        refuse("must not be empty")
    return value


def _variable(value: str) -> str:
    value = value.strip()
    if not value:
        refuse("must name an environment variable")
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        refuse("must be a port number from 1 to 65535")
    return value


def _url(value: str) -> str:
    value = value.strip()
    if value and not value.startswith(("https://", "http://")):
        refuse("must be an http(s) URL")
    return value.rstrip("/")


def _file(value: str, info: ValidationInfo) -> str:
    value = value.strip()
    context = context_of(info)
    if value and context is not None and not (context.folder / value).is_file():
        refuse(f"file not found: {shown(value, 80)}")
    return value


Name = Annotated[str, AfterValidator(_name)]
"""Text that is not empty once trimmed."""

EnvVar = Annotated[str, AfterValidator(_variable)]
"""The name of an environment variable that holds a secret (never the secret itself)."""

Port = Annotated[int, AfterValidator(_port)]
"""A TCP port, 1 to 65535."""

Url = Annotated[str, AfterValidator(_url)]
"""An ``http(s)://`` address without a trailing slash, or empty for "not set"."""

FileName = Annotated[str, AfterValidator(_file)]
"""A file that must exist, relative to the trust file (or absolute); empty for "not set"."""


def between(low: float, high: float) -> AfterValidator:
    """A range check worded as a range: ``must be between 0 and 5``."""

    def check(value: float) -> float:
        if not low <= value <= high:
            refuse(f"must be between {plain(low)} and {plain(high)}")
        return value

    return AfterValidator(check)


def resolve(name: str, context_file: Path) -> Path | None:
    """The path a :data:`FileName` names, or None when it is empty."""
    return context_file.parent / name if name else None
