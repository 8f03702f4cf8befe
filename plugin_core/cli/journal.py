"""``journal-errors``: content errors found after messages were acknowledged.

Acknowledging on receipt, a message's content is read after the sender was told AA (or CA);
what was wrong with it then is listed here, for the integrator to correct at the sender. Keys
(sending facility and MSH-10), codes and reasons only: never the message's values.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, fail, open_records, printable

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_journal(sub: Subparsers) -> None:
    journal = sub.add_parser(
        "journal-errors",
        help="list content errors found in messages after they were acknowledged (HL7)",
    )
    journal.add_argument("--db", required=True)
    journal.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")


@command("journal-errors")
def _journal_errors(args: argparse.Namespace) -> int:
    records = open_records(args.db)
    if isinstance(records, int):
        return records
    if args.limit < 1:
        return fail("--limit must be 1 or more")
    errors = records.store.journal_errors(limit=args.limit)
    print(f"{'message key':<32} {'received (UTC)':<17} {'outcome':<9} {'ack':<4} reason")
    for e in errors:
        received = e.received_at.strftime("%Y-%m-%d %H:%M")
        where = f" ({e.segment}-{e.field})" if e.segment and e.field else ""
        print(
            f"{printable(e.message_key):<32} {received:<17} {e.outcome:<9} {e.ack_code:<4}"
            f" {printable(e.reason)}{where}"
        )
    pending = records.store.journal_depth()
    print(f"{len(errors):,} content error(s) listed; {pending:,} message(s) waiting to be read")
    return 0
