"""``/``: who is signed in, the pages their roles open, and sign-out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.web.access import DASHBOARD_ROLES, WORKLIST_ROLES
from adapters.web.html import page
from adapters.web.render import render
from adapters.web.signin import Sessions, SignedIn


def home_route(sessions: Sessions) -> Route:
    """``/``: who is signed in, the pages their roles open, and sign-out."""

    @sessions.require_role()
    async def home(request: Request, user: SignedIn) -> Response:
        html = render(
            "home.html",
            user=user,
            worklist=user.has(*WORKLIST_ROLES),
            dashboard=user.has(*DASHBOARD_ROLES),
        )
        return page(html, frame_ancestors=sessions.frame_ancestors)

    return Route("/", home, methods=["GET"])
