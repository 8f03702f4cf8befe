"""The routes of the worklist and the dashboard, each behind the session guard.

The worklist admits unit members (their own wards and teams), leads and administrators; the
dashboard, its charts and its CSV leads and administrators. Without a session the pages go to
sign-in and the CSV answers 401; with another role, 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.web.access import DASHBOARD_ROLES, WORKLIST_ROLES
from adapters.web.dashboard import chart_image, dashboard_file, dashboard_page
from adapters.web.signin import Sessions, SignedIn
from adapters.web.signin_settings import Role
from adapters.web.worklist import worklist_page
from plugin_core.contract import PluginContext
from plugin_core.links import WebSettings
from plugin_core.service import Service

View = Callable[[Request, SignedIn, Service, WebSettings], Awaitable[Response]]


def lead_routes(context: PluginContext, settings: WebSettings, sessions: Sessions) -> list[Route]:
    """``/worklist``, ``/dashboard``, ``/dashboard/charts/NAME.svg`` and ``/dashboard.csv``."""

    def bind(
        view: View, roles: tuple[Role, ...], *, api: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def bound(request: Request, user: SignedIn) -> Response:
            service = context.service
            if not isinstance(service, Service):
                return PlainTextResponse("The service is not running.", 503)
            return await view(request, user, service, settings)

        return sessions.require_role(*roles, api=api)(bound)

    return [
        Route("/worklist", bind(worklist_page, WORKLIST_ROLES), methods=["GET"]),
        Route("/dashboard", bind(dashboard_page, DASHBOARD_ROLES), methods=["GET"]),
        Route("/dashboard.csv", bind(dashboard_file, DASHBOARD_ROLES, api=True), methods=["GET"]),
        Route(
            "/dashboard/charts/{name}.svg",
            bind(chart_image, DASHBOARD_ROLES, api=True),
            methods=["GET"],
        ),
    ]
