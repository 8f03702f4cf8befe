"""Routing by the path's first segment answers every request as Starlette's own routing does.

The same routes (the service's own templates and some awkward ones: a parameter inside the
first segment, the root, a mount, a host route) are served once by Starlette's router and once
by ``IndexedRouter``; every path and method in a corpus gets the same status, body and
redirect from both, and the indexed router really skips routes that cannot match.
"""

from __future__ import annotations

import itertools

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Host, Mount, Route
from starlette.testclient import TestClient

from plugin_core.route_index import IndexedRouter

TEMPLATES = [
    ("/healthz", ["GET"]),
    ("/api/contacts", ["GET"]),
    ("/api/contacts", ["POST"]),
    ("/api/contacts/{contact_id:path}/decision", ["POST"]),
    ("/api/contacts/{contact_id:path}", ["GET"]),
    ("/api/referrals/{referral_id}/call", ["GET", "POST"]),
    ("/static/{name}", ["GET"]),
    ("/form/{contact_id:path}", ["GET", "POST"]),
    ("/signin", ["GET"]),
    ("/signin/callback", ["GET"]),
    ("/", ["GET"]),
    ("/worklist", ["GET"]),
    ("/dashboard", ["GET"]),
    ("/dashboard.csv", ["GET"]),
    ("/dashboard/charts/{name}.svg", ["GET"]),
    ("/file{number:int}", ["GET"]),
    ("/{anything}/catch", ["GET"]),
    ("/cds-services", ["GET"]),
    ("/cds-services/{service_id}", ["POST"]),
    ("/cds-services/{service_id}/feedback", ["POST"]),
    ("/cds-services/{service_id}", ["GET"]),  # shadowed for /cds-services/catch by the catch
]
PATHS = [
    "/", "/healthz", "/healthz/", "/api/contacts", "/api/contacts/", "/api/contacts/a/b",
    "/api/contacts/a%2Fb/decision", "/api/referrals/r1/call", "/api/referrals/r1/call/",
    "/static/x.css", "/static/", "/form/c-1", "/signin", "/signin/", "/signin/callback",
    "/worklist/", "/dashboard", "/dashboard/", "/dashboard.csv", "/dashboard/charts/w.svg",
    "/file12", "/file", "/filex", "/cds/catch", "/cds-services/catch", "/cds-services",
    "/cds-services/", "/cds-services/pv", "/cds-services/pv/", "/cds-services/pv/feedback",
    "/mounted", "/mounted/inner", "/nothing", "/nothing/here", "//double",
]  # fmt: skip


def _echo(template: str) -> object:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{template} {sorted(request.path_params.items())}")

    return endpoint


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = [
        Route(t, _echo(f"{t} {m}"), methods=m)
        for t, m in TEMPLATES  # type: ignore[arg-type]
    ]
    inner = Route("/inner", _echo("mounted inner"))  # type: ignore[arg-type]
    found.insert(3, Mount("/mounted", routes=[inner]))
    found.insert(5, Host("elsewhere.example.test", app=PlainTextResponse("host")))
    return found


def app(indexed: bool) -> Starlette:
    made = Starlette(routes=routes())
    if indexed:
        made.router = IndexedRouter(made.router.routes)
    return made


def test_every_request_is_routed_as_starlette_routes_it() -> None:
    plain, indexed = TestClient(app(False)), TestClient(app(True))
    answered = set()
    for path, method in itertools.product(PATHS, ["GET", "POST", "PUT"]):
        mine = indexed.request(method, path, follow_redirects=False)
        theirs = plain.request(method, path, follow_redirects=False)
        assert (mine.status_code, mine.text, mine.headers.get("location")) == (
            theirs.status_code,
            theirs.text,
            theirs.headers.get("location"),
        ), (method, path)
        answered.add(mine.status_code)
    assert {200, 404, 405, 307} <= answered


def test_a_cds_call_tries_only_the_routes_that_fit_its_first_segment() -> None:
    router = app(True).router
    assert isinstance(router, IndexedRouter)
    tried = router.candidates["cds-services"]
    assert [getattr(r, "path", None) for r in tried if isinstance(r, Route)] == [
        "/",
        "/{anything}/catch",
        "/cds-services",
        "/cds-services/{service_id}",
        "/cds-services/{service_id}/feedback",
        "/cds-services/{service_id}",
    ]
    assert any(isinstance(r, Host) for r in tried)
    assert len(tried) < len(router.routes) / 3
