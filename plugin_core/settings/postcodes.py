"""The postcode lookup file: built from ONS data by ``thinkfamily postcodes import``, opened at start.

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
import os
import re
import tempfile
import time
import tomllib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
from operator import itemgetter
from pathlib import Path

from plugin_core.errors import ThinkFamilyError
from plugin_core.rules.postcodes import (
    GSS_CODE,
    Area,
    LookupFormatError,
    PostcodeLookup,
    pack_table,
)
from plugin_core.settings.directory import Directory
from plugin_core.settings.issues import ConfigIssue

POSTCODE_COLUMN = "pcds"
AUTHORITY_COLUMNS = ("laua", "oslaua")
TERMINATED_COLUMN = "doterm"
COUNTY_COLUMNS = ("cty", "oscty")
LOOKUP_KEY = "trust.postcode_lookup"

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


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import read and kept."""

    rows: int
    written: int
    terminated: int
    without_authority: int
    not_a_postcode: int
    unreadable: int
    authorities: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def lookup_path(trust_file: Path) -> Path:
    """Where ``[trust] postcode_lookup`` says the lookup lives, relative to the trust file.

    Read straight from the TOML so the lookup can be built before the configuration is complete
    (the loader refuses a configuration naming a lookup that does not exist yet).
    """
    try:
        with trust_file.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise PostcodeImportError(f"{trust_file}: file not found") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PostcodeImportError(f"{trust_file}: cannot be read: {exc}") from None
    trust = data.get("trust")
    name = trust.get("postcode_lookup") if isinstance(trust, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise PostcodeImportError(
            f"{trust_file}: {LOOKUP_KEY}: is not set; name the file to write, "
            'for example postcode_lookup = "postcodes.lookup"'
        )
    return trust_file.parent / name


def open_lookup(path: Path) -> PostcodeLookup:
    """The lookup at ``path``, memory-mapped (read-only, shared between processes).

    Raises OSError when the file cannot be opened and LookupFormatError when it is not a lookup.
    """
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise LookupFormatError("the file is empty")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return PostcodeLookup(mapped)


def attach_lookup(
    trust_file: Path, name: str, directory: Directory | None, directory_file: Path
) -> tuple[Directory | None, list[ConfigIssue]]:
    """The directory with the lookup named by ``[trust] postcode_lookup``, and every fault.

    A lookup that cannot be opened is an error: the trust meant postcodes to settle the
    authority. A lookup built for other places is not: postcodes it places in authorities the
    directory does not name ask the professional, and each authority it cannot reach is a warning.
    """
    path = trust_file.parent / name
    rebuild = f"build it with: thinkfamily postcodes import NSPL.csv --config {trust_file}"
    try:
        lookup = open_lookup(path)
    except FileNotFoundError:
        return directory, [
            ConfigIssue(str(trust_file), LOOKUP_KEY, f"{path}: file not found; {rebuild}")
        ]
    except OSError as exc:
        reason = f"{path}: cannot be read ({exc.strerror})"
        return directory, [ConfigIssue(str(trust_file), LOOKUP_KEY, reason)]
    except LookupFormatError as exc:
        reason = f"{path}: {exc}; {rebuild}"
        return directory, [ConfigIssue(str(trust_file), LOOKUP_KEY, reason)]
    if directory is None:
        return None, []
    issues: list[ConfigIssue] = []
    known = lookup.codes
    for entry in directory.authorities.values():
        key = f"authorities.{entry.id}.gss"
        if not entry.gss:
            reason = (
                "not given: the postcode lookup cannot name this authority, so its postcodes ask"
            )
        elif entry.gss not in known:
            reason = f"{entry.gss} names no postcode in {path}; check the code"
        else:
            continue
        issues.append(ConfigIssue(str(directory_file), key, reason, "warning"))
    return replace(directory, postcodes=lookup), issues


def import_postcodes(csv_path: Path, out_path: Path) -> ImportReport:
    """Read an NSPL or ONSPD CSV and write the lookup to ``out_path`` (replaced atomically)."""
    started = time.perf_counter()
    try:
        with csv_path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                raise PostcodeImportError(f"{csv_path}: the file is empty")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                builder = _read(data, csv_path)
    except OSError as exc:
        raise PostcodeImportError(f"{csv_path}: cannot be read ({exc.strerror})") from None
    table, written = builder.table()
    _write_atomically(out_path, table)
    return ImportReport(
        rows=builder.rows,
        written=written,
        terminated=builder.terminated,
        without_authority=builder.without_authority,
        not_a_postcode=builder.not_a_postcode,
        unreadable=builder.unreadable,
        authorities=len({district for district, _ in builder.areas}),
        seconds=time.perf_counter() - started,
    )


class _Builder:
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


def _read(data: mmap.mmap, csv_path: Path) -> _Builder:
    header_end = data.find(b"\n")
    header_line = bytes(data[: header_end if header_end >= 0 else len(data)])
    columns = _columns(header_line, csv_path)
    builder = _Builder()
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
    builder = _Builder()
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


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a running service never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
