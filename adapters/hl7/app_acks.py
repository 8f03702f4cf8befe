"""Application ACKs for journaled messages, sent once the journal worker has read them.

In enhanced mode a sender that asks for an application ACK (MSH-16 AL, ER or SU) gets the
accept ACK (CA) when the message is journaled, and the application ACK (AA, or AE/AR with the
reason) on the same connection once the message has been processed. Original mode has one
ACK only, so there a content error found later is recorded and listed, never answered. If the
connection has closed by then, the outcome stays recorded for the integrator.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from adapters.hl7.ack import AckError, build_ack, wanted
from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR
from adapters.hl7.framing import frame
from adapters.hl7.handling import CONFLICT
from adapters.hl7.header import Header
from plugin_core.contract import ServicePort
from plugin_core.journal import JournalOutcome
from plugin_core.rules.clock import utc_now

log = logging.getLogger("adapters.hl7.listener")

MAX_WAITING = 100_000
"""Messages awaiting an application ACK; beyond this the oldest are answered by the listing."""
_POLL_BATCH = 500


@dataclass(frozen=True, slots=True)
class _Waiting:
    header: Header
    encoding: str
    send: Callable[[bytes], bool]
    connection: object


def answer_of(outcome: JournalOutcome) -> tuple[str, AckError | None]:
    """The application ACK code and error for a settled journal row."""
    if outcome.outcome == "conflict":
        return "AE", CONFLICT
    if outcome.outcome == "refused":
        return outcome.ack_code, AckError(
            outcome.code, outcome.reason, outcome.segment, outcome.field
        )
    if outcome.outcome == "failed":
        return "AE", AckError(APPLICATION_INTERNAL_ERROR, outcome.reason)
    return "AA", None


class ApplicationAcks:
    """Journal rows whose sender awaits an application ACK, and the sending of them."""

    def __init__(self, service: Callable[[], ServicePort | None]) -> None:
        self.service = service
        self._waiting: dict[int, _Waiting] = {}
        self._lock = threading.Lock()

    def expect(
        self,
        journal_id: int,
        header: Header,
        encoding: str,
        send: Callable[[bytes], bool],
        connection: object,
    ) -> None:
        with self._lock:
            if len(self._waiting) >= MAX_WAITING:
                self._waiting.pop(next(iter(self._waiting)))
            self._waiting[journal_id] = _Waiting(header, encoding, send, connection)

    def forget(self, connection: object) -> None:
        """The connection closed: its application ACKs can no longer be sent."""
        with self._lock:
            for key in [k for k, w in self._waiting.items() if w.connection is connection]:
                del self._waiting[key]

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def poll(self) -> int:
        """Send the application ACKs of rows processed since; returns how many were sent."""
        with self._lock:
            ids = list(self._waiting)[:_POLL_BATCH]
        service = self.service()
        outcomes_of = getattr(service, "journal_outcomes", None)
        if not ids or outcomes_of is None:
            return 0
        try:
            settled: dict[int, JournalOutcome] = outcomes_of(ids)
        except Exception as exc:
            log.warning("hl7: reading journal outcomes failed", extra={"error": type(exc).__name__})
            return 0
        sent = 0
        at = utc_now()
        for journal_id, outcome in sorted(settled.items()):
            with self._lock:
                waiting = self._waiting.pop(journal_id, None)
            if waiting is None:
                continue
            code, error = answer_of(outcome)
            if not wanted(waiting.header.application_ack, code == "AA"):
                continue
            ack = build_ack(waiting.header, code, at=at, error=error)
            if waiting.send(frame(ack.encode(waiting.encoding, "replace"))):
                sent += 1
        return sent
