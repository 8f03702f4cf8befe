"""What every resource ThinkFamily sends has in common: built as ``fhir.resources.R4B`` models,
validated as it is built, serialised by the library.

A value the models refuse stops the build with FhirResourceInvalid naming the resource and the
field, never the value: the values are patients' details.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from adapters.fhir.errors import FhirResourceInvalid

P = ParamSpec("P")
R = TypeVar("R")

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def builds(resource_type: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn the models' ValidationError into FhirResourceInvalid naming ``resource_type``."""

    def decorate(build: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(build)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return build(*args, **kwargs)
            except ValidationError as exc:
                raise FhirResourceInvalid(describe(resource_type, exc)) from None

        return checked

    return decorate


def describe(resource_type: str, exc: ValidationError) -> str:
    """``Patient.birthDate: <reason>`` for the first fault; the reason never quotes the value."""
    first = exc.errors()[0]
    # A datatype built on its own (a Coding, a Reference) names itself inside the resource.
    inner = "" if exc.title == resource_type else f" {exc.title}"
    return f"{resource_type}{inner}{_path(first['loc'])}: {_reason(first)}"


def _path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _reason(error: ErrorDetails) -> str:
    message = error.get("msg") or "is not valid"
    shown = error.get("input")
    if isinstance(shown, dict | list) or shown is None:
        return message
    return "is not valid" if str(shown) in message else message


def wire(resource: Resource) -> dict[str, Any]:
    """The JSON object sent for ``resource``, as the library serialises it."""
    body: dict[str, Any] = json.loads(resource.model_dump_json())
    return body


def fhir_id(value: str | None) -> str | None:
    """``value`` when it can be a FHIR id, else None.

    Ids from other systems (an HL7 ``PAS|123``, a user id with ``@``) cannot be resource ids;
    such a resource goes without one, and its entry's fullUrl still links it in the Bundle.
    """
    return value if value and FHIR_ID.fullmatch(value) else None


def urn(*parts: str) -> str:
    """A stable ``urn:uuid`` for an entry, so the same message always has the same fullUrls."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '|'.join(parts))}"


def ref(target: str) -> Reference:
    return Reference(reference=target)


def coding(system: str, code: str, display: str | None = None) -> Coding:
    return Coding(system=system, code=code, display=display)


def concept(
    system: str, code: str, display: str | None = None, *, text: str | None = None
) -> CodeableConcept:
    return CodeableConcept(coding=[coding(system, code, display)], text=text)


def text_concept(text: str) -> CodeableConcept:
    return CodeableConcept(text=text)
