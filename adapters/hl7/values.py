"""HL7 v2 data type readers (DTM, DT, NHS number) with errors that name the field, not the value."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from adapters.hl7.errors import DATA_TYPE_ERROR, Hl7Invalid
from plugin_core.rules.clock import LONDON

_DTM = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?(?:([+-])(\d{2})(\d{2}))?$"
)
NHS_NUMBER_OIDS = frozenset({"2.16.840.1.113883.2.1.4.1"})


def parse_dtm(raw: str, where: str) -> datetime:
    """An aware date-time from HL7 DTM/TS; without an offset it is London local time."""
    match = _DTM.match(raw.strip())
    if not match:
        raise Hl7Invalid(f"{where}: not a date-time (YYYYMMDDHHMMSS)", code=DATA_TYPE_ERROR)
    year, month, day, hour, minute, second, _frac, sign, oh, om = match.groups()
    try:
        naive = datetime(  # noqa: DTZ001 - the zone is attached just below
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        raise Hl7Invalid(f"{where}: not a real date-time", code=DATA_TYPE_ERROR) from None
    if sign:
        offset = timedelta(hours=int(oh), minutes=int(om))
        return naive.replace(tzinfo=timezone(offset if sign == "+" else -offset))
    return naive.replace(tzinfo=LONDON)


def parse_date(raw: str, where: str) -> date | None:
    """A date of birth from DT/DTM; ``None`` when only a year or month is given."""
    text = raw.strip()
    if not text:
        return None
    match = _DTM.match(text)
    if not match:
        raise Hl7Invalid(f"{where}: not a date (YYYYMMDD)", code=DATA_TYPE_ERROR)
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month is None or day is None:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise Hl7Invalid(f"{where}: not a real date", code=DATA_TYPE_ERROR) from None


def valid_nhs_number(raw: str) -> str | None:
    """The ten digits of a valid NHS number (modulus 11 check digit), else None."""
    digits = raw.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        return None
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return None
    return digits
