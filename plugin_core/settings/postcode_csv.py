"""Reading an ONS postcode CSV into lookup rows: the fast path and the exact one.

The ONS National Statistics Postcode Lookup (NSPL) and ONS Postcode Directory (ONSPD) are CSV
files of some 2.7 million rows and 40 or more columns. They are read by header name: ``pcds``
(the postcode), ``laua`` (NSPL) or ``oslaua`` (ONSPD) for the local authority district,
``doterm``, the month a postcode was terminated, and, where present, ``cty`` or ``oscty`` for
the county (in two-tier England the county runs children's services). A terminated postcode is
left out (it may since have been reused elsewhere), as is one with no authority (ONS writes a
pseudo-code ending 99999999).

Speed: each line is split at its first few commas only (the columns needed come early), and
each distinct value is checked once. A quoted field holding a comma would shift the columns:
every line must have as many commas as the header, and every value must be what its column
holds (a district code, a county code, a month); otherwise the file is read again with the
``csv`` module, slower but exact.
"""

from __future__ import annotations

import csv
import io
import mmap
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from operator import itemgetter
from pathlib import Path

from plugin_core.errors import ThinkFamilyError
from plugin_core.rules.postcodes import GSS_CODE, Area, pack_table

POSTCODE_COLUMN = "pcds"
AUTHORITY_COLUMNS = ("laua", "oslaua")
TERMINATED_COLUMN = "doterm"
COUNTY_COLUMNS = ("cty", "oscty")

_OUTWARD = re.compile(rb"[A-Z]{1,2}[0-9][A-Z0-9]?")
_INWARD = re.compile(rb"[0-9][A-Z]{2}")
_MONTH = re.compile(rb"[0-9]{6}")
# The ONS code prefixes of local authority districts, and of counties.
_DISTRICT_TYPES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")
_COUNTY_TYPES = ("E10",)
_PSEUDO = "99999999"  # the end of a pseudo-code: no area of that kind
_LIVE, _ENDED, _NO_AREA, _WRONG = 0, 1, -1, -2
_CHUNK = 1 << 24

Columns = tuple[int, int, int, int | None]
"""Indexes of the postcode, district, terminated and county (None: absent) columns."""


class PostcodeImportError(ThinkFamilyError):
    """The CSV cannot be imported; the message says why (never a postcode)."""


class LookupBuilder:
    """Collects kept rows; the counts say what was left out and why."""

    def __init__(self) -> None:
        self.keys = array("Q")
        self.indexes = array("H")
        self.areas: dict[Area, int] = {}
        self.rows = self.terminated = self.without_authority = 0
        self.not_a_postcode = self.unreadable = 0
        # Each spelling met, quoted or not, -> what it means, so each is checked once:
        # a doterm value -> _LIVE, _ENDED or _WRONG; a (district, county) pair -> an area index,
        # _NO_AREA or _WRONG; an outward or inward code -> its part of the key, or _WRONG.
        self._state_of: dict[bytes, int] = {}
        self._area_of: dict[bytes | tuple[bytes, bytes], int] = {}
        self._outwards: dict[bytes, int] = {}
        self._inwards: dict[bytes, int] = {}

    def add_rows(self, rows: Iterable[Sequence[bytes]], columns: Columns) -> bool:
        """Rows split into fields; ``columns`` says where the four wanted fields are.

        False as soon as a value is not what its column holds, or a row is short: the columns
        may have shifted, and the caller reads the file again with the csv module.
        """
        at_postcode, at_district, at_ended, at_county = columns
        area_key = (
            itemgetter(at_district) if at_county is None else itemgetter(at_district, at_county)
        )
        keys_append, indexes_append = self.keys.append, self.indexes.append
        state_of, area_of = self._state_of, self._area_of
        outwards, inwards = self._outwards, self._inwards
        count = terminated = without = invalid = 0
        try:
            for fields in rows:
                count += 1
                state = state_of.get(fields[at_ended])
                if state is None:
                    state = state_of[fields[at_ended]] = _state(fields[at_ended])
                if state:
                    if state == _WRONG:
                        return False
                    terminated += 1
                    continue
                raw_area = area_key(fields)
                index = area_of.get(raw_area)
                if index is None:
                    index = area_of[raw_area] = self._area_index(raw_area)
                if index < 0:
                    if index == _WRONG:
                        return False
                    without += 1
                    continue
                # The key is the 7-byte ONS form read as a number: outward part | inward part.
                outward, _, inward = fields[at_postcode].strip(b'"').partition(b" ")
                high = outwards.get(outward)
                if high is None:
                    high = outwards[outward] = _outward_part(outward)
                low = inwards.get(inward)
                if low is None:
                    low = inwards[inward] = _inward_part(inward)
                if high < 0 or low < 0:
                    invalid += 1
                    continue
                keys_append(high | low)
                indexes_append(index)
            return True
        except IndexError:  # a short row
            return False
        finally:
            self.rows += count
            self.terminated += terminated
            self.without_authority += without
            self.not_a_postcode += invalid

    def _area_index(self, raw: bytes | tuple[bytes, bytes]) -> int:
        district_raw, county_raw = (raw, b"") if isinstance(raw, bytes) else raw
        district = _code(district_raw, _DISTRICT_TYPES)
        county = _code(county_raw, _COUNTY_TYPES)
        if district is None or county is None:
            return _WRONG
        if not district:
            return _NO_AREA
        index = self.areas.setdefault((district, county), len(self.areas))
        if index > 0xFFFF:
            raise PostcodeImportError("more than 65,535 areas: not an ONS file")
        return index

    def table(self) -> tuple[bytes, int]:
        """The lookup's bytes and how many postcodes it holds."""
        keys: list[int] = self.keys.tolist()
        indexes: list[int] = self.indexes.tolist()
        if not keys:
            raise PostcodeImportError("no live postcode with a local authority was found")
        # ONS files come sorted by postcode, so this is usually one linear pass in C.
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            pairs = sorted({key << 16 | index for key, index in zip(keys, indexes, strict=True)})
            keys = [pair >> 16 for pair in pairs]
            if len(set(keys)) != len(keys):
                raise PostcodeImportError(
                    "a live postcode is listed twice with different authorities"
                )
            indexes = [pair & 0xFFFF for pair in pairs]
        areas = sorted(self.areas, key=self.areas.__getitem__)
        return pack_table(keys, indexes, areas), len(keys)


def _state(raw: bytes) -> int:
    """What a ``doterm`` value says: live (empty), ended (a month, YYYYMM), or neither."""
    value = raw.strip().strip(b'"').strip()
    if not value:
        return _LIVE
    return _ENDED if _MONTH.fullmatch(value) else _WRONG


def _code(raw: bytes, kinds: tuple[str, ...]) -> str | None:
    """The ONS code in a field of the given kinds; "" for none (empty or pseudo); None if wrong."""
    code = raw.strip().strip(b'"').strip().decode("ascii", "replace")
    if not code or (GSS_CODE.fullmatch(code) and code.endswith(_PSEUDO)):
        return ""
    if GSS_CODE.fullmatch(code) and code.startswith(kinds):
        return code
    return None


def _outward_part(outward: bytes) -> int:
    if not _OUTWARD.fullmatch(outward):
        return _WRONG
    return int.from_bytes(outward.ljust(4), "big") << 24


def _inward_part(inward: bytes) -> int:
    return int.from_bytes(inward, "big") if _INWARD.fullmatch(inward) else _WRONG


def read_ons_csv(data: mmap.mmap, csv_path: Path) -> LookupBuilder:
    """The rows of a mapped ONS CSV, read fast where the file allows and exactly where not."""
    header_end = data.find(b"\n")
    header_line = bytes(data[: header_end if header_end >= 0 else len(data)])
    columns = _columns(header_line, csv_path)
    builder = LookupBuilder()
    if header_end < 0:
        return builder
    width = max(c for c in columns if c is not None) + 1
    commas = header_line.count(b",")
    for lines in _line_batches(data, header_end + 1):
        # Every line must have as many commas as the header (counted in C, line by line), and
        # every value must be what its column holds.
        if any(map(commas.__ne__, map(bytes.count, lines, repeat(b",")))):
            break
        if not builder.add_rows(map(bytes.split, lines, repeat(b","), repeat(width)), columns):
            break
    else:
        return builder
    # A quoted field holding a comma or a line break, a short row, a blank line, or a value
    # out of place: read every row again with the csv module, which copes with all of them.
    builder = LookupBuilder()
    for row in _csv_rows(data, header_end + 1, columns):
        if not builder.add_rows([row], (0, 1, 2, 3)):
            builder.unreadable += 1
    return builder


def _line_batches(data: mmap.mmap, start: int) -> Iterator[list[bytes]]:
    """The lines from ``start``, a few megabytes at a time, without their line breaks."""
    at, size = start, len(data)
    while at < size:
        end = data.rfind(b"\n", at, at + _CHUNK) if at + _CHUNK < size else -1
        if end < 0:  # the last block, or a line longer than a block
            end = size if at + _CHUNK >= size else data.find(b"\n", at + _CHUNK)
            end = size if end < 0 else end
        block = data[at:end]
        at = end + 1
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n").rstrip(b"\r")
        lines = block.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        yield lines


def _columns(header_line: bytes, csv_path: Path) -> Columns:
    """Indexes of the postcode, district, terminated and county columns (county may be None)."""
    text = header_line.decode("utf-8-sig", "replace").strip("\r\n")
    names = [name.strip().lower() for name in next(csv.reader([text]), [])]
    found: list[int | None] = []
    for candidates, required in (
        ((POSTCODE_COLUMN,), True),
        (AUTHORITY_COLUMNS, True),
        ((TERMINATED_COLUMN,), True),
        (COUNTY_COLUMNS, False),
    ):
        index = next((names.index(c) for c in candidates if c in names), None)
        if index is None and required:
            wanted = " or ".join(repr(c) for c in candidates)
            raise PostcodeImportError(
                f"{csv_path}: no {wanted} column in the header; "
                "is this the ONS NSPL or ONSPD CSV (not the multi-CSV or a user guide)?"
            )
        found.append(index)
    postcode, district, terminated, county = found
    assert postcode is not None and district is not None and terminated is not None
    return postcode, district, terminated, county


def _csv_rows(data: mmap.mmap, start: int, columns: Columns) -> Iterator[list[bytes]]:
    """The four wanted fields of every row, in column order, read by the csv module."""
    postcode, district, terminated, county = columns
    width = max(c for c in columns if c is not None) + 1
    text = io.TextIOWrapper(io.BytesIO(data[start:]), encoding="utf-8", newline="")
    for row in csv.reader(text):
        if not any(field.strip() for field in row):
            continue
        if len(row) < width:
            yield [b"", b"!", b"", b""]  # not a district code: counted as unreadable
            continue
        yield [
            row[postcode].encode("ascii", "replace"),
            row[district].encode("ascii", "replace"),
            row[terminated].encode("ascii", "replace"),
            row[county].encode("ascii", "replace") if county is not None else b"",
        ]
