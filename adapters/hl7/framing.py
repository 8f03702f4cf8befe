"""MLLP framing (start block 0x0B, message, end block 0x1C, carriage return), incrementally.

The decoder never holds more than the configured maximum of one message: a frame that grows
past it is reported at once (so the sender hears why) and the rest of it is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

START = 0x0B
END = 0x1C
CR = 0x0D
START_BYTES = b"\x0b"
END_BYTES = b"\x1c\r"


def frame(message: bytes) -> bytes:
    return START_BYTES + message + END_BYTES


@dataclass(frozen=True, slots=True)
class Frame:
    """A complete message as received, without its framing."""

    data: bytes


@dataclass(frozen=True, slots=True)
class FramingFault:
    """Something on the connection that is not a usable frame, with the reason to send back."""

    reason: str
    data: bytes = b""


Event = Frame | FramingFault


class FrameDecoder:
    """Feed bytes as they arrive; take back complete frames and faults in order."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._inside = False
        self._discarding = False
        self._scanned = 0

    @property
    def pending(self) -> bool:
        """True while part of a frame is held (the peer closing now truncates it)."""
        return self._inside or self._discarding

    def feed(self, data: bytes) -> list[Event]:
        """Complete frames and faults, in order, after ``data``.

        What a sender nearly always writes, one whole frame in one read with nothing held
        before it, is cut out directly; anything else goes through :meth:`scan`, which gives
        the same events for the same bytes (a test proves it)."""
        if (
            not self._buffer
            and not self._discarding
            and data[:1] == START_BYTES
            and data.find(b"\x1c") == len(data) - 2
            and data[-1] == CR
            and data.find(START_BYTES, 1) < 0
            and len(data) - 3 <= self.max_bytes
        ):
            return [Frame(data[1:-2])]
        return self.scan(data)

    def scan(self, data: bytes) -> list[Event]:
        """The general case of :meth:`feed`: frames split across reads, several in one read,
        junk between them, oversized ones."""
        events: list[Event] = []
        self._buffer += data
        buf = self._buffer
        while buf:
            if self._discarding:
                end = _first(buf, 0)
                if end < 0:
                    buf.clear()
                    break
                if buf[end] == START:
                    del buf[:end]
                    self._discarding = False
                    continue
                del buf[: end + 1]
                self._discarding = False
                continue
            if not self._inside:
                start = buf.find(START_BYTES)
                junk = buf if start < 0 else buf[:start]
                if END in junk:
                    events.append(FramingFault("MLLP: end block without a start block"))
                if start < 0:
                    buf.clear()
                    break
                del buf[:start]
                self._inside = True
                self._scanned = 1
            stop = _first(buf, self._scanned)
            if stop < 0:
                self._scanned = len(buf)
                if len(buf) - 1 > self.max_bytes:
                    events.append(
                        FramingFault(
                            f"MLLP: message exceeds the maximum of {self.max_bytes} bytes",
                            bytes(buf[1:4096]),
                        )
                    )
                    buf.clear()
                    self._inside = False
                    self._discarding = True
                break
            if buf[stop] == START:
                events.append(
                    FramingFault(
                        "MLLP: frame truncated (a new start block came before the end block)",
                        bytes(buf[1:stop]),
                    )
                )
                del buf[:stop]
                self._scanned = 1
                continue
            body = bytes(buf[1:stop])
            if len(body) > self.max_bytes:
                events.append(
                    FramingFault(
                        f"MLLP: message exceeds the maximum of {self.max_bytes} bytes", body[:4096]
                    )
                )
            else:
                events.append(Frame(body))
            cut = stop + 1
            if cut < len(buf) and buf[cut] == CR:
                cut += 1
            del buf[:cut]
            self._inside = False
        return events


def _first(buf: bytearray, offset: int) -> int:
    """Position of the first start or end block at or after ``offset``, or -1."""
    end = buf.find(b"\x1c", offset)
    start = buf.find(START_BYTES, offset, end if end >= 0 else len(buf))
    if start >= 0:
        return start
    return end
