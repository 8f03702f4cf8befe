"""The postcode lookup file: built from ONS data by ``thinkfamily postcodes import``, opened at start.

The ONS National Statistics Postcode Lookup (NSPL) and ONS Postcode Directory (ONSPD) are CSV
files of some 2.7 million rows and 40 or more columns. They are read by header name: ``pcds``
(the postcode), ``laua`` (NSPL) or ``oslaua`` (ONSPD) for the local authority district,
``doterm``, the month a postcode was terminated, and, where present, ``cty`` or ``oscty`` for
the county (in two-tier England the county runs children's services). A terminated postcode is
left out (it may since have been reused elsewhere), as is one with no authority (ONS writes a
pseudo-code ending 99999999).

Speed: each line is split at its first few commas only (the columns needed come early), and
each distinct code is checked once. Every value is checked against what its column holds (a
district code, a county code, a month), so a quoted field holding a comma, which would shift the
columns, is caught; the file is then read again with the ``csv`` module, slower but exact.
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path

from plugin_core.rules.postcodes import (
    GSS_CODE,
    Area,
    LookupFormatError,
    PostcodeLookup,
    pack_table,
)
from plugin_core.settings.trust_config import ConfigIssue, Directory

POSTCODE_COLUMN = "pcds"
AUTHORITY_COLUMNS = ("laua", "oslaua")
TERMINATED_COLUMN = "doterm"
COUNTY_COLUMNS = ("cty", "oscty")
LOOKUP_KEY = "trust.postcode_lookup"

_POSTCODE = re.compile(rb'"?([A-Z]{1,2}[0-9][A-Z0-9]?) *([0-9][A-Z]{2})"?')
_MONTH = re.compile(rb"[0-9]{6}")
# The ONS code prefixes of local authority districts, and of counties.
_DISTRICT_TYPES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")
_COUNTY_TYPES = ("E10",)
_PSEUDO = "99999999"  # the end of a pseudo-code: no area of that kind
_BAD = "!"
_CHUNK = 1 << 24

Columns = tuple[int, int, int, int | None]
"""Indexes of the postcode, district, terminated and county (None: absent) columns."""


class PostcodeImportError(Exception):
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
        # Each spelling met (quoted or not) -> what it means, so a code is checked once.
        self._districts: dict[bytes, str] = {}
        self._counties: dict[bytes, str] = {}
        self._ended: dict[bytes, bool | None] = {b"": False, b'""': False}
        self._outwards: dict[bytes, int] = {}
        self._inwards: dict[bytes, int] = {}

    def add_rows(self, rows: Iterable[tuple[bytes, bytes, bytes, bytes]]) -> bool:
        """Rows of (postcode, district, terminated, county), each possibly in double quotes.

        False as soon as a value is not what its column holds (the columns may have shifted).
        """
        keys, indexes, areas = self.keys, self.indexes, self.areas
        districts, counties, ended_by = self._districts, self._counties, self._ended
        outwards, inwards = self._outwards, self._inwards
        match_postcode = _POSTCODE.fullmatch
        count = terminated = without = invalid = 0
        try:
            for postcode, district_raw, ended_raw, county_raw in rows:
                count += 1
                ended = ended_by.get(ended_raw)
                if ended is None:
                    ended = ended_by[ended_raw] = _month(ended_raw)
                    if ended is None:
                        return False
                if ended:
                    terminated += 1
                    continue
                district = districts.get(district_raw)
                if district is None:
                    district = districts[district_raw] = _code(district_raw, _DISTRICT_TYPES)
                county = counties.get(county_raw)
                if county is None:
                    county = counties[county_raw] = _code(county_raw, _COUNTY_TYPES)
                if district == _BAD or county == _BAD:
                    return False
                if not district:
                    without += 1
                    continue
                parts = match_postcode(postcode)
                if parts is None:
                    invalid += 1
                    continue
                outward, inward = parts.groups()
                # The key is the 7-byte form read as a number: outward part + inward part.
                high = outwards.get(outward)
                if high is None:
                    high = outwards[outward] = int.from_bytes(outward.ljust(4), "big") << 24
                low = inwards.get(inward)
                if low is None:
                    low = inwards[inward] = int.from_bytes(inward, "big")
                index = areas.get((district, county))
                if index is None:
                    index = areas[district, county] = len(areas)
                    if index > 0xFFFF:
                        raise PostcodeImportError("more than 65,535 areas: not an ONS file")
                keys.append(high | low)
                indexes.append(index)
            return True
        finally:
            self.rows += count
            self.terminated += terminated
            self.without_authority += without
            self.not_a_postcode += invalid

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


def _month(raw: bytes) -> bool | None:
    """Whether a ``doterm`` value says terminated; None when it is not a month (YYYYMM)."""
    value = raw.strip().strip(b'"').strip()
    if not value:
        return False
    return True if _MONTH.fullmatch(value) else None


def _code(raw: bytes, kinds: tuple[str, ...]) -> str:
    """The ONS code in a field of the given kinds; "" for none (empty or pseudo); _BAD otherwise."""
    code = raw.strip().strip(b'"').strip().decode("ascii", "replace")
    if not code or (GSS_CODE.fullmatch(code) and code.endswith(_PSEUDO)):
        return ""
    if GSS_CODE.fullmatch(code) and code.startswith(kinds):
        return code
    return _BAD


def _read(data: mmap.mmap, csv_path: Path) -> _Builder:
    header_end = data.find(b"\n")
    header_line = bytes(data[: header_end if header_end >= 0 else len(data)])
    columns = _columns(header_line, csv_path)
    builder = _Builder()
    if header_end < 0:
        return builder
    if builder.add_rows(_split_rows(data, header_end + 1, columns)):
        return builder
    # A value out of place: a quoted field holding a comma or a line break, or a short row.
    # Read every row again with the csv module, which copes with all of them.
    builder = _Builder()
    for row in _csv_rows(data, header_end + 1, columns):
        if not builder.add_rows([row]):
            builder.unreadable += 1
    return builder


def _split_rows(
    data: mmap.mmap, start: int, columns: Columns
) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    """The wanted fields of each line, splitting each only as far as the last of them."""
    postcode, district, terminated, county = columns
    county_missing = county is None
    wanted = [postcode, district, terminated, postcode if county is None else county]
    width = max(wanted) + 1
    pick = itemgetter(*wanted)
    rest = b""
    for at in range(start, len(data), _CHUNK):
        lines = (rest + data[at : at + _CHUNK]).replace(b"\r\n", b"\n").split(b"\n")
        rest = lines.pop()
        for line in lines:
            fields = line.split(b",", width)
            if len(fields) < width:
                if line.strip():
                    yield line, _BAD.encode(), b"", b""  # a short row: read again with csv
                continue
            row: tuple[bytes, bytes, bytes, bytes] = pick(fields)
            yield (row[0], row[1], row[2], b"") if county_missing else row
    rest = rest.rstrip(b"\r")
    if rest.strip():
        fields = rest.split(b",", width)
        if len(fields) < width:
            yield rest, _BAD.encode(), b"", b""
        else:
            row = pick(fields)
            yield (row[0], row[1], row[2], b"") if county_missing else row


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


def _csv_rows(
    data: mmap.mmap, start: int, columns: Columns
) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    postcode, district, terminated, county = columns
    width = max(c for c in columns if c is not None) + 1
    text = io.TextIOWrapper(io.BytesIO(data[start:]), encoding="utf-8", newline="")
    for row in csv.reader(text):
        if not any(field.strip() for field in row):
            continue
        if len(row) < width:
            yield b"", _BAD.encode(), b"", b""  # counted as unreadable
            continue
        yield (
            row[postcode].encode("ascii", "replace"),
            row[district].encode("ascii", "replace"),
            row[terminated].encode("ascii", "replace"),
            row[county].encode("ascii", "replace") if county is not None else b"",
        )


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
