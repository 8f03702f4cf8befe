"""The life of a referral: its states, the moves between them, and what a person may ask of it.

One table, read by the store (which applies each move with a conditional ``UPDATE``, so two
workers or two instances cannot make a move the table does not allow) and by the service
(which refuses a request the referral's state does not allow). ``docs/operations.md`` shows
the same table, rendered by :func:`markdown`; a test keeps the two the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plugin_core.model import ReferralStatus

S = ReferralStatus

_ATTEMPT_OUTCOMES = frozenset({S.DELIVERED, S.ACKNOWLEDGED, S.FAILED, S.CALL_REQUIRED})

TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.PENDING: _ATTEMPT_OUTCOMES | {S.CANCELLED},
    S.FAILED: _ATTEMPT_OUTCOMES | {S.CANCELLED},
    S.DELIVERED: frozenset({S.ACKNOWLEDGED, S.CANCELLED}),
    S.CALL_REQUIRED: frozenset({S.DELIVERED, S.ACKNOWLEDGED, S.CANCELLED}),
    S.ACKNOWLEDGED: frozenset({S.CANCELLED}),
    S.CANCELLED: frozenset(),
    S.ESCALATED: frozenset(),
}
"""Each state and the states a referral in it may move to. ``escalated`` is never stored: an
escalation is told to plugins and kept as the referral's ``escalated_at``, its state unchanged."""

SENDABLE = (S.PENDING, S.FAILED)
"""Waiting for a delivery attempt."""

SETTLED = (S.ACKNOWLEDGED, S.CANCELLED)
"""Never escalated and never chased."""

MEANINGS: dict[ReferralStatus, str] = {
    S.PENDING: "queued; not yet tried",
    S.FAILED: "an attempt failed; tried again later",
    S.DELIVERED: "handed over (an email accepted); not yet confirmed",
    S.CALL_REQUIRED: "cannot go electronically: a person must phone",
    S.ACKNOWLEDGED: "the authority confirmed it has the referral",
    S.CANCELLED: "withdrawn before it was sent, or cancelled by a message",
    S.ESCALATED: "not a state: told to plugins when an urgent referral is overdue",
}


class Change(StrEnum):
    """What a person may ask of a referral through the API."""

    ACKNOWLEDGE = "acknowledge"
    UPDATE = "update"
    CANCEL = "cancel"
    CALL = "call"


@dataclass(frozen=True, slots=True)
class ChangeRule:
    """Which states allow a change, where it leaves the referral, and where it is already done."""

    allowed_in: frozenset[ReferralStatus]
    moves_to: ReferralStatus | None
    """``None`` when the referral keeps its state (an update is a message of its own)."""
    done_in: ReferralStatus | None
    """In this state the change was made before: asking again is answered with the first."""
    note: str
    again: str
    """What asking again gets."""


CHANGES: dict[Change, ChangeRule] = {
    Change.ACKNOWLEDGE: ChangeRule(
        frozenset({S.PENDING, S.FAILED, S.DELIVERED, S.CALL_REQUIRED}),
        S.ACKNOWLEDGED,
        S.ACKNOWLEDGED,
        "a person confirms the authority has it",
        "nothing new is written",
    ),
    Change.UPDATE: ChangeRule(
        frozenset({S.PENDING, S.FAILED, S.DELIVERED, S.CALL_REQUIRED, S.ACKNOWLEDGED}),
        None,
        None,
        "an update message is queued",
        "the same update `id`: the first update, nothing new sent",
    ),
    Change.CANCEL: ChangeRule(
        frozenset({S.PENDING, S.FAILED, S.DELIVERED, S.CALL_REQUIRED, S.ACKNOWLEDGED}),
        S.CANCELLED,
        S.CANCELLED,
        "not yet sent: withdrawn, nothing sent; otherwise a cancellation message is queued;"
        " while a worker is sending it: refused until the attempt is recorded",
        "the first cancellation (or the withdrawal), nothing new sent",
    ),
    Change.CALL: ChangeRule(
        frozenset({S.PENDING, S.FAILED, S.DELIVERED, S.CALL_REQUIRED, S.ACKNOWLEDGED}),
        None,
        None,
        "a person records a phone call: `delivered` (from `pending`, `failed` or"
        " `call_required`), or `acknowledged` when the authority gave a reference; the call"
        " prompt is cleared",
        "the same call `id`: nothing new is written",
    ),
}


def allows(change: Change, status: ReferralStatus) -> bool:
    """True when a referral in ``status`` may be given ``change``."""
    return status in CHANGES[change].allowed_in


def after_call(status: ReferralStatus, *, acknowledged: bool) -> ReferralStatus:
    """A call delivers a referral; with a reference given, it is acknowledged too."""
    if acknowledged or status is S.ACKNOWLEDGED:
        return S.ACKNOWLEDGED
    return S.DELIVERED


def already_done(change: Change, status: ReferralStatus) -> bool:
    """True when ``status`` shows ``change`` was made before (a repeat is not a new change)."""
    return CHANGES[change].done_in is status


def refused_in(change: Change) -> frozenset[ReferralStatus]:
    """The stored states in which ``change`` is refused."""
    rule = CHANGES[change]
    return frozenset(
        s
        for s in ReferralStatus
        if s not in rule.allowed_in and s is not rule.done_in and s is not S.ESCALATED
    )


def values(states: tuple[ReferralStatus, ...] | frozenset[ReferralStatus]) -> tuple[str, ...]:
    """The states' values in a fixed order, as SQL parameters."""
    return tuple(s.value for s in ReferralStatus if s in states)


def refusal(change: Change, status: ReferralStatus) -> str:
    """Why ``change`` is refused, naming the state, in plain words."""
    verb = {
        Change.ACKNOWLEDGE: "acknowledged",
        Change.UPDATE: "updated",
        Change.CANCEL: "cancelled",
        Change.CALL: "recorded as phoned",
    }[change]
    return f"this referral is {status.value.replace('_', ' ')}: it cannot be {verb}"


def markdown() -> str:
    """The two tables for ``docs/operations.md``: states with their moves, and the changes."""
    rows = [
        "| state | meaning | may move to |",
        "|---|---|---|",
    ]
    for status in ReferralStatus:
        moves = ", ".join(f"`{s.value}`" for s in ReferralStatus if s in TRANSITIONS[status])
        rows.append(f"| `{status.value}` | {MEANINGS[status]} | {moves or '—'} |")
    rows += [
        "",
        "| request | allowed in | leaves it | asked again | refused (409) in |",
        "|---|---|---|---|---|",
    ]
    for change, rule in CHANGES.items():
        allowed = ", ".join(f"`{v}`" for v in values(rule.allowed_in))
        leaves = f"`{rule.moves_to.value}`" if rule.moves_to else "as it was"
        refused = ", ".join(f"`{v}`" for v in values(refused_in(change)))
        rows.append(
            f"| `{change.value}` | {allowed} | {leaves}; {rule.note} | {rule.again}"
            f" | {refused or '—'} |"
        )
    return "\n".join(rows) + "\n"
