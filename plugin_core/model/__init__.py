"""The domain model: frozen dataclasses that hooks take and return.

Every value crossing a hook is one of these, validated in ``__post_init__`` so that a plugin
returning something malformed fails where it is made, not deep inside a rule: enumerations,
dates, date-times, flags and nested values are checked by type (see
:mod:`plugin_core.model_checks`), then each class checks its own rules.
Unknown is not no: a household nobody asked about is ``None``, never an empty tuple.

The values live in modules named for what they hold (``people``, ``record``, ``directory``,
``levels``, ``contacts``, ``decisions``, ``referrals``); import them from here. The model
imports nothing of ours but its checks and the error root.
"""

from __future__ import annotations

from plugin_core.model.contacts import Assessment, ContactState, FirstContact
from plugin_core.model.decisions import (
    AdviceSought,
    Consent,
    Decision,
    DecisionEscalation,
    EscalationKind,
    LadoCriterion,
    LawfulBasis,
    Lead,
    Professional,
)
from plugin_core.model.directory import (
    Authority,
    AuthorityMatch,
    Call,
    Channel,
    Destination,
    Route,
)
from plugin_core.model.household import HouseholdAnswer, HouseholdChild, HouseholdOutcome, PhoneCall
from plugin_core.model.levels import LevelWording, Threshold
from plugin_core.model.people import Child, Encounter, HouseholdMember, Person, Relationship
from plugin_core.model.record import IndicatorKind, Prompt, PromptCode, RiskIndicator, Severity
from plugin_core.model.referrals import (
    KEY_PREFIX,
    Receipt,
    Referral,
    ReferralAction,
    ReferralStatus,
    referral_id,
    referral_key,
)
from plugin_core.model_checks import ModelError

# In the order the model reference lists them.
__all__ = [
    "KEY_PREFIX",
    "AdviceSought",
    "Assessment",
    "Authority",
    "AuthorityMatch",
    "Call",
    "Channel",
    "Child",
    "Consent",
    "ContactState",
    "Decision",
    "DecisionEscalation",
    "Destination",
    "Encounter",
    "EscalationKind",
    "FirstContact",
    "HouseholdAnswer",
    "HouseholdChild",
    "HouseholdMember",
    "HouseholdOutcome",
    "IndicatorKind",
    "LadoCriterion",
    "LawfulBasis",
    "Lead",
    "LevelWording",
    "ModelError",
    "Person",
    "PhoneCall",
    "Professional",
    "Prompt",
    "PromptCode",
    "Receipt",
    "Referral",
    "ReferralAction",
    "ReferralStatus",
    "Relationship",
    "RiskIndicator",
    "Route",
    "Severity",
    "Threshold",
    "referral_id",
    "referral_key",
]
