"""``contacts``: the contacts recorded and where each stands, by id only."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, fail, open_records, printable

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_contacts(sub: Subparsers) -> None:
    contacts = sub.add_parser("contacts", help="list contacts and their state (ids only)")
    contacts.add_argument("--db", required=True)
    contacts.add_argument(
        "--state",
        help="only contacts in this state (open, suppressed, decided, referred, ...)",
    )
    contacts.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")


@command("contacts")
def _contacts(args: argparse.Namespace) -> int:
    from plugin_core.model import ContactState

    records = open_records(args.db)
    if isinstance(records, int):
        return records
    if args.limit < 1:
        return fail("--limit must be 1 or more")
    if args.state and args.state not in {s.value for s in ContactState}:
        rows, total = [], 0  # no contact is ever in a state not named
    else:
        state = ContactState(args.state) if args.state else None
        rows = records.contacts(state=state, limit=args.limit)
        total = records.count_contacts(state=state)
    print(f"{'contact':<28} {'received (UTC)':<20} {'state':<18} {'top':<9} prompts")
    for r in rows:
        received = r.received_at.strftime("%Y-%m-%d %H:%M")
        relies = f"  (not shown: decision {printable(r.relies_on)})" if r.relies_on else ""
        prompts = printable(",".join(r.prompt_codes)) or "-"
        print(
            f"{printable(r.id):<28} {received:<20} {r.state:<18}"
            f" {printable(r.top_severity or '-'):<9} {prompts}{relies}"
        )
    if len(rows) < total:
        print(f"showing {len(rows):,} of {total:,} contact(s); --limit shows more")
    else:
        print(f"{total:,} contact(s)")
    return 0
