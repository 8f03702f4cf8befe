"""The routes of the worklist and the dashboard, each behind the role guard of
:mod:`adapters.web.access`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.web.access import DASHBOARD_ROLES, WORKLIST_ROLES, Caller, Role, require_role
from adapters.web.dashboard import chart_image, dashboard_file, dashboard_page
from adapters.web.worklist import worklist_page
from plugin_core.contract import PluginContext
from plugin_core.links import WebSettings
from plugin_core.service import Service

View = Callable[[Request, Caller, Service, WebSettings], Awaitable[Response]]


def lead_routes(context: PluginContext, settings: WebSettings) -> list[Route]:
    """``/worklist``, ``/dashboard``, ``/dashboard/charts/NAME.svg`` and ``/dashboard.csv``."""

    def bind(view: View, roles: frozenset[Role]) -> Callable[[Request], Awaitable[Response]]:
        async def bound(request: Request, caller: Caller) -> Response:
            service = context.service
            if not isinstance(service, Service):
                return PlainTextResponse("The service is not running.", 503)
            return await view(request, caller, service, settings)

        return require_role(context.config, roles)(bound)

    return [
        Route("/worklist", bind(worklist_page, WORKLIST_ROLES), methods=["GET"]),
        Route("/dashboard", bind(dashboard_page, DASHBOARD_ROLES), methods=["GET"]),
        Route("/dashboard.csv", bind(dashboard_file, DASHBOARD_ROLES), methods=["GET"]),
        Route("/dashboard/charts/{name}.svg", bind(chart_image, DASHBOARD_ROLES), methods=["GET"]),
    ]
