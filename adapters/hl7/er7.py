"""A small, fast reader of HL7 v2 ER7 text for the ingest hot path.

hl7apy builds a full, typed element tree for every message (tens of milliseconds for an
ADT^A01); the listener needs a dozen fields. This reader splits lazily, only the fields asked
for, and gives the same structure as hl7apy (segments, fields, repetitions, components,
subcomponents, escaped text) — the corpus test proves it message by message.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from adapters.hl7.errors import Hl7Error


class Er7Error(Hl7Error, ValueError):
    """The text is not readable as ER7; the message says where, never what."""


@dataclass(frozen=True, slots=True)
class Separators:
    """The delimiters a message declares in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str | None = None

    @property
    def encoding_characters(self) -> str:
        chars = self.component + self.repetition + self.escape + self.subcomponent
        return chars + (self.truncation or "")

    def escape_text(self, value: str) -> str:
        """ER7 text for ``value``: each delimiter replaced by its escape sequence."""
        esc = self.escape
        if esc in value:
            value = value.replace(esc, f"{esc}E{esc}")
        for char, code in (
            (self.field, "F"),
            (self.component, "S"),
            (self.subcomponent, "T"),
            (self.repetition, "R"),
        ):
            if char in value:
                value = value.replace(char, f"{esc}{code}{esc}")
        if self.truncation and self.truncation in value:
            value = value.replace(self.truncation, f"{esc}P{esc}")
        if "\r" in value or "\n" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", f"{esc}.br{esc}")
        return value

    def unescape(self, text: str) -> str:
        """Plain text for an ER7 value: escape sequences resolved, formatting dropped."""
        esc = self.escape
        if esc not in text:
            return text
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch != esc:
                j = text.find(esc, i)
                if j < 0:
                    out.append(text[i:])
                    break
                out.append(text[i:j])
                i = j
                continue
            end = text.find(esc, i + 1)
            if end < 0:  # a lone escape character is kept as written
                out.append(text[i:])
                break
            out.append(self._sequence(text[i + 1 : end], text[i : end + 1]))
            i = end + 1
        return "".join(out)

    def _sequence(self, code: str, written: str) -> str:
        simple = {
            "F": self.field,
            "S": self.component,
            "T": self.subcomponent,
            "R": self.repetition,
            "E": self.escape,
        }
        if code in simple:
            return simple[code]
        if code == "P" and self.truncation:
            return self.truncation
        if code in ("H", "N"):  # highlighting on and off: no meaning in plain text
            return ""
        if code == ".br":
            return "\n"
        if code.startswith("X") and _HEX.fullmatch(code[1:]):
            try:
                return bytes.fromhex(code[1:]).decode("utf-8")
            except ValueError:
                return written
        return written  # other formatting and character-set sequences stay as written


_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


def separators_of(first_segment: str) -> Separators:
    """The separators declared by an MSH, BHS or FHS segment's first two fields."""
    if len(first_segment) < 8 or first_segment[:3] not in ("MSH", "BHS", "FHS"):
        raise Er7Error(f"{first_segment[:3] or 'message'}: does not start with MSH")
    end = first_segment.find(first_segment[3], 4)
    return _declared(first_segment[3:end] if end >= 0 else first_segment[3:])


@functools.lru_cache(maxsize=64)
def _declared(declared: str) -> Separators:
    """MSH-1 and MSH-2 as written to their separators; senders keep to one or two such, so
    each is worked out once (an error is raised each time, never remembered)."""
    field, chars = declared[0], declared[1:]
    if field.isalnum() or field in " \r\n":
        raise Er7Error("MSH-1: field separator must be a punctuation character")
    if len(chars) not in (4, 5) or len(set(chars + field)) != len(chars) + 1:
        raise Er7Error("MSH-2: encoding characters must be four (or five) distinct characters")
    if any(c.isalnum() or c in " \r\n" for c in chars):
        raise Er7Error("MSH-2: encoding characters must be punctuation")
    return Separators(
        field=field,
        component=chars[0],
        repetition=chars[1],
        escape=chars[2],
        subcomponent=chars[3],
        truncation=chars[4] if len(chars) == 5 else None,
    )


class Segment:
    """One segment, split into fields on demand; fields are numbered as in the standard."""

    __slots__ = ("_comps", "_fields", "name", "seps", "text")

    def __init__(self, text: str, seps: Separators) -> None:
        self.text = text
        self.seps = seps
        self.name = text[:3]
        self._fields: list[str] | None = None
        self._comps: list[list[list[str]] | None] | None = None

    @property
    def fields(self) -> list[str]:
        """Raw fields; index n is field n (MSH-1 is the field separator itself)."""
        if self._fields is None:
            parts = self.text.split(self.seps.field)
            if self.name == "MSH":
                parts.insert(1, self.seps.field)
            self._fields = parts
        return self._fields

    def field(self, number: int) -> str:
        """Raw ER7 text of field ``number``, or empty when absent."""
        fields = self.fields
        return fields[number] if number < len(fields) else ""

    def repetitions(self, number: int) -> list[str]:
        raw = self.field(number)
        if self.name == "MSH" and number in (1, 2):
            return [raw]
        if not raw:
            return []
        return raw.split(self.seps.repetition)

    def _split(self, number: int) -> list[list[str]]:
        """Field ``number`` split into repetitions and components (cached per field)."""
        cache = self._comps
        if cache is None:
            cache = self._comps = [None] * len(self.fields)
        if number >= len(cache):
            return []
        found = cache[number]
        if found is not None:
            return found
        raw = self.fields[number]
        if self.name == "MSH" and number in (1, 2):
            split = [[raw]]
        elif not raw:
            split = []
        else:
            component = self.seps.component
            split = [rep.split(component) for rep in raw.split(self.seps.repetition)]
        cache[number] = split
        return split

    def tree(self, number: int) -> list[list[list[str]]]:
        """Field ``number`` as repetitions of components of subcomponents."""
        if self.name == "MSH" and number in (1, 2):
            return [[[comps[0]]] for comps in self._split(number)]
        sub = self.seps.subcomponent
        return [[comp.split(sub) for comp in comps] for comps in self._split(number)]

    def raw(self, number: int, rep: int = 1, comp: int = 1, sub: int = 1) -> str:
        """Raw text at field/repetition/component/subcomponent (all numbered from 1)."""
        cache = self._comps
        reps = cache[number] if cache is not None and number < len(cache) else None
        if reps is None:
            reps = self._split(number)
        if rep > len(reps):
            return ""
        comps = reps[rep - 1]
        if comp > len(comps):
            return ""
        text = comps[comp - 1]
        separator = self.seps.subcomponent
        if separator in text and not (self.name == "MSH" and number in (1, 2)):
            subs = text.split(separator)
            return subs[sub - 1] if sub <= len(subs) else ""
        return text if sub == 1 else ""

    def value(self, number: int, rep: int = 1, comp: int = 1, sub: int = 1) -> str:
        """Plain (unescaped) text at a position; empty when absent."""
        text = self.raw(number, rep, comp, sub)
        seps = self.seps
        return seps.unescape(text) if seps.escape in text else text

    def __repr__(self) -> str:  # segment text may hold patient data
        return f"Segment({self.name})"


class Er7Message:
    """A message split into segments; fields are split only when read."""

    __slots__ = ("segments", "seps")

    def __init__(self, segments: list[Segment], seps: Separators) -> None:
        self.segments = segments
        self.seps = seps

    @classmethod
    def parse(cls, text: str) -> Er7Message:
        """Split ER7 text; segments end with CR (a lone LF or CR LF is read as CR)."""
        text = text.lstrip()
        if "\n" in text:
            text = text.replace("\r\n", "\r").replace("\n", "\r")
        seps = separators_of(text[: text.find("\r")] if "\r" in text else text)
        segments: list[Segment] = []
        for line in text.split("\r"):
            if not line:
                continue
            if len(line) < 3 or not line[:3].isalnum() or not line[:3].isupper():
                raise Er7Error(f"segment {len(segments) + 1}: does not start with a segment name")
            if len(line) > 3 and line[3] != seps.field:
                raise Er7Error(
                    f"segment {len(segments) + 1} ({line[:3]}): name is not followed by a field separator"
                )
            segments.append(Segment(line, seps))
        return cls(segments, seps)

    @property
    def msh(self) -> Segment:
        return self.segments[0]

    def first(self, name: str) -> Segment | None:
        for segment in self.segments:
            if segment.name == name:
                return segment
        return None

    def all(self, name: str) -> list[Segment]:
        return [s for s in self.segments if s.name == name]

    def __repr__(self) -> str:
        return f"Er7Message({len(self.segments)} segments)"
