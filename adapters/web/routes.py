"""Every route of the clinician pages, one module per page family.

Add a page family as a module with its own ``routes`` and list it here. Signed-in pages take
the guard from ``Sessions.require_role``; pages with patient data answer through
``html.page`` (no-store, the strict CSP).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from adapters.web.form_routes import FormPages
from adapters.web.home_route import home_route
from adapters.web.household import HouseholdPages
from adapters.web.lead_routes import lead_routes
from adapters.web.phone_call import PhoneCallPages
from adapters.web.signin import Sessions
from adapters.web.signin_routes import SigninPages
from adapters.web.signin_settings import SigninSettings
from adapters.web.static_files import static_routes
from plugin_core.contract import PluginContext
from plugin_core.links import WebSettings


def web_routes(context: PluginContext, web: WebSettings, signin: SigninSettings) -> list[BaseRoute]:
    sessions = Sessions(context, signin, web.frame_ancestors)
    routes: list[BaseRoute] = []
    routes += static_routes()
    routes += FormPages(context, web, sessions).routes()
    routes += SigninPages(sessions, web).routes()
    routes.append(home_route(sessions))
    routes += HouseholdPages(context, web, sessions).routes()
    routes += PhoneCallPages(context, web, sessions).routes()
    routes += lead_routes(context, web, sessions)
    return routes
