"""What the household and call pages share: the signed link checked first, the service, the
same-origin rule for posts, and the body read within a limit.

The signed link from the CDS card names one contact and the professional; it is checked on
every request before anything about the contact is read, as on the decision form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from adapters.web import pages
from adapters.web.html import page
from plugin_core.contract import PluginContext, ThinkFamilyError
from plugin_core.links import LinkError, LinkTampered, NoSecret, WebSettings, check
from plugin_core.service import Service

log = logging.getLogger("thinkfamily.web")

MAX_BODY = 64_000


@dataclass(frozen=True, slots=True)
class Refusal(ThinkFamilyError):
    status: int
    html: str


class SignedPages:
    """Base for pages behind the signed form link."""

    def __init__(self, context: PluginContext, settings: WebSettings) -> None:
        self.context = context
        self.settings = settings

    def page(self, html: str, *, status: int = 200) -> Response:
        return page(html, status=status, frame_ancestors=self.settings.frame_ancestors)

    def service(self) -> Service:
        service = self.context.service
        if not isinstance(service, Service):
            raise Refusal(503, pages.unavailable_page("The service is not running"))
        return service

    def professional(self, token: str, contact_id: str) -> str:
        """Who the link was made for; refuses with 503 (no secret) or 403 (bad link)."""
        try:
            secret = self.settings.secret()
        except NoSecret as exc:
            log.warning("page refused: no form secret", extra={"reason": exc.env})
            raise Refusal(
                503,
                pages.unavailable_page(
                    f"The form is switched off: the {exc.env} environment variable is not set"
                ),
            ) from None
        try:
            if not token:
                raise LinkTampered()
            return check(token, contact_id, secret=secret)
        except LinkError as exc:
            log.info(
                "form link refused", extra={"contact_id": contact_id, "reason": type(exc).__name__}
            )
            raise Refusal(403, pages.refused_page(str(exc))) from None

    async def form_body(self, request: Request, contact_id: str) -> bytes:
        """The posted form, once it is known to come from these pages and be a form."""
        if not self._same_origin(request):
            log.info("form post from another origin refused", extra={"contact_id": contact_id})
            raise Refusal(403, pages.refused_page("the form was sent from another site"))
        kind = request.headers.get("content-type", "")
        if not kind.startswith("application/x-www-form-urlencoded"):
            raise Refusal(
                415, pages.refused_page("the form was not sent as a form", "Not accepted")
            )
        too_big = Refusal(413, pages.refused_page("the form was too long to accept", "Too long"))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise too_big
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise too_big
        return body

    def _same_origin(self, request: Request) -> bool:
        allowed = {_origin(str(request.base_url))}
        if self.settings.base_url:
            allowed.add(_origin(self.settings.base_url))
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.lower() in allowed
        referer = request.headers.get("referer")
        return not referer or _origin(referer) in allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
