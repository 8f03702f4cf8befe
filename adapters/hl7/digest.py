"""When a message sent again under the same control id is the same message.

An engine resends a message it got no ACK for. Some rewrite it on the way: line endings, blank
lines, empty fields dropped from the end of a segment, and MSH-7 stamped with the time of the
resend. None of that changes what the message says, so none of it counts. Anything else that
differs (a field, a segment more or less) makes it a different message, which must not be
taken for the one already stored.
"""

from __future__ import annotations

import hashlib

_MSH_7 = 6  # index of MSH-7 when the MSH is split on its field separator


def normalised(text: str) -> str:
    """The message as compared: segments ended by CR, blank ones and trailing empty fields
    dropped, MSH-7 emptied."""
    return _tidy(text) or _normalised(text)


def _tidy(text: str) -> str | None:
    """The normalised text of a message that is already tidy (what a listener nearly always
    receives): an MSH first, segments ended by CR alone, none blank, none ending in an empty
    field. Only its MSH-7 changes. None for any other text (a test proves the two equal)."""
    if text[:3] != "MSH" or len(text) < 4 or "\n" in text:
        return None
    separator = text[3]
    segments = (text[:-1] if text[-1] == "\r" else text).split("\r")
    for segment in segments:
        if (
            not segment
            or segment[-1] == separator
            or (segment[0].isspace() and not segment.strip())
        ):
            return None
    fields = segments[0].split(separator)
    if len(fields) > _MSH_7:
        fields[_MSH_7] = ""
    segments[0] = separator.join(fields).rstrip(separator)
    segments.append("")
    return "\r".join(segments)


def _normalised(text: str) -> str:
    text = text.lstrip().replace("\r\n", "\r").replace("\n", "\r")
    separator = text[3] if len(text) > 3 and text.startswith(("MSH", "FHS", "BHS")) else "|"
    segments: list[str] = []
    for segment in text.split("\r"):
        segment = segment.rstrip(separator)
        if not segment.strip():
            continue
        if segment.startswith("MSH") and not segments:
            fields = segment.split(separator)
            if len(fields) > _MSH_7:
                fields[_MSH_7] = ""
            segment = separator.join(fields).rstrip(separator)
        segments.append(segment)
    return "\r".join(segments) + "\r"


def message_digest(text: str) -> str:
    """SHA-256 of the normalised message: equal for resends of the same message."""
    return hashlib.sha256(normalised(text).encode("utf-8", "surrogatepass")).hexdigest()
