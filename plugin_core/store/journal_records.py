"""The records and files of the listener's journal (see :mod:`plugin_core.store.journal_file`):
how a message is laid out on disk, read back, and found beside a database; a file opened for
writes that return once on disk; the lock that makes one process the files' owner.

A record is a header (a magic number, the content's length, the journal id, a CRC of id and
content) and the content: six lengths, then the source, key, digest, time received, encoding
and text. Reading stops at the first record that does not check out.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"TFJ1"
_HEAD = struct.Struct("<4sIQI")  # magic, length of the content, id, CRC of id and content
_LENGTHS = struct.Struct("<6I")  # source, key, digest, received at, encoding, text
BLOCK = 4096
"""Writes start on a boundary of this many bytes and are padded with zeros to the next one, so
no write touches a block an earlier write (already acknowledged) holds."""
_NONE = bytes(4)


@dataclass(frozen=True, slots=True)
class Record:
    """One message as received, with the journal id it keeps in the table."""

    id: int
    source: str
    message_key: str
    digest: str
    received_at: str
    encoding: str
    text: str

    def __repr__(self) -> str:
        return f"Record({self.id}, {self.message_key!r})"


def encode(record: Record) -> bytes:
    source = record.source.encode("utf-8", "surrogatepass")
    key = record.message_key.encode("utf-8", "surrogatepass")
    digest = record.digest.encode("utf-8", "surrogatepass")
    received = record.received_at.encode("utf-8", "surrogatepass")
    encoding = record.encoding.encode("utf-8", "surrogatepass")
    text = record.text.encode("utf-8", "surrogatepass")
    lengths = _LENGTHS.pack(
        len(source), len(key), len(digest), len(received), len(encoding), len(text)
    )
    body = b"".join((lengths, source, key, digest, received, encoding, text))
    crc = zlib.crc32(body, zlib.crc32(record.id.to_bytes(8, "little")))
    return _HEAD.pack(MAGIC, len(body), record.id, crc) + body


def decode(data: bytes | memoryview) -> list[Record]:
    """The records at the start of a file, up to the first that does not check out.

    Each write starts on a block boundary; zeros pad it to the next one."""
    view = memoryview(data)
    found: list[Record] = []
    at = 0
    while at + _HEAD.size <= len(view):
        magic, length, ident, crc = _HEAD.unpack_from(view, at)
        if magic == _NONE and at % BLOCK:
            boundary = min(-(-at // BLOCK) * BLOCK, len(view))
            if any(view[at:boundary]):
                break
            at = boundary
            continue
        body = view[at + _HEAD.size : at + _HEAD.size + length]
        if magic != MAGIC or length < _LENGTHS.size or len(body) != length:
            break
        if zlib.crc32(body, zlib.crc32(ident.to_bytes(8, "little"))) != crc:
            break
        if found and ident <= found[-1].id:
            break
        sizes = _LENGTHS.unpack_from(body)
        if sum(sizes) != length - _LENGTHS.size:
            break
        fields: list[str] = []
        start = _LENGTHS.size
        for size in sizes:
            fields.append(bytes(body[start : start + size]).decode("utf-8", "surrogatepass"))
            start += size
        found.append(Record(ident, *fields))
        at += _HEAD.size + length
    return found


def segments(db_path: str) -> list[Path]:
    """The journal files beside a database, oldest first."""
    base = Path(db_path)
    return sorted(base.parent.glob(f"{base.name}.received-[0-9]*"))


def read_segments(db_path: str) -> list[Record]:
    """Every intact record in the files beside a database, by id."""
    found: list[Record] = []
    for path in segments(db_path):
        with contextlib.suppress(FileNotFoundError):
            found += decode(path.read_bytes())
    return sorted(found, key=lambda r: r.id)


def last_written(db_path: str) -> float | None:
    """When a journal file beside the database was last written (seconds since the epoch), for
    a worker in another process to tell whether the listener is quiet; None without files."""
    times: list[float] = []
    for path in segments(db_path):
        with contextlib.suppress(FileNotFoundError):
            times.append(path.stat().st_mtime)
    return max(times, default=None)


class Segment:
    """One journal file open for records: its size, the next write's place, its last id."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self.fd, self.direct = open_for_records(path)
        self.end = 0
        self.last_id = 0
        self.full = False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def number_of(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def open_for_records(path: Path) -> tuple[int, bool]:
    """The file opened for writes that return once on disk (``O_DIRECT | O_DSYNC``: the
    device writes the block through, with no flush of the file's cache); where the file
    system refuses direct writes, a plain descriptor, each write then flushed with
    ``fdatasync``. True when direct."""
    flags = os.O_RDWR | os.O_DSYNC | getattr(os, "O_DIRECT", 0)
    if flags & getattr(os, "O_DIRECT", 0):
        probe = mmap.mmap(-1, BLOCK)
        try:
            fd = os.open(path, flags)
        except OSError:
            pass
        else:
            try:  # the last block is zeros already: writing zeros there changes nothing
                os.pwritev(fd, [probe], os.fstat(fd).st_size - BLOCK)
                return fd, True
            except OSError:
                os.close(fd)
        finally:
            probe.close()
    return os.open(path, os.O_RDWR), False


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OwnerLock:
    """The files' owner: one process at a time, told by ``flock`` on a file beside them."""

    def __init__(self, db_path: str) -> None:
        self._fd: int | None = os.open(f"{db_path}.received-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def take(self) -> bool:
        assert self._fd is not None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            return False
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
