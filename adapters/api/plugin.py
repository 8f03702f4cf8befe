"""Built-in plugin: the JSON API at ``/api`` for hosts without CDS Hooks.

Every call needs ``Authorization: Bearer TOKEN``, the token read from the environment variable
the trust configuration names (``[api] token_env``); with none set, the API answers 503 and
says which variable to set. Blocking this plugin removes ``/api`` altogether.
"""

from __future__ import annotations

from typing import Any

from adapters.api.routes import api_routes
from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.service import Service


class ApiPlugin:
    @hookimpl
    def thinkfamily_http_routes(self, context: PluginContext) -> list[Any] | None:
        if not isinstance(context.service, Service):
            return None  # the API answers only from a running service
        return api_routes(context.service)
