"""Built-in plugin: the clinician web pages at ``/form/{contact_id}``, the household question
at ``/household/{contact_id}`` and the phone call at ``/call/{contact_id}``.

Settings come from the trust configuration's ``[web]`` section (see ``plugin_core.links``):
``base_url``, ``secret_env``, ``link_ttl_minutes`` and ``frame_ancestors``. Without the secret
in the environment the pages answer 503 and say which variable to set.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from adapters.web.household import HouseholdPages
from adapters.web.lead_routes import lead_routes
from adapters.web.phone_call import PhoneCallPages
from adapters.web.routes import FormPages
from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.links import WebSection, WebSettings, web_settings


class WebPlugin:
    settings: WebSettings

    @hookimpl
    def thinkfamily_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"web": WebSection}

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.settings = web_settings(context.config)

    @hookimpl
    def thinkfamily_http_routes(self, context: PluginContext) -> list[Any] | None:
        pages = (FormPages, HouseholdPages, PhoneCallPages)
        own = [route for kind in pages for route in kind(context, self.settings).routes()]
        return [*own, *lead_routes(context, self.settings)]
