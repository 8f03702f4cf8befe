"""Hook specifications: what a host, an adapter or a trust's own plugin may implement.

Every hook is called by keyword only, through ThinkFamily's typed facade, which lets pluggy
call the implementations (``firstresult`` hooks stop at the first answer) and names the plugin
at fault. Implementations may accept a subset of the arguments; hook wrappers are refused.

Domain and contract types are imported for type checkers only: this package must not import
ThinkFamily's core at run time, so that a host can read the contract without loading the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from hooks import PROJECT_NAME

if TYPE_CHECKING:  # pragma: no cover - types only
    from pydantic import BaseModel

    from plugin_core.contract import HostChannel, Listener, PluginContext
    from plugin_core.model import (
        Assessment,
        AuthorityMatch,
        Child,
        Decision,
        DecisionEscalation,
        Destination,
        FirstContact,
        HouseholdAnswer,
        HouseholdMember,
        Prompt,
        Receipt,
        Referral,
        ReferralStatus,
        RiskIndicator,
    )

_hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# Initialisation ------------------------------------------------------------------------------


@_hookspec
def thinkfamily_configure(context: PluginContext) -> None:
    """Give a plugin its context, once, at start-up: the one door to configuration and service.

    Called after every plugin (built-in or installed) is registered and checked, and after the
    sections from ``thinkfamily_config_sections`` are found valid; before any contact is handled.
    Every plugin is given the same object; read your own settings from ``context.config`` here
    (``context.config.section(name)``, then your model's ``model_validate``). Raise
    ``plugin_core.settings.issues.ConfigError`` naming each key for a fault no model can see;
    every plugin is still configured, and all their faults are reported together.

    :param context: a ``plugin_core.contract.PluginContext``: the trust configuration, the
        running service (``None`` outside ``thinkfamily serve``) and where the service listens.
    :returns: nothing; every implementation is called.
    """


@_hookspec
def thinkfamily_config_sections() -> dict[str, type[BaseModel]] | None:
    """The trust-file sections a plugin reads, as pydantic models, so they are checked with the rest.

    Called by ``thinkfamily config check`` and at start-up, before ``thinkfamily_configure``.
    Each section (``[hl7]``, ``[acme]``) is validated against its model with every other
    section; every fault in every section is reported at once with file, key and reason
    (``acme.port: must be a port number from 1 to 65535``), and no plugin is configured while
    there is one. Derive the model from ``plugin_core.settings.section.Section`` for strict
    types (``"no"`` is not a boolean) and unknown keys reported; a section absent from the file
    is validated as an empty table, so give every key a default or it is reported as required.
    A table no loaded plugin claims is reported as a warning by ``config check``.

    :returns: ``{section name: model class}``, or ``None`` for none. Answers from all plugins
        are merged; when two plugins read the same section, both models check it.
    """


@_hookspec(firstresult=True)
def thinkfamily_parse_contact(data: bytes, hint: str) -> FirstContact | None:
    """Read a first contact from bytes in a format this plugin understands.

    Called by ``thinkfamily assess FILE`` and other readers of files and bodies.

    :param data: the raw bytes as read.
    :param hint: the file name or media type, possibly empty; a plugin may use it to decide
        quickly whether the data is its format.
    :returns: the contact, or ``None`` when the data is not this plugin's format. Raise
        ``plugin_core.contract.ContactInvalid`` naming where the fault is when it is your format
        but malformed, or ``ContactSkipped`` when it is valid but not an adult's first contact;
        any other exception becomes a ``PluginError`` and its message is dropped. The built-in
        readers answer last. Stops at the first non-None result.
    """


@_hookspec(firstresult=True)
def thinkfamily_split_messages(data: bytes, hint: str) -> list[bytes] | None:
    """Split a file of traffic (a day of HL7 messages, say) into single messages.

    Called by ``thinkfamily replay FILE`` before each message is read with
    ``thinkfamily_parse_contact``.

    :param data: the file's bytes.
    :param hint: the file name, possibly empty.
    :returns: the messages in file order, or ``None`` when the data is not this plugin's
        format. Stops at the first non-None result.
    """


# Gathering facts about a contact -------------------------------------------------------------


@_hookspec
def thinkfamily_household(contact: FirstContact) -> list[HouseholdMember] | None:
    """Household members the host knows for the adult of ``contact``.

    Called during every assessment. Answers from all plugins are merged.

    :param contact: the first contact being assessed.
    :returns: the members this plugin knows (an empty list means "asked, and nobody else
        lives there"), or ``None`` when this plugin does not know. The household is unknown
        only when every answer is ``None``.
    """


@_hookspec
def thinkfamily_risk_indicators(contact: FirstContact) -> list[RiskIndicator] | None:
    """Risk indicators from the adult's record (substance misuse, mental ill health, ...).

    Called during every assessment. Answers from all plugins are merged. Indicators whose kind
    is ``other`` are classified by the trust's code lists.

    :param contact: the first contact being assessed.
    :returns: the indicators this plugin found, or ``None`` when it has nothing to say.
    """


@_hookspec(firstresult=True)
def thinkfamily_locate_authority(
    contact: FirstContact, children: list[Child]
) -> AuthorityMatch | None:
    """The local authority responsible for the children of ``contact``.

    Called during every assessment. The built-in answer, from the trust's directory, runs
    last, so a host that knows better answers first.

    :param contact: the first contact being assessed.
    :param children: the children derived from the household.
    :returns: a match (which may say the authority is ambiguous or unknown), or ``None`` to
        leave the question to other plugins. An authority must be named by its id in the
        trust's directory: one that is not there is not taken, and the professional is asked
        to confirm the authority. Stops at the first non-None result.
    """


# Showing prompts and recording decisions -----------------------------------------------------


@_hookspec
def thinkfamily_present(contact: FirstContact, assessment: Assessment) -> None:
    """Show the assessment's prompts to the professional (card, worklist, host dialogue).

    Called after each assessment that has at least one prompt, except when the trust's
    re-check period holds them back: a decision for the same adult within ``recheck_days``
    and nothing new since (the contact is still recorded and audited).

    :param contact: the contact assessed.
    :param assessment: the assessment with its prompts.
    :returns: nothing; every implementation is called.
    """


@_hookspec
def thinkfamily_record(decision: Decision, assessment: Assessment | None) -> None:
    """Write a recorded decision back into the host's own record.

    Called once for every valid decision, sharing or not, after it is recorded. An
    implementation that raises is called again, alone, until it returns: make the write
    idempotent on ``decision.id``.

    :param decision: the decision as recorded.
    :param assessment: the assessment it answers, or ``None`` when it is not known.
    :returns: nothing; every implementation is called.
    """


@_hookspec
def thinkfamily_record_household(answer: HouseholdAnswer, contact: FirstContact) -> None:
    """Write a household recorded by a professional back into the host's own record.

    Called once for every household answer recorded on a ThinkFamily page or through the API
    (no children, children, or declined), after it is stored and the contact assessed again.
    An implementation that raises is called again, alone, until it returns: make the write
    idempotent on ``answer.id``. A declined answer says nobody knows the household: never
    write it as an empty household.

    :param answer: the answer as recorded, with who recorded it and when.
    :param contact: the contact it was recorded for, as it now stands (its ``id`` says which
        host record it belongs to).
    :returns: nothing; every implementation is called.
    """


@_hookspec
def thinkfamily_decision_escalated(escalation: DecisionEscalation) -> None:
    """Learn that a decision not to share was put before a safeguarding lead.

    Called once for each escalation, after the decision and its escalations are recorded: when
    a professional does not share at level 3 or 4 (kind ``not_shared``, to the lead they named)
    and when a referral the rules call for is overridden at level 4, for immediate danger or for
    a LADO concern (kind ``override``, to the trust's lead from ``[safeguarding.lead]``). A
    failure is logged, counted and audited; the escalation stays recorded and is listed by
    ``GET /api/decision-escalations``.

    :param escalation: ids, kind, level of need and the lead; never the reasons or anything
        that identifies the patient.
    :returns: nothing; every implementation is called. Alert the lead (a task, a page, a
        message) here.
    """


# Referral delivery ---------------------------------------------------------------------------


@_hookspec(firstresult=True)
def thinkfamily_dispatch(referral: Referral, destination: Destination) -> Receipt | None:
    """Deliver one referral to its destination.

    Called for each delivery attempt; the same referral may be offered again after a failure,
    always with the same ``referral.idempotency_key``, which receivers use to de-duplicate.

    :param referral: the referral to deliver.
    :param destination: the authority, route and channel to deliver it by.
    :returns: a receipt saying what happened (its ``channel`` the one the referral went
        by), or ``None`` when this plugin does not handle ``destination.channel``. The
        built-in transports answer last, so a host's own transport is asked first; a host
        channel's referrals (``x-...``) are offered only to the plugin that declares it with
        ``thinkfamily_channels``. Stops at the first non-None result.
    """


@_hookspec
def thinkfamily_channels() -> list[HostChannel | str] | None:
    """The host channels this plugin delivers: names of its own, such as ``x-acme-filedrop``.

    Called once at start-up (and by ``thinkfamily config check``), after
    ``thinkfamily_configure``. A route of the trust's directory may name a channel of the
    host's own, ``x-`` then lower-case letters, digits and hyphens; exactly one plugin must
    declare it, else the configuration is refused naming the plugins loaded. Referrals on such
    a route are offered to ``thinkfamily_dispatch`` in the declaring plugin only.

    :returns: the channels, each a ``plugin_core.contract.HostChannel`` (a name, and
        optionally a check of each route's contact fields) or just its name; ``None`` for
        none. Every implementation is called.
    """


@_hookspec
def thinkfamily_referral_update(
    referral: Referral, status: ReferralStatus, receipt: Receipt | None, prompt: Prompt | None
) -> None:
    """Learn that a referral changed state: delivered, acknowledged, failed or escalated.

    Called after each state change is recorded; again for an escalation when its route opens.

    :param referral: the referral.
    :param status: its new state.
    :param receipt: the receipt that caused the change, or ``None`` (escalation by time).
    :param prompt: for escalations and calls required, what to tell the professional
        (with the numbers to ring); otherwise ``None``.
    :returns: nothing; every implementation is called.
    """


# Service -------------------------------------------------------------------------------------


@_hookspec
def thinkfamily_http_routes(context: PluginContext) -> list[Any] | None:
    """HTTP routes a plugin adds to the service (CDS Hooks, pages, webhooks).

    Called once when the HTTP application is built. Answers from all plugins are merged.

    :param context: the running service's context.
    :returns: Starlette route objects, or ``None`` for none.
    """


@_hookspec
def thinkfamily_listeners(context: PluginContext) -> list[Listener] | None:
    """Long-running listeners a plugin adds to the service (an MLLP listener, say).

    Called once when the service starts. Each listener has ``async start()`` and
    ``async stop()``; ``stop`` is awaited on shutdown. Answers from all plugins are merged.

    :param context: the running service's context.
    :returns: listeners, or ``None`` for none.
    """
