"""Who may open the worklist and the dashboard, and which wards and teams they see.

The pages sit behind the session guard (``Sessions.require_role``); this module names the
roles each admits and turns the signed-in person into the scope the service reports on, and
the scope of the contacts whose form, household and call pages they may open.
"""

from __future__ import annotations

from adapters.web.signin import SignedIn
from adapters.web.signin_settings import Role

WORKLIST_ROLES = (Role.UNIT_MEMBER, Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR)
DASHBOARD_ROLES = (Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR)
EVERY_UNIT = (Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR)
EVERY_CONTACT = (Role.CLINICIAN, *EVERY_UNIT)
"""Who may open any contact's pages: a clinician (signed in by the trust, or launched by the
EHR for the patient in front of them) as well as leads and administrators."""


def scope(user: SignedIn) -> frozenset[str] | None:
    """The units a person may see: every unit (None) for leads and administrators, else the
    wards and teams their sign-in names (none at all when it names none)."""
    return None if user.has(*EVERY_UNIT) else frozenset(user.units)


def contact_scope(user: SignedIn) -> frozenset[str] | None:
    """The units whose contacts a person may open: every unit (None) for a clinician, lead or
    administrator; for a unit member only, the wards and teams their sign-in names."""
    return None if user.has(*EVERY_CONTACT) else frozenset(user.units)
