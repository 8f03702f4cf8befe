"""``config check``: every fault in a trust configuration, and exit 1 when there is an error."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from plugin_core.cli.base import command

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_config(sub: Subparsers) -> None:
    config = sub.add_parser("config", help="trust configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a trust configuration")
    check.add_argument("path")
    check.add_argument(
        "--strict",
        action="store_true",
        help="go-live check: a route with no contact or phone number, or a contact not verified"
        " in the last six months, is an error",
    )


@command("config")
def _config(args: argparse.Namespace) -> int:
    from plugin_core.host.check import check_configuration

    issues = check_configuration(args.path, strict=args.strict)
    errors = [i for i in issues if i.severity == "error"]
    for issue in issues:
        print(
            f"{issue.severity}: {issue}",
            file=sys.stderr if issue.severity == "error" else sys.stdout,
        )
    if errors:
        print(f"{len(errors)} error(s) in {args.path}", file=sys.stderr)
        return 1
    print(f"{args.path}: valid ({len(issues)} warning(s))")
    return 0
