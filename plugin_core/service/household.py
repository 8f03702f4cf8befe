"""Recording the household: validated, the contact assessed again at once, stored with the
answer and its audit entry in one transaction, then written back to the host."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from plugin_core.contract import PluginError
from plugin_core.errors import ThinkFamilyError
from plugin_core.host.faults import fault_fields
from plugin_core.model import HouseholdAnswer, HouseholdOutcome
from plugin_core.rules import household_entry, recheck
from plugin_core.rules.children import contact_date
from plugin_core.service.base import ServiceBase
from plugin_core.service.errors import UnknownContact
from plugin_core.store.audit import AuditEntry
from plugin_core.store.household import HouseholdSaved
from plugin_core.store.records import StoredContact

log = logging.getLogger("thinkfamily.service")

RECORD_HOUSEHOLD_HOOK = "record_household"
"""The ``host_tasks`` hook name of a household write-back to retry."""


class HouseholdClosed(ThinkFamilyError, ValueError):
    """A decision is already recorded for the contact, so its household cannot change there."""

    def __init__(self) -> None:
        super().__init__(
            "a decision is already recorded for this contact: record the household at the"
            " next contact"
        )


@dataclass(frozen=True, slots=True)
class RecordedHousehold:
    answer: HouseholdAnswer
    contact: StoredContact
    """The contact as stored after it was assessed again."""
    repeat: bool = False
    """An answer with this id was recorded before; nothing new was written."""


class Household(ServiceBase):
    def record_household(self, answer: HouseholdAnswer) -> RecordedHousehold:
        """Record a professional's household answer for a contact and assess it again.

        Raises HouseholdInvalid naming each field at fault, UnknownContact, or HouseholdClosed
        once a decision is recorded for the contact. The same answer id again is a repeat.
        """
        stored = self.store.get_contact(answer.contact_id)
        if stored is None:
            raise UnknownContact(answer.contact_id)
        problems = household_entry.answer_problems(
            answer, on=contact_date(stored.contact.occurred_at)
        )
        if problems:
            raise household_entry.HouseholdInvalid(problems)
        now = self.clock()
        contact = household_entry.contact_with_answer(stored.contact, answer)
        assessment = self.engine.assess(contact, now=now, present=False)
        assessment = household_entry.with_declined_noted(assessment, answer)
        patient = recheck.patient_key(self.config.trust_id, contact.patient.id)
        entry = AuditEntry(
            "household.recorded",
            answer.recorded_by.id,
            answer.contact_id,
            {
                "answer": answer.id,
                "outcome": answer.outcome.value,
                "children": len(answer.children),
                "estimated_ages": sum(1 for c in answer.children if c.birth_date is None),
                "pregnant": answer.pregnant,
                "role": answer.recorded_by.role,
                "recorded_at": answer.recorded_at.isoformat(),
                "prompts": [f"{p.code.value}:{p.severity.value}" for p in assessment.prompts],
            },
        )
        saved = self.store.save_household_answer(
            answer,
            patient_key=patient,
            contact=contact,
            assessment=assessment,
            audit=[entry],
            at=now,
        )
        if saved is HouseholdSaved.MISSING:
            raise UnknownContact(answer.contact_id)
        if saved is HouseholdSaved.DECIDED:
            raise HouseholdClosed()
        after = self.store.get_contact(answer.contact_id)
        assert after is not None
        if saved is HouseholdSaved.REPEAT:
            return RecordedHousehold(answer, after, repeat=True)
        log.info(
            "household recorded",
            extra={
                "contact_id": answer.contact_id,
                "reason": answer.outcome.value,
                "prompts": len(assessment.prompts),
            },
        )
        self.count(f"household.{answer.outcome.value}")
        for failure in self.engine.hooks.record_household(answer, contact):
            self._household_write_back_failed(failure, answer.id)
        if answer.outcome is not HouseholdOutcome.DECLINED and assessment.prompts:
            self.notify("present", contact.id, self.engine.hooks.present, contact, assessment)
        return RecordedHousehold(answer, after)

    def household_answers(self, contact_id: str) -> list[HouseholdAnswer]:
        """The households recorded for a contact, oldest first."""
        return self.store.household_answers(contact_id)

    def retry_household_write_back(self, answer_id: str, plugin: str) -> bool:
        """Call one plugin's ``thinkfamily_record_household`` again; True when it succeeded."""
        answer = self.store.get_household_answer(answer_id)
        stored = self.store.get_contact(answer.contact_id) if answer else None
        if answer is None or stored is None:
            return True  # nothing to write back any more
        failures = self.engine.hooks.record_household(answer, stored.contact, only=plugin)
        for failure in failures:
            log.warning(
                "write-back failed again", extra={"subject": answer_id, **fault_fields(failure)}
            )
        return not failures

    def _household_write_back_failed(self, failure: PluginError, answer_id: str) -> None:
        fields = fault_fields(failure)
        log.warning("write-back failed; will retry", extra={"subject": answer_id, **fields})
        entry = AuditEntry("writeback.failed", failure.plugin, answer_id, fields)
        self.store.add_host_task(
            RECORD_HOUSEHOLD_HOOK,
            failure.plugin,
            answer_id,
            error=failure.error,
            at=self.clock(),
            audit=[entry],
        )
