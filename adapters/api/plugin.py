"""Built-in plugin: the JSON API at ``/api`` for hosts without CDS Hooks.

Every call needs ``Authorization: Bearer TOKEN``, the token read from the environment variable
the trust configuration names (``[api] token_env``); with none set, the API answers 503 and
says which variable to set. A token shorter than 32 characters stops start-up (and fails
``config check``). Blocking this plugin removes ``/api`` altogether.
"""

from __future__ import annotations

from typing import Any

from adapters.api.auth import token_problem
from adapters.api.journal import journal_routes
from adapters.api.routes import api_routes
from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.service import Service
from plugin_core.settings.trust_config import ConfigError


class ApiPlugin:
    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        """Refuse a short API token now, so start-up and ``config check`` say so."""
        problem = token_problem(context.config)
        if problem is not None:
            raise ConfigError([problem])

    @hookimpl
    def thinkfamily_http_routes(self, context: PluginContext) -> list[Any] | None:
        if not isinstance(context.service, Service):
            return None  # the API answers only from a running service
        return api_routes(context.service) + journal_routes(context.service)
