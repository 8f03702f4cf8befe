"""Contacts read from a prefetch already seen: an EHR reopening a chart sends the same call.

Mapping a six-resource prefetch to a FirstContact is a fifth of a call's own work. When a call's
body is, byte for byte, one this process mapped a moment ago but for its ``hookInstance``, and
the code lists are the same, the contact is the same but for its id (which names the hook
instance) and, when the encounter has no start, its time (the time of the call). Only the
mapping is remembered: each call is still authenticated, assessed, recorded and audited on its
own. A prefetch the service had to complete from the FHIR server is never remembered, since
the server's answer may change.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from adapters.fhir.mapping import PatientRecord
from plugin_core.model import FirstContact

KEEP = 256
"""Calls remembered; the one used longest ago is forgotten first."""
_HOLE = b"\x00"
"""Stands for the hook instance in a remembered body: a byte no UTF-8 JSON text holds."""


@dataclass(frozen=True, slots=True)
class _Seen:
    code_lists: object
    contact: FirstContact
    timed_by_call: bool
    """True when the contact's time was the time of the call (an encounter with no start)."""


class RepeatContacts:
    """The contacts of the last few calls, by their body; safe to share between threads."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._seen: OrderedDict[bytes, _Seen] = OrderedDict()
        """By the digest of the body with its hook instance cut out."""
        self._lock = threading.Lock()

    def contact(
        self,
        raw: bytes,
        hook_instance: str,
        prefetch: dict[str, Any],
        record: PatientRecord,
        code_lists: object,
        contact_id: str,
        mapped: Callable[[], FirstContact],
    ) -> FirstContact:
        """The contact ``mapped()`` gives for ``record``, from memory when it can be.

        :param raw: the call's body as sent, ``hook_instance`` its ``hookInstance`` and
            ``prefetch`` its ``prefetch``, parsed; ``record`` was gathered from it.
        :param code_lists: those the mapping reads.
        """
        key = _key(raw, hook_instance, prefetch, record)
        if key is None:
            return mapped()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None:
                self._seen.move_to_end(key)
        if seen is None or seen.code_lists is not code_lists:
            contact = mapped()
            with self._lock:
                self._seen[key] = _Seen(code_lists, contact, _timed_by_call(record.encounter))
                while len(self._seen) > self.keep:
                    self._seen.popitem(last=False)
            return contact
        occurred = datetime.now(UTC) if seen.timed_by_call else seen.contact.occurred_at
        return replace(seen.contact, id=contact_id, occurred_at=occurred)

    def __len__(self) -> int:
        return len(self._seen)


def _key(
    raw: bytes, hook_instance: str, prefetch: dict[str, Any], record: PatientRecord
) -> bytes | None:
    """The digest of the body with its hook instance cut out, or None when the hook instance
    is not written once as plain JSON text, or the record holds a resource not read from the
    prefetch.

    Two bodies with one key are equal but for that one string, at one place in the same
    structure. Either that place is the top-level ``hookInstance``, and the prefetches are
    the same text; or it is not, and then ``hookInstance`` is written elsewhere, the same in
    both, so the two hook instances, and the bodies, are the same.
    """
    if record.patient is not prefetch.get("patient"):
        return None
    if record.encounter is not None and record.encounter is not prefetch.get("encounter"):
        return None
    for group in (record.related_persons, record.conditions, record.observations, record.flags):
        for resource in group:
            if id(resource) not in record.paths:  # read from the server
                return None
    written = json.dumps(hook_instance, ensure_ascii=False).encode()
    if _HOLE in raw or raw.count(written) != 1:  # UTF-16 or UTF-32 text holds NUL bytes
        return None
    return hashlib.blake2b(raw.replace(written, _HOLE), digest_size=32).digest()


def _timed_by_call(encounter: dict[str, Any] | None) -> bool:
    """True when the mapping takes the contact's time from the clock, not the encounter."""
    period = encounter.get("period") if encounter is not None else None
    return not (isinstance(period, dict) and period.get("start"))
