"""Who is signed in: the session cookie, CSRF tokens and the guard every signed-in page uses.

A session is a random cookie value; the service keeps its digest with the person's id, name,
roles, units and the session's CSRF token, so sessions survive a restart and every instance
shares them. A session ends when signed out, after ``idle_minutes`` unused, or
``absolute_hours`` after sign-in, whichever comes first.

The guard::

    @sessions.require_role(Role.SAFEGUARDING_LEAD)
    async def dashboard(request: Request, user: SignedIn) -> Response: ...

    @sessions.require_role(Role.SAFEGUARDING_LEAD, api=True)
    async def dashboard_csv(request: Request, user: SignedIn) -> Response: ...

Without a session a page redirects to sign-in and an API answers 401; with none of the roles
named, 403. A post (any method but GET and HEAD) must carry the session's CSRF token, in the
``csrf`` form field or the ``X-CSRF-Token`` header, or it is refused with 403.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.web import pages
from adapters.web.html import page, security_headers
from adapters.web.signin_settings import Role, SigninSettings
from plugin_core.contract import PluginContext
from plugin_core.formats.outcome import operation_outcome
from plugin_core.service import Service

log = logging.getLogger("thinkfamily.web")

SESSION = "session"
PENDING = "signin"
MAX_POST = 64 * 1024
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

Endpoint = Callable[[Request, "SignedIn"], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person a session belongs to. ``subject`` is the id decisions are recorded under."""

    subject: str
    name: str
    roles: frozenset[Role]
    units: tuple[str, ...]
    csrf: str
    via: str = "oidc"

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def sees_unit(self, unit: str) -> bool:
        """Leads and administrators see every ward or team; a unit member, their own."""
        if self.has(Role.SAFEGUARDING_LEAD, Role.ADMINISTRATOR):
            return True
        return self.has(Role.UNIT_MEMBER) and unit in self.units

    def to_json(self) -> str:
        return json.dumps(
            {
                "subject": self.subject,
                "name": self.name,
                "roles": sorted(self.roles),
                "units": list(self.units),
                "csrf": self.csrf,
                "via": self.via,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SignedIn:
        doc = json.loads(text)
        return cls(
            subject=str(doc["subject"]),
            name=str(doc.get("name", "")),
            roles=frozenset(Role(r) for r in doc.get("roles", ())),
            units=tuple(str(u) for u in doc.get("units", ())),
            csrf=str(doc["csrf"]),
            via=str(doc.get("via", "oidc")),
        )

    def __repr__(self) -> str:
        return f"SignedIn(roles={sorted(self.roles)!r}, via={self.via!r})"


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def here(request: Request) -> str:
    """The page asked for, as the browser sent it: the path still percent-encoded, so an id
    holding ``/`` or ``%`` comes back to the same page after sign-in."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(request.url.path)
    path = path.split("?", 1)[0]
    return path + (f"?{request.url.query}" if request.url.query else "")


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default``: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


class Sessions:
    """The session cookie and the guard, bound to one service and the ``[signin]`` settings."""

    def __init__(
        self,
        context: PluginContext,
        settings: SigninSettings,
        frame_ancestors: tuple[str, ...] = (),
    ) -> None:
        self.context = context
        self.settings = settings
        self.frame_ancestors = frame_ancestors

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes the browser refuse the cookie unless it is Secure, has no
        # Domain and covers the whole site, so no other host or path can set it.
        return "__Host-thinkfamily" if self.settings.cookie_secure else "thinkfamily"

    @property
    def signin_cookie_name(self) -> str:
        """The cookie tying a sign-in in progress to the browser that started it."""
        return f"{self.cookie_name}-signin"

    @property
    def signin_on(self) -> bool:
        """True when people can sign in at all: OpenID Connect or SMART launch is set up."""
        return self.settings.enabled or self.settings.smart.enabled

    def service(self) -> Service | None:
        service = self.context.service
        return service if isinstance(service, Service) else None

    def insecure_refused(self, request: Request) -> bool:
        """True when the cookie is not Secure and the page is not on loopback: refused."""
        return not self.settings.cookie_secure and not is_loopback(request.url.hostname or "")

    # The session ---------------------------------------------------------------------------

    async def current(self, request: Request) -> SignedIn | None:
        """The signed-in person, or None (no cookie, ended, idle too long, or no service)."""
        value = request.cookies.get(self.cookie_name, "")
        service = self.service()
        if not value or len(value) > 200 or service is None or self.insecure_refused(request):
            return None
        data = await run_in_threadpool(service.web_session, value, SESSION, idle=self.settings.idle)
        if data is None:
            return None
        try:
            return SignedIn.from_json(data)
        except (ValueError, KeyError):
            return None

    async def open(self, response: Response, user: SignedIn) -> None:
        """Start a session for ``user`` and set its cookie on ``response``."""
        service = self.service()
        if service is None:
            raise RuntimeError("the service is not running")
        value = secrets.token_urlsafe(32)
        await run_in_threadpool(
            service.open_web_session, value, SESSION, user.to_json(), lasts=self.settings.absolute
        )
        response.set_cookie(
            self.cookie_name,
            value,
            max_age=int(self.settings.absolute.total_seconds()),
            path="/",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )

    async def close(self, request: Request, response: Response) -> None:
        value = request.cookies.get(self.cookie_name, "")
        service = self.service()
        if value and service is not None:
            await run_in_threadpool(service.close_web_session, value)
        response.delete_cookie(
            self.cookie_name,
            path="/",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )

    # CSRF ----------------------------------------------------------------------------------

    @staticmethod
    async def submitted_csrf(request: Request) -> str:
        """The CSRF token a post carries: the header, else the form field. The body is read
        (at most 64 KB) and stays readable by the endpoint."""
        header = request.headers.get(CSRF_HEADER)
        if header:
            return header
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return ""
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > MAX_POST:
            return ""
        body = await request.body()
        values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])
        return values[0]

    @staticmethod
    def csrf_holds(user: SignedIn, submitted: str) -> bool:
        return bool(submitted) and secrets.compare_digest(submitted, user.csrf)

    # The guard -----------------------------------------------------------------------------

    def require_role(
        self, *roles: Role, api: bool = False
    ) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
        """Admit only a signed-in person with one of ``roles`` (any role when none named)."""
        wanted = frozenset(roles) or frozenset(Role)

        def wrap(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
            async def guarded(request: Request) -> Response:
                user = await self.current(request)
                if user is None:
                    return self.unauthenticated(request, api=api)
                if not user.has(*wanted):
                    log.info("page refused: role", extra={"path": request.url.path})
                    return self.refused(
                        403, "You do not have access to this page", api=api, user=user
                    )
                posting = request.method not in ("GET", "HEAD")
                if posting and not self.csrf_holds(user, await self.submitted_csrf(request)):
                    log.info("post refused: csrf", extra={"path": request.url.path})
                    return self.refused(
                        403, "The form had expired. Go back, reload it and try again", api=api
                    )
                request.state.user = user
                response = await endpoint(request, user)
                response.headers.setdefault("Cache-Control", "no-store")
                return response

            guarded.__name__ = getattr(endpoint, "__name__", "guarded")
            guarded.__doc__ = endpoint.__doc__
            return guarded

        return wrap

    def unauthenticated(self, request: Request, *, api: bool) -> Response:
        if api:
            response: Response = operation_outcome(401, "sign in first", code="login")
            response.headers["WWW-Authenticate"] = 'Cookie realm="thinkfamily"'
            response.headers["Cache-Control"] = "no-store"
            return response
        response = RedirectResponse(
            f"/signin?next={quote(here(request), safe='')}", status_code=303
        )
        response.headers.update(security_headers(self.frame_ancestors))
        return response

    def refused(
        self, status: int, reason: str, *, api: bool, user: SignedIn | None = None
    ) -> Response:
        if api:
            response: Response = operation_outcome(status, reason, code="forbidden")
            response.headers["Cache-Control"] = "no-store"
            return response
        return page(
            pages.refused_page(reason, "No access", about_link=False, user=user),
            status=status,
            frame_ancestors=self.frame_ancestors,
        )
