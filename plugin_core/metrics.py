"""The service's Prometheus metrics, for ``/metrics``: one call to count or time something.

Every label value comes from a fixed set known when the process starts (route templates,
HTTP methods and status classes, enum values, the names below), so a label can never carry an
identifier or patient data: a value outside its set is counted as ``other``. Counts are this
process's own since it started, as Prometheus expects; ``/healthz`` keeps the database-wide
counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from plugin_core.model import ReferralStatus

__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY"]

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's metrics (not the library's global registry, so tests can build many apps)."""

OTHER = "other"

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SOURCES = frozenset({"hl7", "fhir", "api"})
HL7_OUTCOMES = frozenset(
    {"accepted", "duplicate", "conflict", "rejected", "skipped", "failed", "truncated"}
)
COMMITS = frozenset({"contacts", "hook_call", "decision", "delivery"})
_HOOKS = (
    "configure",
    "parse_contact",
    "split_messages",
    "household",
    "risk_indicators",
    "locate_authority",
    "present",
    "record",
    "decision_escalated",
    "dispatch",
    "channels",
    "referral_update",
    "http_routes",
    "listeners",
)
EVENTS = frozenset(
    {
        "contacts.duplicate",
        "contacts.reused",
        "contacts.prompts_suppressed",
        "contacts.reprompted_on_change",
        "decisions.escalated.not_shared",
        "decisions.escalated.override",
        "referrals.referrer_unreachable",
        "fhir.writeback",
        "fhir.writeback_failed",
        "hl7.errors",
        "hl7.evicted",
        "hl7.failed",
        "hl7.frame_deadline",
        "hl7.peer_capped",
        "hl7.refused_busy",
        "hl7.refused_network",
        "hl7.rejected",
        "hl7.resend_conflicts",
        "hl7.saturated",
        "hl7.skipped",
        "hl7.tls_refused",
        "hl7.truncated",
        *(f"hooks.{hook}.failed" for hook in _HOOKS),
    }
)
"""Names given to the service's ``count``; any other name is counted as ``other``."""

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_COMMIT = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

HTTP_SECONDS = Histogram(
    "thinkfamily_http_request_seconds",
    "Time to answer an HTTP request, by route template (never the path itself).",
    ["route", "method", "status"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
HL7_MESSAGES = Counter(
    "thinkfamily_hl7_messages",
    "HL7 messages by what became of them (accepted, duplicate, rejected, skipped...).",
    ["outcome"],
    registry=REGISTRY,
)
CONTACT_SECONDS = Histogram(
    "thinkfamily_contact_accept_seconds",
    "Time to assess and durably record a batch of contacts, by where they came from.",
    ["source"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
COMMIT_SECONDS = Histogram(
    "thinkfamily_store_commit_seconds",
    "Time of one store transaction that commits, from its first statement to its commit.",
    ["operation"],
    buckets=_COMMIT,
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "thinkfamily_outbox_deliveries",
    "Referral delivery attempts recorded, by the status they left the referral in.",
    ["outcome"],
    registry=REGISTRY,
)
EVENTS_COUNTED = Counter(
    "thinkfamily_events",
    "Service counters (as on /healthz), counted in this process.",
    ["event"],
    registry=REGISTRY,
)
_STATUSES = frozenset(s.value for s in ReferralStatus)


def _one_of(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else OTHER


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else OTHER


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """``route`` is the route's template (``/api/contacts/{contact_id}``), never the path."""
    HTTP_SECONDS.labels(route, _one_of(method, HTTP_METHODS), status_class(status)).observe(seconds)


_HL7_REFUSALS = {"hl7.rejected": "rejected", "hl7.skipped": "skipped", "hl7.truncated": "truncated"}
"""Counters that are HL7 messages answered without a contact; the others (accepted, duplicate,
conflict, failed) are counted as the service records contacts."""


def counted(name: str, amount: int = 1) -> None:
    """Mirror a service counter; HL7 messages refused are also counted as messages."""
    EVENTS_COUNTED.labels(_one_of(name, EVENTS)).inc(amount)
    outcome = _HL7_REFUSALS.get(name)
    if outcome is not None:
        hl7_message(outcome, amount)


def hl7_message(outcome: str, amount: int = 1) -> None:
    HL7_MESSAGES.labels(_one_of(outcome, HL7_OUTCOMES)).inc(amount)


def source_of(source: str) -> str:
    """The channel a contact came by: ``hl7``, ``fhir``, ``api`` or ``other``."""
    return _one_of(source.partition(":")[0], SOURCES)


def delivered(status: str) -> None:
    DELIVERIES.labels(_one_of(status, _STATUSES)).inc()


@contextmanager
def timed(histogram: Histogram, label: str, allowed: frozenset[str]) -> Iterator[None]:
    started = perf_counter()
    try:
        yield
    finally:
        histogram.labels(_one_of(label, allowed)).observe(perf_counter() - started)


def commit_timed(operation: str) -> AbstractContextManager[None]:
    """``with commit_timed("decision"):`` times one committing store call."""
    return timed(COMMIT_SECONDS, operation, COMMITS)


_journal_depth: list[Callable[[], int]] = []


def watch_journal(depth: Callable[[], int]) -> None:
    """Export ``thinkfamily_hl7_journal_depth`` (messages journalled, not yet processed),
    read from ``depth`` at each scrape; only once a journal is running."""
    if not _journal_depth:
        gauge = Gauge(
            "thinkfamily_hl7_journal_depth",
            "HL7 messages journalled and acknowledged but not yet processed.",
            registry=REGISTRY,
        )
        gauge.set_function(lambda: float(_journal_depth[-1]()))
    _journal_depth.append(depth)


def scrape(gauges: dict[str, dict[str, int]]) -> bytes:
    """The text exposition: this process's metrics, then the gauges read from the database
    for this scrape (``{metric: {label value: count}}``, label values from fixed sets)."""
    text = generate_latest(REGISTRY)
    if not gauges:
        return text
    now = CollectorRegistry(auto_describe=True)
    referrals = Gauge(
        "thinkfamily_outbox_referrals",
        "Referrals in the database by status.",
        ["status"],
        registry=now,
    )
    for status in sorted(_STATUSES):
        referrals.labels(status).set(gauges.get("referrals", {}).get(status, 0))
    depth = Gauge(
        "thinkfamily_outbox_queue_depth",
        "Referrals waiting to be delivered (pending, or failed and to be tried again).",
        registry=now,
    )
    waiting = gauges.get("referrals", {})
    depth.set(
        waiting.get(ReferralStatus.PENDING.value, 0) + waiting.get(ReferralStatus.FAILED.value, 0)
    )
    escalations = Gauge(
        "thinkfamily_escalations_open",
        "Referrals escalated for not being acknowledged in time, and not acknowledged since.",
        registry=now,
    )
    escalations.set(waiting.get(ReferralStatus.ESCALATED.value, 0))
    return text + generate_latest(now)
