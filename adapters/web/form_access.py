"""Who may use a contact's form, and the checks every post passes.

Two ways in: the signed link from a CDS card or the record (no session; the link names the
one contact and the professional), or a sign-in session with a role that decides. Either way
a post must carry the form's CSRF token: a session's own, or for a link one derived from the
link itself with the form secret, so a page on another site cannot post a decision.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from adapters.web import pages
from adapters.web.form import MAX_BODY
from adapters.web.signin import SignedIn, here
from adapters.web.signin_settings import Role
from plugin_core.contract import ThinkFamilyError
from plugin_core.links import LinkError, LinkTampered, NoSecret, WebSettings, check

log = logging.getLogger("thinkfamily.web")

DECIDING_ROLES = (Role.CLINICIAN, Role.UNIT_MEMBER, Role.SAFEGUARDING_LEAD)
"""Who may record a decision when signed in; administrators configure, they do not decide."""


@dataclass(frozen=True, slots=True)
class Refusal(ThinkFamilyError):
    """Stops a request with a page: the status and the HTML to show."""

    status: int
    html: str
    location: str = ""
    """Set for a redirect (to sign-in) instead of a page."""


@dataclass(frozen=True, slots=True)
class Access:
    """Who the form is for and the CSRF token its posts must carry."""

    professional: str
    csrf: str
    user: SignedIn | None = None
    """The signed-in person, when the way in was a session: the page header names them."""


def link_csrf(secret: bytes, token: str) -> str:
    """The CSRF token of a form opened by a signed link: only the service can make it."""
    digest = hmac.new(secret, b"csrf:" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_access(settings: WebSettings, token: str, contact_id: str) -> Access:
    """The professional a link names; refuses with 503 (no secret) or 403 (bad link)."""
    try:
        secret = settings.secret()
    except NoSecret as exc:
        log.warning("form refused: no form secret", extra={"reason": exc.env})
        raise Refusal(
            503,
            pages.unavailable_page(
                f"The form is switched off: the {exc.env} environment variable is not set"
            ),
        ) from None
    try:
        if not token:
            raise LinkTampered()
        professional = check(token, contact_id, secret=secret)
    except LinkError as exc:
        log.info(
            "form link refused",
            extra={"contact_id": contact_id, "reason": type(exc).__name__},
        )
        raise Refusal(403, pages.refused_page(str(exc))) from None
    return Access(professional, link_csrf(secret, token))


def session_access(user: SignedIn | None, request: Request, *, posting: bool) -> Access:
    """The signed-in professional; without a session a page goes to sign-in, a post is
    refused (its answers cannot survive the trip)."""
    if user is None:
        if posting:
            raise Refusal(
                403,
                pages.refused_page(
                    "you are not signed in. Sign in and try again",
                    "Not signed in",
                    about_link=False,
                ),
            )
        raise Refusal(303, "", location=f"/signin?next={quote(here(request), safe='')}")
    if not user.has(*DECIDING_ROLES):
        raise Refusal(
            403,
            pages.refused_page(
                "you do not have access to this page", "No access", about_link=False, user=user
            ),
        )
    return Access(user.subject, user.csrf, user)


def require_csrf(access: Access, submitted: str, contact_id: str) -> None:
    if not submitted or not hmac.compare_digest(submitted, access.csrf):
        log.info("form post refused: csrf", extra={"contact_id": contact_id})
        raise Refusal(
            403, pages.refused_page("the form had expired. Open it again", "Not accepted")
        )


def same_origin(request: Request, settings: WebSettings) -> bool:
    """True unless the browser names another origin (Origin, else Referer) for the post."""
    allowed = {_origin(str(request.base_url))}
    if settings.base_url:
        allowed.add(_origin(settings.base_url))
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() in allowed
    referer = request.headers.get("referer")
    return not referer or _origin(referer) in allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    too_big = Refusal(413, pages.refused_page("the form was too long to accept", "Too long"))
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_big
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_big
    return body
