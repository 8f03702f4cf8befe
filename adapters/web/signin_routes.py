"""Sign-in, SMART App Launch and sign-out.

``/signin`` sends the browser to the trust's OpenID provider with a fresh ``state``, ``nonce``
and PKCE code verifier, kept server-side for ten minutes and usable once. ``/smart/launch`` does
the same for an EHR launching ThinkFamily (its ``iss`` must be one the trust allows; the
endpoints come from its ``.well-known/smart-configuration``). Both come back to
``/signin/callback``, which checks the state, exchanges the code, checks the ID token and
starts a session. A SMART launch opens the form of the contact the EHR names in ``appContext``.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web import pages
from adapters.web.html import page, security_headers
from adapters.web.oidc import Client, SigninFailed, discover, pkce_verifier
from adapters.web.render import render
from adapters.web.signin import PENDING, Sessions, SignedIn, local_path
from adapters.web.signin_settings import Role, roles_from, units_from
from plugin_core.links import WebSettings

log = logging.getLogger("thinkfamily.web")

PENDING_FOR = timedelta(minutes=10)


class SigninPages:
    def __init__(self, sessions: Sessions, web: WebSettings) -> None:
        self.sessions = sessions
        self.settings = sessions.settings
        self.web = web

    def routes(self) -> list[Route]:
        return [
            Route("/signin", self.signin, methods=["GET"]),
            Route("/signin/callback", self.callback, methods=["GET"]),
            Route("/smart/launch", self.smart_launch, methods=["GET"]),
            Route("/signout", self.signout, methods=["POST"]),
            Route("/signed-out", self.signed_out, methods=["GET"]),
        ]

    # Helpers ------------------------------------------------------------------------------

    def _page(self, html: str, status: int = 200) -> Response:
        return page(html, status=status, frame_ancestors=self.web.frame_ancestors)

    def _unavailable(self, reason: str) -> Response:
        return self._page(pages.unavailable_page(reason), status=503)

    def _redirect(self, url: str) -> Response:
        response = RedirectResponse(url, status_code=303)
        response.headers.update(security_headers(self.web.frame_ancestors))
        return response

    def _callback_url(self, request: Request) -> str:
        base = self.web.base_url or str(request.base_url).rstrip("/")
        return f"{base}/signin/callback"

    async def _begin(
        self, request: Request, client: Client, pending: dict[str, Any], **extra: str
    ) -> Response:
        service = self.sessions.service()
        if service is None:
            return self._unavailable("The service is not running")
        state, nonce, verifier = (
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(16),
            pkce_verifier(),
        )
        redirect_uri = self._callback_url(request)
        binding = secrets.token_urlsafe(24)
        pending |= {
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri,
            "binding": binding,
        }
        await run_in_threadpool(
            service.open_web_session, state, PENDING, json.dumps(pending), lasts=PENDING_FOR
        )
        url = client.authorization_url(
            redirect_uri, state=state, nonce=nonce, verifier=verifier, **extra
        )
        response = self._redirect(url)
        # Ties the sign-in to this browser: an answer carried to another browser (someone
        # else's code and state, to sign the victim in as them) is refused.
        response.set_cookie(
            self.sessions.signin_cookie_name,
            binding,
            max_age=int(PENDING_FOR.total_seconds()),
            path="/",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )
        return response

    def _oidc_client(self) -> Client:
        issuer = self.settings.issuer
        endpoints = discover(f"{issuer}/.well-known/openid-configuration", issuer)
        return Client(
            self.settings.client_id,
            self.settings.client_secret() or None,
            self.settings.scopes,
            endpoints,
        )

    def _smart_client(self, iss: str) -> Client:
        smart = self.settings.smart
        endpoints = discover(f"{iss}/.well-known/smart-configuration", iss)
        return Client(smart.client_id, smart.client_secret(), smart.scopes, endpoints)

    # Routes -------------------------------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        if not self.settings.enabled:
            return self._unavailable("Sign-in is not set up for this service")
        if self.sessions.insecure_refused(request):
            return self._unavailable("Sign-in needs HTTPS")
        target = local_path(request.query_params.get("next"))
        try:
            client = await run_in_threadpool(self._oidc_client)
        except SigninFailed as exc:
            log.warning("sign-in unavailable", extra={"reason": str(exc)})
            return self._unavailable("The sign-in service cannot be reached. Try again shortly")
        return await self._begin(request, client, {"kind": "oidc", "next": target})

    async def smart_launch(self, request: Request) -> Response:
        smart = self.settings.smart
        if not smart.enabled:
            return self._unavailable("Opening ThinkFamily from the record is not set up")
        if self.sessions.insecure_refused(request):
            return self._unavailable("Sign-in needs HTTPS")
        iss = request.query_params.get("iss", "").rstrip("/")
        launch = request.query_params.get("launch", "")
        if not launch or iss not in smart.allowed_issuers:
            log.info("smart launch refused", extra={"reason": "unknown issuer or no launch"})
            return self._page(
                pages.refused_page(
                    "this record system may not open ThinkFamily", "Not allowed", about_link=False
                ),
                status=403,
            )
        try:
            client = await run_in_threadpool(self._smart_client, iss)
        except SigninFailed as exc:
            log.warning("smart launch unavailable", extra={"reason": str(exc)})
            return self._unavailable("The record system's sign-in cannot be reached")
        pending = {"kind": "smart", "iss": iss, "next": "/"}
        return await self._begin(request, client, pending, launch=launch, aud=iss)

    async def callback(self, request: Request) -> Response:
        service = self.sessions.service()
        if service is None:
            return self._unavailable("The service is not running")
        state = request.query_params.get("state", "")
        stored = (
            await run_in_threadpool(service.take_web_session, state, PENDING) if state else None
        )
        if stored is None:
            return self._again("the sign-in took too long or was already used")
        pending: dict[str, Any] = json.loads(stored)
        binding = request.cookies.get(self.sessions.signin_cookie_name, "")
        if not binding or not secrets.compare_digest(binding, str(pending.get("binding", ""))):
            log.info("sign-in refused: another browser", extra={"reason": "binding"})
            return self._again("the sign-in was started in another browser or window")
        if request.query_params.get("error") or not request.query_params.get("code"):
            log.info("sign-in refused by the provider", extra={"reason": "provider error"})
            return self._again("the sign-in service did not sign you in")
        try:
            user, target = await run_in_threadpool(
                self._finish, pending, request.query_params["code"]
            )
        except SigninFailed as exc:
            log.info("sign-in failed", extra={"reason": str(exc)})
            return self._again("the sign-in could not be checked")
        if not user.roles:
            log.info("sign-in without a role", extra={"reason": "no role"})
            return self._page(
                pages.refused_page(
                    "your account has no ThinkFamily role; ask your administrator",
                    "No access",
                    about_link=False,
                ),
                status=403,
            )
        response = self._redirect(target)
        await self.sessions.open(response, user)
        response.delete_cookie(
            self.sessions.signin_cookie_name,
            path="/",
            secure=self.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )
        log.info("signed in", extra={"method": user.via})
        return response

    def _finish(self, pending: dict[str, Any], code: str) -> tuple[SignedIn, str]:
        """Exchange the code and check the ID token; the person and where to go next."""
        smart = pending.get("kind") == "smart"
        client = self._smart_client(pending["iss"]) if smart else self._oidc_client()
        token = client.exchange(pending["redirect_uri"], code, pending["verifier"])
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SigninFailed("no identity token came back")
        claims = client.id_claims(id_token, pending["nonce"])
        csrf = secrets.token_urlsafe(32)
        name = str(claims.get("name") or "")
        if smart:
            # The EHR signed the professional in and launched this contact: a clinician.
            subject = str(claims.get("fhirUser") or claims["sub"])
            user = SignedIn(subject, name, frozenset({Role.CLINICIAN}), (), csrf, via="smart")
            return user, _launched_form(token)
        user = SignedIn(
            str(claims["sub"]),
            name,
            roles_from(claims, self.settings),
            units_from(claims, self.settings),
            csrf,
        )
        return user, local_path(pending.get("next"))

    def _again(self, reason: str) -> Response:
        html = pages.refused_page(f"{reason}. Sign in again", "Not signed in", about_link=False)
        return self._page(html, status=400)

    async def signout(self, request: Request) -> Response:
        user = await self.sessions.current(request)
        if user is not None and not self.sessions.csrf_holds(
            user, await self.sessions.submitted_csrf(request)
        ):
            return self.sessions.refused(
                403, "The form had expired. Reload it and try again", api=False
            )
        response = self._redirect("/signed-out")
        await self.sessions.close(request, response)
        return response

    async def signed_out(self, request: Request) -> Response:
        return self._page(render("signed_out.html"))


def _launched_form(token: dict[str, Any]) -> str:
    """The form of the contact the EHR's ``appContext`` names (set by the CDS card), or home."""
    context = token.get("appContext")
    try:
        found = json.loads(context) if isinstance(context, str) else context
    except ValueError:
        found = None
    contact_id = found.get("contact_id") if isinstance(found, dict) else None
    if isinstance(contact_id, str) and contact_id:
        return f"/form/{quote(contact_id, safe='')}"
    return "/"
