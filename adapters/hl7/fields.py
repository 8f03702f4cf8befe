"""Fields read the same way wherever they appear: names, addresses and yes/no answers."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.hl7.er7 import Segment

YES = frozenset({"Y", "YES", "TRUE", "T"})
NO = frozenset({"N", "NO", "FALSE", "F", "0", "NONE", "NEG", "NEGATIVE"})


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    postcode: str
    line_key: str = ""
    postcode_key: str = ""

    @classmethod
    def of(cls, line: str, postcode: str) -> Address:
        return cls(line, postcode, _squash(line), _squash(postcode))

    def same_home(self, other: Address) -> bool | None:
        """True or False when both postcodes are known; None when either is missing."""
        if not self.postcode_key or not other.postcode_key:
            return None
        same = self.postcode_key == other.postcode_key
        if same and self.line_key and other.line_key:
            return self.line_key == other.line_key
        return same


def _squash(text: str) -> str:
    return "".join(text.upper().split()).replace(",", "")


def person_name(segment: Segment, number: int) -> str | None:
    """Given then family name, from the legal name (XPN-7 "L") of a name field, else the first."""
    rep = _preferred(segment, number, 7, "L")
    if not rep:
        return None
    family = segment.value(number, rep, 1, 1).strip()
    given = segment.value(number, rep, 2).strip()
    return " ".join(p for p in (given, family) if p) or None


def _preferred(segment: Segment, number: int, type_component: int, wanted: str) -> int:
    """The repetition whose type component is ``wanted`` (home, legal), else the first; 0 if none."""
    count = len(segment.repetitions(number))
    for rep in range(1, count + 1):
        if segment.value(number, rep, type_component).strip().upper() == wanted:
            return rep
    return 1 if count else 0


def address_of(segment: Segment, number: int) -> Address | None:
    rep = _preferred(segment, number, 7, "H")
    if not rep:
        return None
    line = segment.value(number, rep, 1, 1).strip()
    postcode = segment.value(number, rep, 5).strip().upper()
    if not line and not postcode:
        return None
    return Address.of(line, postcode)
