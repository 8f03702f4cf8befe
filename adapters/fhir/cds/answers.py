"""The answer to a call repeated for a contact already answered, kept as sent.

A chart reopened within the same encounter is answered with the contact already recorded, so
its cards are those of the last answer: same assessment, same hook instance (card uuids are
named from the first), same patient, encounter, form link and level-of-need wording. Building
them and encoding the JSON again came to a tenth of a call's own work. The answer is kept by
what names it and reused only when the assessment shown and the wording are equal to those it
was built from; anything else is built afresh. The ``cds.cards`` audit entry naming the cards
of an answer is made here too, for every call.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.fhir.cds.cards import card_uuid
from adapters.fhir.cds.jwt_auth import Caller
from adapters.fhir.cds.services import CdsService
from adapters.fhir.mapping import hook_instance_of
from plugin_core.contract import Accepted, AuditNote
from plugin_core.model import Assessment

KEEP = 256
"""Answers kept; the one used longest ago is forgotten first."""


def encode(content: Any) -> bytes:
    """JSON as Starlette's ``JSONResponse`` renders it."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    cards: int


@dataclass(frozen=True, slots=True)
class _Kept:
    shown: Assessment
    threshold: object
    answer: Answer


class RepeatAnswers:
    """The last few answers, by what names their cards; safe to share between threads."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._kept: OrderedDict[tuple[str, str, str | None, str | None], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def answer(
        self,
        shown: Assessment,
        threshold: object,
        name: tuple[str, str, str | None, str | None],
        cards: Callable[[], list[dict[str, Any]]],
    ) -> Answer:
        """The ``{"cards": ...}`` body for ``cards()``, kept or built.

        :param name: the hook instance the cards are named from, the patient, the encounter
            and the signed form link: with ``shown`` and ``threshold``, all the cards depend
            on besides the service's settings.
        """
        with self._lock:
            kept = self._kept.get(name)
            if kept is not None:
                self._kept.move_to_end(name)
        if kept is not None and kept.threshold == threshold and kept.shown == shown:
            return kept.answer
        built = cards()
        answer = Answer(encode({"cards": built}), len(built))
        with self._lock:
            self._kept[name] = _Kept(shown, threshold, answer)
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
        return answer

    def __len__(self) -> int:
        return len(self._kept)


def cards_note(
    accepted: Accepted, caller: Caller, service: CdsService, hook_instance: str
) -> AuditNote | None:
    """The ``cds.cards`` entry for the cards this call is answered with, if any: one card per
    prompt shown, named as :func:`~adapters.fhir.cds.cards.build_cards` names it."""
    prompts = accepted.prompts_to_show
    if not prompts:
        return None
    first_instance = hook_instance_of(accepted.contact_id) or hook_instance
    return AuditNote(
        "cds.cards",
        f"{caller.iss}|{caller.sub}",
        {
            "service": service.id,
            "cards": [card_uuid(first_instance, p.code) for p in prompts],
            "prompts": [p.code.value for p in prompts],
            "reused": accepted.reused,
        },
    )
