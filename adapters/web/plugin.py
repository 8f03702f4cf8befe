"""Built-in plugin: the clinician web pages: the form at ``/form/{contact_id}``, the household
question at ``/household/{contact_id}``, the phone call at ``/call/{contact_id}``, sign-in, the
worklist and the dashboard.

Settings come from the trust configuration's ``[web]`` section (see ``plugin_core.links``):
``base_url``, ``secret_env``, ``link_ttl_minutes`` and ``frame_ancestors``; and ``[signin]``
(see ``adapters.web.signin_settings``). Without the form secret in the environment the signed
links answer 503 and say which variable to set.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from adapters.web.routes import web_routes
from adapters.web.signin_settings import SigninSection, SigninSettings, read_signin_settings
from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.links import WebSection, WebSettings, web_settings


class WebPlugin:
    settings: WebSettings
    signin: SigninSettings

    @hookimpl
    def thinkfamily_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"web": WebSection, "signin": SigninSection}

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.settings = web_settings(context.config)
        self.signin = read_signin_settings(context.config)

    @hookimpl
    def thinkfamily_http_routes(self, context: PluginContext) -> list[Any] | None:
        return web_routes(context, self.settings, self.signin)
