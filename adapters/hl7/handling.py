"""What the listener does with the frames it has read, in the trust's acknowledgement mode.

``after-processing``: read each message in full, commit its contact, then acknowledge, so a
content error comes back in the ACK. ``on-receipt``: check the header and that a PID is there,
commit the message to the journal (one small write), acknowledge, and leave the reading to the
journal worker; content errors found then are recorded, counted and listed, and in enhanced
mode answered with an application ACK. Both answer every frame, in the order received.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from adapters.hl7.ack import AckError
from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR, DUPLICATE_KEY_IDENTIFIER
from adapters.hl7.framing import Frame, FramingFault
from adapters.hl7.ingest import UNKNOWN_HEADER, Outcome, Reader
from plugin_core.contract import Accepted, ReceivedMessage, ServicePort
from plugin_core.journal import JournalItem

log = logging.getLogger("adapters.hl7.listener")

RESEND_CONFLICT = "MSH-10: control id already used for a different message"
SOURCE = "hl7"


def _failed(reason: str) -> AckError:
    return AckError(APPLICATION_INTERNAL_ERROR, reason)


NOT_READY = _failed("the service is not ready; send again")
CONFLICT = AckError(DUPLICATE_KEY_IDENTIFIER, RESEND_CONFLICT, "MSH", 10)


class AfterProcessing:
    """Acknowledge once the contact is committed (the ``after-processing`` mode)."""

    def __init__(
        self,
        reader: Reader,
        service: Callable[[], ServicePort | None],
        count: Callable[[str, int], None],
    ) -> None:
        self.reader = reader
        self.service = service
        self.count = count

    def handle(self, events: list[Frame | FramingFault]) -> list[Outcome]:
        """Read every frame, commit what it holds; outcomes in arrival order."""
        try:
            outcomes = [self.first_look(e) for e in events]
            for outcome in outcomes:
                if outcome.skipped is not None:
                    self.count("hl7.skipped", 1)
                elif outcome.contact is None and not outcome.to_journal:
                    self.count("hl7.rejected" if outcome.ack_code == "AR" else "hl7.errors", 1)
            return self.settle(outcomes)
        except Exception as exc:  # answer anyway: one bad batch must not stop the rest
            log.error("hl7: handling messages failed", extra={"error": type(exc).__name__})
            error = AckError(APPLICATION_INTERNAL_ERROR, "the message could not be handled")
            return [Outcome(UNKNOWN_HEADER, error=error, ack_code="AE") for _ in events]

    def first_look(self, event: Frame | FramingFault) -> Outcome:
        if isinstance(event, FramingFault):
            return self.reader.framing_fault(event.reason, event.data)
        return self.reader.read(event.data)

    def settle(self, outcomes: list[Outcome]) -> list[Outcome]:
        if not any(o.contact is not None for o in outcomes):
            return outcomes
        committed = iter(self.commit([o for o in outcomes if o.contact is not None]))
        return [next(committed) if o.contact is not None else o for o in outcomes]

    def commit(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Commit the contacts of a batch in order; a failure is answered AE ("send again").

        Several messages waiting on one connection share one durable commit.
        """
        service = self.service()
        if service is None:
            return [replace(o, contact=None, error=NOT_READY, ack_code="AE") for o in outcomes]
        results = _commit_all(service, outcomes)
        out: list[Outcome] = []
        for outcome, result in zip(outcomes, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "hl7: commit failed",
                    extra={"message_id": _id(outcome), "error": type(result).__name__},
                )
                error = _failed("the contact was not stored; send again")
                out.append(replace(outcome, contact=None, error=error, ack_code="AE"))
                self.count("hl7.failed", 1)
            elif result.conflict:
                log.warning(
                    "hl7: control id reused for a different message; kept for review",
                    extra={"message_id": _id(outcome)},
                )
                out.append(replace(outcome, contact=None, error=CONFLICT, ack_code="AE"))
                self.count("hl7.resend_conflicts", 1)
            else:
                if result.duplicate:
                    log.info("hl7: message already recorded", extra={"message_id": _id(outcome)})
                out.append(outcome)
        return out


class OnReceipt(AfterProcessing):
    """Journal, acknowledge, process later (the ``on-receipt`` mode)."""

    def first_look(self, event: Frame | FramingFault) -> Outcome:
        if isinstance(event, FramingFault):
            return self.reader.framing_fault(event.reason, event.data)
        return self.reader.receive(event.data)

    def settle(self, outcomes: list[Outcome]) -> list[Outcome]:
        if not any(o.to_journal for o in outcomes):
            return outcomes
        journaled = iter(self.journal([o for o in outcomes if o.to_journal]))
        return [next(journaled) if o.to_journal else o for o in outcomes]

    def journal(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Commit the messages to the journal together; a failure is answered AE."""
        service = self.service()
        journal = getattr(service, "journal_messages", None)
        if service is None or journal is None:
            return [replace(o, to_journal=False, error=NOT_READY, ack_code="AE") for o in outcomes]
        items = [
            JournalItem(o.header.message_key, o.message.digest, o.message.text, o.encoding)
            for o in outcomes
            if o.message is not None
        ]
        try:
            receipts = journal(SOURCE, items)
        except Exception as exc:
            log.error("hl7: journaling failed", extra={"error": type(exc).__name__})
            self.count("hl7.failed", len(outcomes))
            error = _failed("the message was not stored; send again")
            return [replace(o, to_journal=False, error=error, ack_code="AE") for o in outcomes]
        out: list[Outcome] = []
        for outcome, receipt in zip(outcomes, receipts, strict=True):
            if receipt.conflict:
                log.warning(
                    "hl7: control id reused for a different message; kept for review",
                    extra={"message_id": _id(outcome)},
                )
                self.count("hl7.resend_conflicts", 1)
                out.append(replace(outcome, to_journal=False, error=CONFLICT, ack_code="AE"))
            elif receipt.duplicate:
                log.info("hl7: message already recorded", extra={"message_id": _id(outcome)})
                out.append(replace(outcome, to_journal=False))
            else:
                out.append(outcome.journaled(receipt.id))
        return out


def _id(outcome: Outcome) -> str:
    return outcome.header.control_id[:40]


def _commit_all(service: ServicePort, outcomes: list[Outcome]) -> list[Accepted | Exception]:
    """A group commit when the service has one, else one durable commit after another."""
    kept = [o for o in outcomes if o.contact is not None]
    batch = [(o.contact, o.header.message_key) for o in kept if o.contact is not None]
    messages: list[ReceivedMessage | None] = [o.message for o in kept]
    if len(batch) > 1:
        try:
            return service.accept_contacts(batch, messages=messages)
        except Exception as exc:
            log.warning(
                "hl7: group commit failed; committing one by one",
                extra={"error": type(exc).__name__},
            )
    results: list[Accepted | Exception] = []
    for (contact, key), message in zip(batch, messages, strict=True):
        try:
            results.append(service.accept_contact(contact, message_key=key, message=message))
        except Exception as exc:
            results.append(exc)
    return results
