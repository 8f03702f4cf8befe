"""Placeholders for the worklist and the dashboard, guarded as the real pages will be.

They prove the guard in place: ``/worklist`` admits unit members, leads and administrators,
``/dashboard`` and its CSV leads and administrators. The pages themselves replace these routes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.web.html import page
from adapters.web.render import render
from adapters.web.signin import Sessions, SignedIn
from adapters.web.signin_settings import Role

WORKLIST_ROLES = (Role.UNIT_MEMBER, Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR)
DASHBOARD_ROLES = (Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR)


def placeholder_routes(sessions: Sessions) -> list[Route]:
    frame = sessions.frame_ancestors

    @sessions.require_role(*WORKLIST_ROLES)
    async def worklist(request: Request, user: SignedIn) -> Response:
        return page(render("placeholder.html", title="Worklist", user=user), frame_ancestors=frame)

    @sessions.require_role(*DASHBOARD_ROLES)
    async def dashboard(request: Request, user: SignedIn) -> Response:
        html = render("placeholder.html", title="Dashboard", user=user)
        return page(html, frame_ancestors=frame)

    @sessions.require_role(*DASHBOARD_ROLES, api=True)
    async def dashboard_csv(request: Request, user: SignedIn) -> Response:
        return Response("week,count\n", media_type="text/csv; charset=utf-8")

    return [
        Route("/worklist", worklist, methods=["GET"]),
        Route("/dashboard", dashboard, methods=["GET"]),
        Route("/dashboard.csv", dashboard_csv, methods=["GET"]),
    ]


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
