"""``serve`` runs the service; ``form-link`` prints a signed link to its clinician form."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, config_failed, fail, load_config_or_fail
from plugin_core.settings.issues import ConfigError

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_serve(sub: Subparsers) -> None:
    serve = sub.add_parser("serve", help="run the service: HTTP, MLLP listener and outbox worker")
    serve.add_argument("--config", help="trust configuration (default: the example trust)")
    serve.add_argument(
        "--db",
        default=None,
        help="sqlite:///PATH (default sqlite:///thinkfamily.db) or postgresql://...",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--http-port", type=int, help="HTTP port (default from the configuration, 8080)"
    )
    serve.add_argument(
        "--mllp-port", type=int, help="MLLP port (default from the configuration, 2575)"
    )


def add_form_link(sub: Subparsers) -> None:
    form_link = sub.add_parser(
        "form-link", help="print a signed link to the clinician form for one contact"
    )
    form_link.add_argument("contact_id")
    form_link.add_argument(
        "--professional", required=True, help="id of the professional who will decide"
    )
    form_link.add_argument("--config", help="trust configuration (default: the example trust)")
    form_link.add_argument(
        "--minutes", type=int, help="how long the link works (default: [web] link_ttl_minutes)"
    )


@command("serve")
def _serve(args: argparse.Namespace) -> int:
    from plugin_core.server import DEFAULT_DB, serve
    from plugin_core.store import StoreError

    config = load_config_or_fail(args.config)
    if isinstance(config, int):
        return config
    try:
        serve(
            config,
            db_url=args.db or DEFAULT_DB,
            host=args.host,
            http_port=args.http_port,
            mllp_port=args.mllp_port,
        )
    except StoreError as exc:
        return fail(str(exc))
    except ConfigError as exc:
        return config_failed(exc)
    return 0


@command("form-link")
def _form_link(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from plugin_core.links import NoSecret, make_link, web_settings

    config = load_config_or_fail(args.config)
    if isinstance(config, int):
        return config
    try:
        web = web_settings(config)
    except ConfigError as exc:
        return config_failed(exc)
    if not web.base_url:
        return fail("set [web] base_url in the trust configuration to make form links")
    ttl = timedelta(minutes=args.minutes) if args.minutes else web.link_ttl
    try:
        link = make_link(
            web.base_url, args.contact_id, args.professional, ttl, secret_env=web.secret_env
        )
    except (NoSecret, ValueError) as exc:
        return fail(str(exc))
    print(link)
    return 0
