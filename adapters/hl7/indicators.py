"""Risk indicators in an ADT message: coded diagnoses (DG1) and observations (OBX)."""

from __future__ import annotations

from adapters.hl7.er7 import Er7Message, Segment
from adapters.hl7.fields import NO
from plugin_core.model import IndicatorKind, RiskIndicator
from plugin_core.settings.code_lists import CodeLists

_CODED_TYPES = frozenset({"CE", "CWE", "CNE", "CF"})
_WITHDRAWN_RESULTS = frozenset({"W", "D", "X"})


def indicators(message: Er7Message, code_lists: CodeLists) -> tuple[RiskIndicator, ...]:
    """Coded entries the lists name; and diagnoses or coded answers in a system nobody can read.

    An OBX-3 identifier names the question (often LOINC), so it counts only when a list names it;
    when it does, OBX-5 is its answer and is not listed when unreadable.
    """
    found: list[RiskIndicator] = []
    for dg1 in message.all("DG1"):
        indicator = _coded(code_lists, dg1, 3, 1, "hl7:DG1-3", listed=True)
        if indicator is not None:
            found.append(indicator)
    for obx in message.all("OBX"):
        if obx.value(11).strip().upper() in _WITHDRAWN_RESULTS:
            continue
        answer = obx.value(5, 1, 1).strip().upper()
        about = _coded(code_lists, obx, 3, 1, "hl7:OBX-3", listed=False)
        if about is not None and answer not in NO:
            found.append(about)
        if obx.value(2).strip().upper() in _CODED_TYPES:
            for rep in range(1, len(obx.repetitions(5)) + 1):
                value = _coded(code_lists, obx, 5, rep, "hl7:OBX-5", listed=about is None)
                if value is not None:
                    found.append(value)
    return tuple(found)


def _coded(
    code_lists: CodeLists, segment: Segment, number: int, rep: int, source: str, *, listed: bool
) -> RiskIndicator | None:
    """The entry in a CE/CWE field as an indicator: classified by the primary coding, else the
    alternate (CE-4..6). With ``listed``, an entry whose codings are all in unrecognised or
    missing systems comes back as ``other``, to be listed as unclassified."""
    codings = [
        (segment.value(number, rep, 1).strip(), _coding_system(segment, number, rep, 3, 14)),
        (segment.value(number, rep, 4).strip(), _coding_system(segment, number, rep, 6, 17)),
    ]
    codings = [(code, system) for code, system in codings if code]
    for code, system in codings:
        kind = code_lists.classify(system or None, code)
        if kind is not None:
            return RiskIndicator(
                kind=kind, system=code_lists.canonical_system(system), code=code, source=source
            )
    if not listed or not codings or any(code_lists.recognises(s) for _, s in codings):
        return None
    code, system = codings[0]
    return RiskIndicator(IndicatorKind.OTHER, system=system or None, code=code, source=source)


def _coding_system(segment: Segment, number: int, rep: int, name: int, oid: int) -> str:
    """The coding system's name (CWE-3 or -6), else its OID (CWE-14 or -17, HL7 v2.7 on)."""
    return segment.value(number, rep, name).strip() or segment.value(number, rep, oid).strip()
