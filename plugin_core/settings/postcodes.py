"""The postcode lookup file: built from ONS data by ``thinkfamily postcodes import``, opened at start.

Reading the ONS CSV lives in ``postcode_csv``; this module finds, opens, attaches and writes the
lookup.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from plugin_core.rules.postcodes import LookupFormatError, PostcodeLookup
from plugin_core.settings.directory import Directory
from plugin_core.settings.issues import ConfigIssue
from plugin_core.settings.postcode_csv import (
    AUTHORITY_COLUMNS,
    COUNTY_COLUMNS,
    POSTCODE_COLUMN,
    TERMINATED_COLUMN,
    PostcodeImportError,
    read_ons_csv,
)

__all__ = [
    "AUTHORITY_COLUMNS",
    "COUNTY_COLUMNS",
    "LOOKUP_KEY",
    "POSTCODE_COLUMN",
    "TERMINATED_COLUMN",
    "ImportReport",
    "PostcodeImportError",
    "attach_lookup",
    "import_postcodes",
    "lookup_path",
    "open_lookup",
]

LOOKUP_KEY = "trust.postcode_lookup"


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
                builder = read_ons_csv(data, csv_path)
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
