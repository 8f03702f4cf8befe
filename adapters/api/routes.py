"""The API's route table; every route is behind the bearer token.

Routes about one contact go through the caller's contact check (``scope.ContactCheck``): by
its id, or by one of its referrals. A contact id is the route's last part but one or the last,
and may hold ``/`` (HL7 ids do: sending facility ``|`` MSH-10), so it takes the ``path``
convertor; a client percent-encodes it (``quote(id, safe="")``).
"""

from __future__ import annotations

from starlette.routing import Route

from adapters.api.auth import Endpoint, bearer_guard
from adapters.api.contacts import ContactEndpoints
from adapters.api.household import HouseholdEndpoints
from adapters.api.referrals import ReferralEndpoints
from adapters.api.scope import HOST, Caller, ContactCheck
from plugin_core.model import ReferralAction
from plugin_core.service import Service

CONTACT = "/api/contacts/{contact_id:path}"
REFERRAL = "/api/referrals/{referral_id}"


def api_routes(service: Service, caller: Caller = HOST) -> list[Route]:
    guard = bearer_guard(service.config)
    check = ContactCheck(service, caller)
    contacts = ContactEndpoints(service)
    referrals = ReferralEndpoints(service)
    household = HouseholdEndpoints(service)

    def one_contact(path: str, endpoint: Endpoint, method: str) -> Route:
        return Route(path, guard(check.contact(endpoint)), methods=[method])

    def one_referral(path: str, endpoint: Endpoint, method: str) -> Route:
        return Route(path, guard(check.referral(endpoint)), methods=[method])

    return [
        Route("/api/contacts", guard(contacts.list_contacts), methods=["GET"]),
        Route("/api/contacts", guard(contacts.post_contact), methods=["POST"]),
        # The two longer paths first: the path convertor would take their last part as the id's.
        one_contact(f"{CONTACT}/decision", contacts.post_decision, "POST"),
        one_contact(f"{CONTACT}/household", household.post_household, "POST"),
        one_contact(CONTACT, contacts.get_contact, "GET"),
        one_referral(REFERRAL, referrals.get_referral, "GET"),
        one_referral(f"{REFERRAL}/call", household.get_call_sheet, "GET"),
        one_referral(f"{REFERRAL}/call", household.post_call, "POST"),
        one_referral(f"{REFERRAL}/document", referrals.document, "GET"),
        one_referral(f"{REFERRAL}/acknowledge", referrals.acknowledge, "POST"),
        one_referral(f"{REFERRAL}/update", referrals.amend(ReferralAction.UPDATE), "POST"),
        one_referral(f"{REFERRAL}/cancel", referrals.amend(ReferralAction.CANCEL), "POST"),
        Route("/api/escalations", guard(referrals.escalations), methods=["GET"]),
        Route("/api/decision-escalations", guard(contacts.decision_escalations), methods=["GET"]),
    ]
