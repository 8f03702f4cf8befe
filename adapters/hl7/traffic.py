"""Splitting a file of HL7 traffic into messages, for ``thinkfamily replay``.

A day of traffic comes MLLP-framed, one message per line, one segment per line, or in FHS/BHS
batches; each layout gives the same messages. A frame cut short is kept, so that replay reports
it as refused rather than dropping it silently.
"""

from __future__ import annotations

from adapters.hl7.framing import Frame, FrameDecoder

_WRAPPERS = (b"FHS", b"BHS", b"BTS", b"FTS")


def split_messages(data: bytes) -> list[bytes]:
    """Messages in a file: MLLP-framed, one per line, one segment per line, or FHS/BHS batches."""
    if b"\x0b" in data:
        return _framed(data)
    text = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    messages: list[list[bytes]] = []
    for segment in text.split(b"\r"):
        segment = segment.strip(b" \t\x1c\x0c")
        if not segment or segment[:3] in _WRAPPERS:
            continue
        if segment.startswith(b"MSH") or not messages:
            messages.append([])
        messages[-1].append(segment)
    return [b"\r".join(segments) + b"\r" for segments in messages]


def _framed(data: bytes) -> list[bytes]:
    """Framed messages. A frame cut short keeps its start block and no end block, so reading
    it reports the truncation instead of taking part of a message for a whole one."""
    decoder = FrameDecoder(max(len(data), 1))
    out = [
        event.data if isinstance(event, Frame) else b"\x0b" + event.data
        for event in decoder.feed(data)
    ]
    if decoder.pending:
        out.append(data[data.rfind(b"\x0b") :])
    return [m for m in out if m.strip(b"\x0b \r\n")]
