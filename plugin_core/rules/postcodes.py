"""Which local authority a full postcode lies in, from a compact table of ONS data.

Postcode districts and sectors cross borough lines; the ONS postcode directories (NSPL, ONSPD)
name the authority of every single postcode. ``thinkfamily postcodes import`` packs them into
the table read here: a sorted array of postcode keys beside an array of small indexes into the
areas, so a lookup is a binary search over memory the operating system shares between
processes, and opening the table costs a checksum, not a parse.

An area is a local authority district's ONS code and, in two-tier England, its county's: there
the county council runs children's services, so a directory may name either.

Layout (little-endian), version 1::

    magic "TFPCODE1" | count u32 | areas u32 | crc32 u32 | reserved u32
    areas × 18 ASCII bytes: district code, county code (9 spaces when none); zero-padded to 8
    count × u64 keys, ascending, unique  (see :func:`postcode_key`)
    count × u16 indexes into the areas

The checksum covers everything after the header. Nothing here does I/O: the caller hands over
the bytes (usually a memory map).
"""

from __future__ import annotations

import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from mmap import mmap

from plugin_core.errors import ThinkFamilyError

MAGIC = b"TFPCODE1"
_HEADER = struct.Struct("<8sIIII")
_CODE_BYTES = 9
_AREA_BYTES = 2 * _CODE_BYTES
_NO_COUNTY = " " * _CODE_BYTES
_FULL = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
GSS_CODE = re.compile(r"[EWSNLM][0-9]{8}")
"""An ONS (GSS) area code: a country letter and eight digits."""

Buffer = bytes | bytearray | memoryview | mmap
Area = tuple[str, str]
"""(district code, county code or "")."""



class LookupFormatError(ThinkFamilyError, ValueError):
    """The bytes are not a postcode table this version can read."""


def postcode_key(raw: str) -> int | None:
    """The table key of a full postcode, or None when ``raw`` is not one.

    Case and spaces do not count ("ig1 1aa", "IG11AA", " IG1  1AA "). The key is the ONS
    7-character form (outward code padded to four, then the inward code) read as a big-endian
    number, so keys sort as the postcodes do.
    """
    text = "".join(raw.split()).upper()
    if _FULL.fullmatch(text) is None:
        return None
    return int.from_bytes((text[:-3].ljust(4) + text[-3:]).encode("ascii"), "big")


def pack_table(keys: Sequence[int], indexes: Sequence[int], areas: Sequence[Area]) -> bytes:
    """The table's bytes. ``keys`` must be ascending and unique; ``indexes`` point into ``areas``."""
    if len(keys) != len(indexes):
        raise ValueError("every key needs an area")
    if len(areas) > 0xFFFF:
        raise ValueError("too many areas")
    for district, county in areas:
        if not GSS_CODE.fullmatch(district) or (county and not GSS_CODE.fullmatch(county)):
            raise ValueError("an area code is not an ONS code")
    key_array = array("Q", keys)
    index_array = array("H", indexes)
    if sys.byteorder != "little":
        key_array.byteswap()
        index_array.byteswap()
    body = bytearray(
        b"".join(f"{district}{county or _NO_COUNTY}".encode("ascii") for district, county in areas)
    )
    body.extend(b"\0" * (-len(body) % 8))
    body.extend(key_array.tobytes())
    body.extend(index_array.tobytes())
    header = _HEADER.pack(MAGIC, len(keys), len(areas), zlib.crc32(body), 0)
    return header + bytes(body)


class PostcodeLookup:
    """A postcode table: full postcode in, the ONS code of its local authority out."""

    __slots__ = ("_areas", "_count", "_index_view", "_indexes", "_key_view", "_keys", "_view")

    def __init__(self, data: Buffer) -> None:
        view = self._view = memoryview(data)
        if len(view) < _HEADER.size:
            raise LookupFormatError("too short to be a postcode lookup")
        magic, count, n_areas, crc, _ = _HEADER.unpack_from(view)
        if magic != MAGIC:
            raise LookupFormatError("not a postcode lookup made by thinkfamily postcodes import")
        areas_end = _HEADER.size + n_areas * _AREA_BYTES
        keys_at = areas_end + (-(n_areas * _AREA_BYTES) % 8)
        indexes_at = keys_at + count * 8
        if len(view) != indexes_at + count * 2:
            raise LookupFormatError("the file is truncated or has extra bytes")
        if zlib.crc32(view[_HEADER.size :]) != crc:
            raise LookupFormatError("the checksum does not match: the file is damaged")
        raw = bytes(view[_HEADER.size : areas_end]).decode("ascii", "replace")
        self._areas = tuple(
            (raw[i : i + _CODE_BYTES], raw[i + _CODE_BYTES : i + _AREA_BYTES].strip())
            for i in range(0, len(raw), _AREA_BYTES)
        )
        if not all(
            GSS_CODE.fullmatch(district) and (not county or GSS_CODE.fullmatch(county))
            for district, county in self._areas
        ):
            raise LookupFormatError("an area code in the file is not an ONS code")
        self._key_view = view[keys_at:indexes_at]
        self._index_view = view[indexes_at:]
        self._keys: Sequence[int]
        self._indexes: Sequence[int]
        if sys.byteorder == "little":
            # Zero-copy: binary search reads the mapped file directly.
            self._keys = self._key_view.cast("Q")
            self._indexes = self._index_view.cast("H")
        else:
            keys, indexes = array("Q", self._key_view), array("H", self._index_view)
            keys.byteswap()
            indexes.byteswap()
            self._keys, self._indexes = keys, indexes
        self._count: int = count

    def area(self, postcode: str) -> Area | None:
        """(district, county or "") of the postcode's local authority; None when not in the table."""
        key = postcode_key(postcode)
        if key is None:
            return None
        at = bisect_left(self._keys, key)
        if at == self._count or self._keys[at] != key:
            return None
        return self._areas[self._indexes[at]]

    def codes_for(self, postcode: str) -> tuple[str, ...]:
        """The postcode's district code, then its county's where it has one; () when not found."""
        found = self.area(postcode)
        if found is None:
            return ()
        return found if found[1] else found[:1]

    @property
    def codes(self) -> frozenset[str]:
        """Every district and county code the table names."""
        return frozenset(code for area in self._areas for code in area if code)

    def __len__(self) -> int:
        return self._count

    def release(self) -> None:
        """Let go of the buffer (a memory map can be closed only once no view holds it)."""
        for held in (self._keys, self._indexes, self._key_view, self._index_view, self._view):
            if isinstance(held, memoryview):
                held.release()

    def __repr__(self) -> str:
        return f"PostcodeLookup({self._count} postcodes, {len(self._areas)} areas)"
