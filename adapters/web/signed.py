"""What the household and call pages share with the decision form: the same way in (the signed
link for its one contact, or a signed-in clinician, unit member or lead; a unit member only
for a contact of their own wards and teams), the CSRF token on every post, the same-origin rule
and the body read within a limit.

The checks themselves are the form's (:mod:`adapters.web.form_access`); this base only binds
them to a page family.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.web import pages
from adapters.web.access import contact_scope
from adapters.web.form_access import (
    Access,
    Refusal,
    link_access,
    read_body,
    require_csrf,
    same_origin,
    session_access,
)
from adapters.web.html import page, security_headers
from adapters.web.signin import Sessions
from plugin_core.contract import PluginContext
from plugin_core.links import WebSettings
from plugin_core.service import Service, StoredContact
from plugin_core.service.scope import Reach, audit_refusal, reach

log = logging.getLogger("thinkfamily.web")

__all__ = ["Access", "Refusal", "SignedPages"]

NOT_YOURS = "you do not have access to this patient's record"


class SignedPages:
    """Base for pages opened like the decision form."""

    name = "page"
    """The page family (``form``, ``household``, ``call``), for the audit of a refusal."""

    def __init__(
        self, context: PluginContext, settings: WebSettings, sessions: Sessions | None = None
    ) -> None:
        self.context = context
        self.settings = settings
        self.sessions = sessions

    def page(self, html: str, *, status: int = 200) -> Response:
        return page(html, status=status, frame_ancestors=self.settings.frame_ancestors)

    def refused(self, refusal: Refusal) -> Response:
        """The page for a refusal, or the redirect to sign-in."""
        if refusal.location:
            response = RedirectResponse(refusal.location, status_code=303)
            response.headers.update(security_headers(self.settings.frame_ancestors))
            return response
        return self.page(refusal.html, status=refusal.status)

    async def endpoint(self, request: Request) -> Response:
        """GET shows the page, POST takes its form; a refusal becomes its page or a redirect."""
        try:
            if request.method == "POST":
                return await self._submit(request)
            return await self._show(request)
        except Refusal as refusal:
            return self.refused(refusal)

    async def _show(self, request: Request) -> Response:
        raise NotImplementedError

    async def _submit(self, request: Request) -> Response:
        raise NotImplementedError

    async def _contact(self, service: Service, contact_id: str) -> StoredContact:
        """The stored contact, or a refusal with the not-found page."""
        stored = await run_in_threadpool(service.contact, contact_id)
        if stored is None:
            raise Refusal(404, pages.not_found_page())
        return stored

    def service(self) -> Service:
        service = self.context.service
        if not isinstance(service, Service):
            raise Refusal(503, pages.unavailable_page("The service is not running"))
        return service

    async def access(self, request: Request, token: str, contact_id: str) -> Access:
        """The link's professional when there is a link, else the signed-in one."""
        if token or self.sessions is None or not self.sessions.signin_on:
            return link_access(self.settings, token, contact_id)
        user = await self.sessions.current(request)
        access = session_access(user, request, posting=request.method == "POST")
        await self._in_scope(access, contact_id)
        return access

    async def _in_scope(self, access: Access, contact_id: str) -> None:
        """Refuses a signed-in person a contact outside their wards and teams, before anything
        of it is read for the page; the refusal is audited."""
        user = access.user
        if user is None:
            return  # a signed link opens exactly its one contact
        service = self.service()
        found = await run_in_threadpool(reach, service, contact_id, contact_scope(user))
        if found is not Reach.REFUSED:
            return
        await run_in_threadpool(audit_refusal, service, user.subject, contact_id, self.name)
        log.info(
            "page refused: contact outside the user's units",
            extra={"contact_id": contact_id, "reason": self.name},
        )
        raise Refusal(403, pages.refused_page(NOT_YOURS, "No access", about_link=False, user=user))

    async def posted(self, request: Request, contact_id: str, token: str, csrf: str) -> Access:
        """Who posted, once the post is known to carry the page's CSRF token."""
        access = await self.access(request, token, contact_id)
        require_csrf(access, csrf, contact_id)
        return access

    async def form_body(self, request: Request, contact_id: str) -> bytes:
        """The posted form, once it is known to come from these pages and be a form."""
        if not same_origin(request, self.settings):
            log.info("form post from another origin refused", extra={"contact_id": contact_id})
            raise Refusal(403, pages.refused_page("the form was sent from another site"))
        kind = request.headers.get("content-type", "")
        if not kind.startswith("application/x-www-form-urlencoded"):
            raise Refusal(
                415, pages.refused_page("the form was not sent as a form", "Not accepted")
            )
        return await read_body(request)
