"""Reading the feedback an EHR sends on cards: ids, outcomes and codes, never free text."""

from __future__ import annotations

from typing import Any

from adapters.fhir.cds.problems import CdsProblem

FEEDBACK_OUTCOMES = ("accepted", "overridden")

MAX_FEEDBACK_ITEMS = 50
"""Feedback items one call may carry (413 beyond): a service returns a few cards a call."""


def feedback_entries(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """One audit entry's details per card and outcome, however often the call repeats it."""
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise CdsProblem(400, "required", "$.feedback: must be a non-empty list")
    if len(items) > MAX_FEEDBACK_ITEMS:
        raise CdsProblem(
            413,
            "too-costly",
            f"$.feedback: at most {MAX_FEEDBACK_ITEMS} items in one call; send the rest in another",
        )
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for i, item in enumerate(items):
        card, details = _feedback_entry(item, i)
        entries.setdefault((card, details["outcome"]), details)
    return entries


def _feedback_entry(item: Any, i: int) -> tuple[str, dict[str, Any]]:
    path = f"$.feedback[{i}]"
    if not isinstance(item, dict):
        raise CdsProblem(400, "structure", f"{path}: must be an object")
    card = item.get("card")
    if not isinstance(card, str) or not card:
        raise CdsProblem(400, "required", f"{path}.card: is required")
    result = item.get("outcome")
    if result not in FEEDBACK_OUTCOMES:
        raise CdsProblem(400, "invalid", f"{path}.outcome: must be accepted or overridden")
    details: dict[str, Any] = {"outcome": result}
    timestamp = item.get("outcomeTimestamp")
    if isinstance(timestamp, str):
        details["at"] = timestamp[:40]
    if result == "accepted":
        accepted = item.get("acceptedSuggestions") or []
        if not isinstance(accepted, list):
            raise CdsProblem(400, "structure", f"{path}.acceptedSuggestions: must be a list")
        details["accepted_suggestions"] = [
            str(s.get("id"))[:64] for s in accepted if isinstance(s, dict) and s.get("id")
        ]
    else:
        reason = item.get("overrideReason") or {}
        if not isinstance(reason, dict):
            raise CdsProblem(400, "structure", f"{path}.overrideReason: must be an object")
        coding = reason.get("reason") or {}
        if isinstance(coding, dict):
            details["override_reason"] = str(coding.get("code", ""))[:64]
            details["override_system"] = str(coding.get("system", ""))[:200]
        # The free-text comment may name people, so only its presence is recorded.
        details["comment_given"] = bool(reason.get("userComment"))
    return card, details
