"""The pages' stylesheets, served from the package: the NHS.UK frontend's compiled CSS as
published (see ``static/nhsuk-frontend.txt``) and ThinkFamily's few additions.

Only the files named here are served. Stylesheet names carry the version or a digest of the
content, so browsers may keep them for a year; the CSP of every page allows styles from the
service itself (``style-src 'self'``) and no script. The four icons the frontend's stylesheet
asks for at ``/assets/images/`` (sortable table headers, a search field's clear button) are
served there, as published.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

NHSUK_FRONTEND_VERSION = "10.6.1"
FRONTEND_ICONS = (
    "nhsuk-icon-arrow-down.svg",
    "nhsuk-icon-arrow-up.svg",
    "nhsuk-icon-arrow-up-down.svg",
    "nhsuk-icon-cross.svg",
)


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    media_type: str


def _read(name: str) -> bytes:
    return files("adapters.web").joinpath("static", name).read_bytes()


@cache
def assets() -> dict[str, Asset]:
    """URL name to asset: the file's own name with its version or content digest in it."""
    ours = _read("thinkfamily.css")
    digest = hashlib.sha256(ours).hexdigest()[:12]
    found = [
        Asset(
            f"nhsuk-frontend-{NHSUK_FRONTEND_VERSION}.min.css",
            _read("nhsuk-frontend.min.css"),
            "text/css; charset=utf-8",
        ),
        Asset(f"thinkfamily-{digest}.css", ours, "text/css; charset=utf-8"),
    ]
    return {a.name: a for a in found}


@cache
def icons() -> dict[str, Asset]:
    return {name: Asset(name, _read(f"images/{name}"), "image/svg+xml") for name in FRONTEND_ICONS}


def stylesheet_urls() -> list[str]:
    """What every page links, in order: the frontend first, ours over it."""
    return [f"/static/{name}" for name in assets()]


async def _asset(request: Request) -> Response:
    found = assets().get(request.path_params["name"])
    return _served(found)


async def _icon(request: Request) -> Response:
    return _served(icons().get(request.path_params["name"]))


def _served(found: Asset | None) -> Response:
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        found.body,
        media_type=found.media_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


def static_routes() -> list[Route]:
    return [
        Route("/static/{name}", _asset, methods=["GET", "HEAD"]),
        Route("/assets/images/{name}", _icon, methods=["GET", "HEAD"]),
    ]
