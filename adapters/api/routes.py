"""The API's route table; every route is behind the bearer token."""

from __future__ import annotations

from starlette.routing import Route

from adapters.api.auth import bearer_guard
from adapters.api.contacts import ContactEndpoints
from adapters.api.household import HouseholdEndpoints
from adapters.api.referrals import ReferralEndpoints
from plugin_core.model import ReferralAction
from plugin_core.service import Service


def api_routes(service: Service) -> list[Route]:
    guard = bearer_guard(service.config)
    contacts = ContactEndpoints(service)
    referrals = ReferralEndpoints(service)
    household = HouseholdEndpoints(service)
    return [
        Route("/api/contacts", guard(contacts.list_contacts), methods=["GET"]),
        Route("/api/contacts", guard(contacts.post_contact), methods=["POST"]),
        Route("/api/contacts/{contact_id}", guard(contacts.get_contact), methods=["GET"]),
        Route(
            "/api/contacts/{contact_id}/decision",
            guard(contacts.post_decision),
            methods=["POST"],
        ),
        Route(
            "/api/contacts/{contact_id}/household",
            guard(household.post_household),
            methods=["POST"],
        ),
        Route("/api/referrals/{referral_id}", guard(referrals.get_referral), methods=["GET"]),
        Route(
            "/api/referrals/{referral_id}/call", guard(household.get_call_sheet), methods=["GET"]
        ),
        Route("/api/referrals/{referral_id}/call", guard(household.post_call), methods=["POST"]),
        Route(
            "/api/referrals/{referral_id}/document",
            guard(referrals.document),
            methods=["GET"],
        ),
        Route(
            "/api/referrals/{referral_id}/acknowledge",
            guard(referrals.acknowledge),
            methods=["POST"],
        ),
        Route(
            "/api/referrals/{referral_id}/update",
            guard(referrals.amend(ReferralAction.UPDATE)),
            methods=["POST"],
        ),
        Route(
            "/api/referrals/{referral_id}/cancel",
            guard(referrals.amend(ReferralAction.CANCEL)),
            methods=["POST"],
        ),
        Route("/api/escalations", guard(referrals.escalations), methods=["GET"]),
        Route("/api/decision-escalations", guard(contacts.decision_escalations), methods=["GET"]),
    ]
