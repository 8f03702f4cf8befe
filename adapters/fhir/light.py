"""A fast reader for the plain shape of the six resources the mapping reads.

Building ``fhir.resources`` models costs about 0.3 ms a resource, most of a CDS call's mapping.
Most resources an EHR prefetches are plain: a few known elements, each of the JSON type FHIR
gives it. This reader accepts only such a resource, checking every element it holds more
strictly than the models do, and returns a read-only view with the models' attribute names and
value types. Anything else (an element it does not know, an extension, a partial date, a value
the models might coerce or refuse) it declines, and the caller validates with the models as
before, so what is refused and how it is worded stays theirs. A test proves on a corpus, with
mutations, that whatever this reader accepts the models accept too, with equal values.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from plugin_core.errors import ThinkFamilyError

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DATE = re.compile(r"[12][0-9]{3}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[12][0-9]{3}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{3}|\.[0-9]{6})?"
    r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
)


class Unsure(ThinkFamilyError):
    """The resource is not of the plain shape this reader vouches for."""


def _string(value: Any) -> str:
    if type(value) is not str or not value or not value.isprintable():
        raise Unsure
    return value


def _code(value: Any) -> str:
    text = _string(value)
    if text.strip(" ") != text or "  " in text:
        raise Unsure
    return text


def _uri(value: Any) -> str:
    text = _string(value)
    if " " in text:
        raise Unsure
    return text


def _id(value: Any) -> str:
    if type(value) is not str or not _ID.fullmatch(value):
        raise Unsure
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise Unsure
    return value


def _date(value: Any) -> date:
    if type(value) is not str or not _DATE.fullmatch(value):
        raise Unsure
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unsure from None


def _datetime(value: Any) -> datetime:
    if type(value) is not str or not _DATETIME.fullmatch(value):
        raise Unsure
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Unsure from None


PRIMITIVES = {
    "string": _string,
    "code": _code,
    "uri": _uri,
    "id": _id,
    "boolean": _boolean,
    "date": _date,
    "dateTime": _datetime,
    "instant": _datetime,
}

_RESOURCE = {"id": ("id", False), "meta": ("Meta", False)}
_PERSON = {
    "identifier": ("Identifier", True),
    "active": ("boolean", False),
    "name": ("HumanName", True),
    "gender": ("code", False),
    "birthDate": ("date", False),
    "address": ("Address", True),
}
_ABOUT = {
    "category": ("CodeableConcept", True),
    "code": ("CodeableConcept", False),
    "subject": ("Reference", False),
    "encounter": ("Reference", False),
}
"""Elements several resource types share, each with the same type."""

# Each type: JSON name -> (type, repeats). Only the elements listed here are read; a resource
# holding any other is left to the models.
TYPES: dict[str, dict[str, tuple[str, bool]]] = {
    "Coding": {
        "system": ("uri", False),
        "version": ("string", False),
        "code": ("code", False),
        "display": ("string", False),
    },
    "CodeableConcept": {"coding": ("Coding", True), "text": ("string", False)},
    "Reference": {"reference": ("string", False), "display": ("string", False)},
    "Identifier": {"use": ("code", False), "system": ("uri", False), "value": ("string", False)},
    "HumanName": {
        "use": ("code", False),
        "text": ("string", False),
        "family": ("string", False),
        "given": ("string", True),
        "prefix": ("string", True),
    },
    "Address": {
        "use": ("code", False),
        "type": ("code", False),
        "text": ("string", False),
        "line": ("string", True),
        "city": ("string", False),
        "district": ("string", False),
        "postalCode": ("string", False),
        "country": ("string", False),
    },
    "Period": {"start": ("dateTime", False), "end": ("dateTime", False)},
    "Meta": {"versionId": ("id", False), "lastUpdated": ("instant", False)},
    "EncounterLocation": {"location": ("Reference", False)},
    "Patient": _RESOURCE | _PERSON,
    "RelatedPerson": _RESOURCE
    | {"patient": ("Reference", False), "relationship": ("CodeableConcept", True)}
    | _PERSON,
    "Encounter": _RESOURCE
    | {
        "status": ("code", False),
        "class": ("Coding", False),
        "subject": ("Reference", False),
        "period": ("Period", False),
        "location": ("EncounterLocation", True),
    },
    "Condition": _RESOURCE
    | {
        "clinicalStatus": ("CodeableConcept", False),
        "verificationStatus": ("CodeableConcept", False),
    }
    | _ABOUT,
    "Observation": _RESOURCE
    | {"status": ("code", False)}
    | _ABOUT
    | {
        "focus": ("Reference", True),
        "effectiveDateTime": ("dateTime", False),
        "issued": ("instant", False),
        "valueCodeableConcept": ("CodeableConcept", False),
    },
    "Flag": _RESOURCE | {"status": ("code", False)} | _ABOUT | {"period": ("Period", False)},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "Encounter": ("status", "class"),
    "EncounterLocation": ("location",),
    "Observation": ("status", "code"),
    "Flag": ("status", "code", "subject"),
    "Condition": ("subject",),
    "RelatedPerson": ("patient",),
}
RESOURCES = ("Patient", "RelatedPerson", "Encounter", "Condition", "Observation", "Flag")


def python_name(name: str) -> str:
    """The models' attribute name for a JSON element (``class`` is a Python keyword)."""
    return "class_fhir" if name == "class" else name


class View:
    """Read-only, attribute by attribute, like the model it stands for; an element the type
    has but the resource does not is None, as on the model."""

    __slots__ = ()
    kind = ""

    def __getattr__(self, name: str) -> Any:
        if name in type(self).__slots__:
            return None
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"View({self.kind})"


def _view_class(kind: str) -> type[View]:
    names = tuple(python_name(n) for n in TYPES[kind])
    return type(f"{kind}View", (View,), {"__slots__": names, "kind": kind})


VIEWS = {kind: _view_class(kind) for kind in TYPES}


def _element(kind: str, value: Any) -> Any:
    check = PRIMITIVES.get(kind)
    if check is not None:
        return check(value)
    if type(value) is not dict or not value:
        raise Unsure
    fields = TYPES[kind]
    view = object.__new__(VIEWS[kind])
    for name, raw in value.items():
        field = fields.get(name)
        if field is None:
            raise Unsure
        element, repeats = field
        if repeats:
            if type(raw) is not list or not raw:
                raise Unsure
            object.__setattr__(view, python_name(name), [_element(element, r) for r in raw])
        else:
            object.__setattr__(view, python_name(name), _element(element, raw))
    for name in REQUIRED.get(kind, ()):
        if name not in value:
            raise Unsure
    return view


def read(resource: dict[str, Any]) -> View | None:
    """The view of a plain resource of one of the six types, else None (validate it fully)."""
    kind = resource.get("resourceType")
    if kind not in RESOURCES:
        return None
    body = {k: v for k, v in resource.items() if k != "resourceType"}
    try:
        found: View = _element(kind, body)
    except Unsure:
        return None
    return found
