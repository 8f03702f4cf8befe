"""Built-in plugin: the clinician web pages at ``/form/{contact_id}``.

Settings come from the trust configuration's ``[web]`` section (see ``plugin_core.links``):
``base_url``, ``secret_env``, ``link_ttl_minutes`` and ``frame_ancestors``. Without the secret
in the environment the pages answer 503 and say which variable to set.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from adapters.web.lead_routes import lead_routes
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
        return [*FormPages(context, self.settings).routes(), *lead_routes(context, self.settings)]
