"""Accepting contacts: assess, apply the re-check period, commit, then tell plugins.

Every acknowledgement a sender receives follows the durable commit made here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from plugin_core import metrics
from plugin_core.contract import Accepted, PluginError, ReceivedMessage
from plugin_core.model import Assessment, FirstContact
from plugin_core.rules import household_entry, recheck
from plugin_core.service.audit import contact_audit
from plugin_core.service.base import ServiceBase
from plugin_core.store.audit import AuditEntry
from plugin_core.store.records import NewContact, SavedContact

log = logging.getLogger("thinkfamily.service")


class Contacts(ServiceBase):
    def accept_contact(
        self,
        contact: FirstContact,
        *,
        message_key: str | None = None,
        encounter_key: str | None = None,
        message: ReceivedMessage | None = None,
    ) -> Accepted:
        result = self.accept_contacts(
            [(contact, message_key)], encounter_key=encounter_key, messages=[message]
        )[0]
        if isinstance(result, Exception):
            raise result
        return result

    def accept_contacts(
        self,
        items: Sequence[tuple[FirstContact, str | None]],
        *,
        encounter_key: str | None = None,
        messages: Sequence[ReceivedMessage | None] | None = None,
    ) -> list[Accepted | Exception]:
        # A unit from the first read: a group waiting to commit knows this write is coming.
        # Only here: the journal's own save takes its file lock first, and a lock taken
        # inside a unit could wait on a process that waits on this one.
        with metrics.commit_timed("contacts"), self.store.unit():
            return self._accept_with(items, encounter_key, messages, self._save)

    def _save(self, batch: list[NewContact], at: datetime) -> list[SavedContact]:
        return self.store.save_contacts(batch, at=at) if batch else []

    def _accept_with(
        self,
        items: Sequence[tuple[FirstContact, str | None]],
        encounter_key: str | None,
        messages: Sequence[ReceivedMessage | None] | None,
        save: Callable[[list[NewContact], datetime], list[SavedContact]],
    ) -> list[Accepted | Exception]:
        """Assess contacts and commit them together: one disk flush for a sender's batch.

        Results are in order; a contact that could not be assessed gets its exception and the
        others are still recorded. A failed commit raises, and nothing of the batch is stored.
        A contact for an adult with a decision in its re-check period, and nothing new since,
        is recorded with its prompts not shown (see :mod:`plugin_core.rules.recheck`).

        :param encounter_key: the caller's name for one encounter (CDS Hooks passes one): an
            open contact for the same adult, encounter, facts and prompts is answered again
            instead of recording another.
        :param messages: each item's message, when the sender may reuse a key: a key already
            held by a different message is answered ``conflict=True`` and the message kept.
        """
        source = metrics.source_of(items[0][0].source) if items else metrics.OTHER
        with metrics.timed(metrics.CONTACT_SECONDS, source, metrics.SOURCES):
            out = self._accept_contacts(
                items, encounter_key=encounter_key, messages=messages, save=save
            )
        if source == "hl7":
            for result in out:
                metrics.hl7_message(_outcome_of(result))
        return out

    def _accept_contacts(
        self,
        items: Sequence[tuple[FirstContact, str | None]],
        *,
        encounter_key: str | None,
        messages: Sequence[ReceivedMessage | None] | None,
        save: Callable[[list[NewContact], datetime], list[SavedContact]],
    ) -> list[Accepted | Exception]:
        now = self.clock()
        assessed: list[
            tuple[FirstContact, str | None, Assessment, ReceivedMessage | None] | Exception
        ] = []
        copies = list(messages) if messages is not None else [None] * len(items)
        items = self._with_recorded_households(items, now)
        for (contact, key), message in zip(items, copies, strict=True):
            try:
                assessment = self.engine.assess(contact, now=now, present=False)
                assessed.append((contact, key, assessment, message))
            except Exception as exc:
                if isinstance(exc, PluginError):
                    self.plugin_failed(exc, contact.id)
                assessed.append(exc)
        patients = [
            recheck.patient_key(self.config.trust_id, a[0].patient.id)
            for a in assessed
            if not isinstance(a, Exception)
        ]
        after = now - timedelta(days=self.config.recheck_days)
        bases = self.store.latest_bases(patients, after=after) if patients else {}
        batch: list[NewContact] = []
        rechecks: list[recheck.Recheck | None] = []
        for entry in assessed:
            if isinstance(entry, Exception):
                continue
            contact, key, assessment, message = entry
            patient = recheck.patient_key(self.config.trust_id, contact.patient.id)
            facts = recheck.facts_of(contact, assessment)
            found = recheck.judge(
                facts, bases.get(patient), now=now, recheck_days=self.config.recheck_days
            )
            rechecks.append(found)
            item = self._new_contact(contact, key, assessment, facts, found, encounter_key)
            batch.append(replace(item, message=message) if message is not None else item)
        saved = iter(save(batch, now))
        duplicates = 0
        out: list[Accepted | Exception] = []
        pending = iter(zip(batch, rechecks, strict=True))
        for entry in assessed:
            if isinstance(entry, Exception):
                out.append(entry)
                continue
            (item, found), stored = next(pending), next(saved)
            out.append(_accepted(item, stored, found))
            if stored.new:
                self._accepted_new(item)
            elif stored.conflict:
                log.warning(
                    "contact not recorded: its key is held by a different message",
                    extra={"contact_id": item.contact.id},
                )
            elif stored.reused:
                log.info("open contact answered again", extra={"contact_id": stored.contact_id})
                self.count("contacts.reused")
            else:
                duplicates += 1
                log.info("contact already recorded", extra={"contact_id": item.contact.id})
        if duplicates:
            self.count("contacts.duplicate", duplicates)
        return out

    def _with_recorded_households(
        self, items: Sequence[tuple[FirstContact, str | None]], now: datetime
    ) -> Sequence[tuple[FirstContact, str | None]]:
        """Contacts that came with no household take the one a professional recorded for the
        adult within the re-check period (never a declined answer: that asks again)."""
        unknown = [
            recheck.patient_key(self.config.trust_id, c.patient.id)
            for c, _ in items
            if c.household is None
        ]
        if not unknown:
            return items
        latest = self.store.latest_household_answers(unknown)
        if not latest:
            return items
        out: list[tuple[FirstContact, str | None]] = []
        for contact, key in items:
            found = household_entry.carried_over(
                latest.get(recheck.patient_key(self.config.trust_id, contact.patient.id)),
                at=contact.occurred_at,
                recheck_days=self.config.recheck_days,
            )
            if found is not None and contact.household is None:
                contact = household_entry.with_carried_household(contact, found)
            out.append((contact, key))
        return out

    def _accepted_new(self, item: NewContact) -> None:
        # Debug, not info: at HL7 rates one line per contact floods the log; the audit trail
        # already records every contact accepted.
        log.debug(
            "contact accepted",
            extra={"contact_id": item.contact.id, "prompts": len(item.assessment.prompts)},
        )
        if item.relies_on is not None:
            log.info(
                "prompts not shown: decision recorded within the re-check period",
                extra={"contact_id": item.contact.id, "decision_id": item.relies_on},
            )
        elif item.assessment.prompts:
            self.notify(
                "present", item.contact.id, self.engine.hooks.present, item.contact, item.assessment
            )

    def _new_contact(
        self,
        contact: FirstContact,
        key: str | None,
        assessment: Assessment,
        facts: recheck.Facts,
        found: recheck.Recheck | None,
        encounter_key: str | None,
    ) -> NewContact:
        """The contact to record, shown or not as the re-check period says."""
        if found is None or not assessment.prompts:
            reuse = self._reuse(contact, facts, assessment, encounter_key)
            audit = (contact_audit(contact, assessment),)
            return NewContact(contact, assessment, key, audit, reuse_key=reuse)
        if found.suppresses:
            suppressed = (
                contact_audit(contact, assessment, found),
                AuditEntry(
                    "contact.prompts_suppressed",
                    contact.source,
                    contact.id,
                    {
                        "decision": found.decision_id,
                        "prompts": [p.code.value for p in assessment.prompts],
                    },
                ),
            )
            return NewContact(
                contact,
                assessment,
                key,
                suppressed,
                relies_on=found.decision_id,
                counters=("contacts.prompts_suppressed",),
            )
        noted = recheck.with_changes_noted(assessment, found)
        return NewContact(
            contact,
            noted,
            key,
            (contact_audit(contact, noted, found),),
            reuse_key=self._reuse(contact, facts, noted, encounter_key),
            counters=("contacts.reprompted_on_change",),
        )

    def _reuse(
        self,
        contact: FirstContact,
        facts: recheck.Facts,
        assessment: Assessment,
        encounter_key: str | None,
    ) -> str | None:
        if encounter_key is None or not assessment.prompts:
            return None
        patient = recheck.patient_key(self.config.trust_id, contact.patient.id)
        return recheck.reuse_key(patient, encounter_key, facts, assessment.prompts)


def _outcome_of(result: Accepted | Exception) -> str:
    if isinstance(result, Exception):
        return "failed"
    if result.conflict:
        return "conflict"
    return "duplicate" if result.duplicate else "accepted"


def _accepted(item: NewContact, stored: SavedContact, found: recheck.Recheck | None) -> Accepted:
    if stored.conflict:
        return Accepted(stored.contact_id, stored.assessment, duplicate=True, conflict=True)
    if stored.new:
        changes = tuple(c.value for c in found.changes) if found else ()
        return Accepted(
            item.contact.id,
            stored.assessment,
            duplicate=False,
            suppressed_by=stored.relies_on,
            changes=changes,
        )
    if stored.reused:
        return Accepted(stored.contact_id, stored.assessment, duplicate=True, reused=True)
    return Accepted(
        stored.contact_id, stored.assessment, duplicate=True, suppressed_by=stored.relies_on
    )
