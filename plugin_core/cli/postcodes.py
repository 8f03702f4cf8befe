"""``postcodes import``: build the trust's postcode lookup from the ONS postcode directory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, fail

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_postcodes(sub: Subparsers) -> None:
    postcodes = sub.add_parser("postcodes", help="postcode lookup tools")
    postcodes_sub = postcodes.add_subparsers(dest="postcodes_command", required=True)
    load = postcodes_sub.add_parser(
        "import",
        help="build the postcode lookup from the ONS NSPL or ONSPD CSV "
        "(written where [trust] postcode_lookup says)",
    )
    load.add_argument("csv", help="the NSPL or ONSPD CSV file")
    load.add_argument("--config", required=True, help="the trust configuration to build it for")


@command("postcodes")
def _postcodes(args: argparse.Namespace) -> int:
    from plugin_core.settings.postcodes import PostcodeImportError, import_postcodes, lookup_path

    try:
        target = lookup_path(Path(args.config))
        report = import_postcodes(Path(args.csv), target)
    except PostcodeImportError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write the lookup ({exc.strerror})")
    print(
        f"{target}: {report.written:,} postcodes in {report.authorities:,} local authorities, "
        f"from {report.rows:,} rows in {report.seconds:.1f} s"
    )
    left_out = {
        "terminated": report.terminated,
        "without a local authority": report.without_authority,
        "not a postcode": report.not_a_postcode,
        "unreadable": report.unreadable,
    }
    print(
        "left out: " + (", ".join(f"{n:,} {why}" for why, n in left_out.items() if n) or "nothing")
    )
    return 0
