"""``audit``: verify the sealed trail, print a signed checkpoint of it, list its entries."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, fail, open_records

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers
    from plugin_core.service import Records


def add_audit(sub: Subparsers) -> None:
    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="check the audit trail's sealed chain, and each decision and referral against it",
    )
    verify.add_argument("--db", required=True)
    verify.add_argument(
        "--checkpoint",
        help="a file from `audit checkpoint`: prove nothing before it was rewritten or cut",
    )
    checkpoint = audit_sub.add_parser(
        "checkpoint",
        help="print the trail's head signed with the audit key, to keep outside the database",
    )
    checkpoint.add_argument("--db", required=True)
    listing = audit_sub.add_parser("list", help="print audit entries as JSON lines, for review")
    listing.add_argument("--db", required=True)
    listing.add_argument("--kind", help="only entries of this kind, e.g. decision.recorded")
    listing.add_argument(
        "--since", help="only entries at or after this date or time (ISO 8601, UTC)"
    )


@command("audit")
def _audit(args: argparse.Namespace) -> int:
    from plugin_core.store import StoreError

    records = open_records(args.db)
    if isinstance(records, int):
        return records
    try:
        if args.audit_command == "list":
            return _audit_list(records, args)
        if args.audit_command == "checkpoint":
            return _audit_checkpoint(records)
        return _audit_verify(records, args.checkpoint)
    except StoreError as exc:
        return fail(str(exc))
    finally:
        records.close()


def _audit_verify(records: Records, checkpoint_path: str | None) -> int:
    """Exit 0 intact, 1 a fault found (named), 2 the check could not be made."""
    from plugin_core.store.checkpoint import CheckpointError

    text = None
    if checkpoint_path is not None:
        try:
            text = Path(checkpoint_path).read_text(encoding="utf-8")
        except OSError as exc:
            return fail(f"{checkpoint_path}: cannot read ({exc.strerror})")
    try:
        verdict = records.verify_audit(text)
    except CheckpointError as exc:
        return fail(f"{checkpoint_path}: {exc}", 2 if exc.unreadable else 1)
    chain = verdict.chain
    keys = records.audit_keys
    if chain.unknown_key and keys.current is None and not keys.previous:
        return fail(
            f"the audit trail is sealed with audit key {chain.unknown_key}: set"
            " THINKFAMILY_AUDIT_KEY (or THINKFAMILY_AUDIT_KEY_FILE) to check it"
        )
    if chain.unknown_key:
        print(
            f"audit trail not proven at entry {chain.count + 1}: sealed with audit key"
            f" {chain.unknown_key}, which is not configured. It was rewritten with another key,"
            " or the key was changed: name the earlier key in THINKFAMILY_AUDIT_PREVIOUS_KEYS",
            file=sys.stderr,
        )
        return 1
    if chain.broken is not None:
        print(
            f"audit trail broken at entry {chain.broken.seq}: {chain.broken.reason}",
            file=sys.stderr,
        )
        return 1
    if verdict.checkpoint is not None:
        where = verdict.checkpoint
        print(f"audit trail broken at entry {where.seq}: {where.reason}", file=sys.stderr)
        return 1
    for mismatch in verdict.rows:
        print(f"does not match the audit trail: {mismatch}", file=sys.stderr)
    if verdict.rows:
        return 1
    print(f"audit trail intact: {chain.count} entries, {_keyed(chain.count, chain.unkeyed)}")
    print(f"head {chain.last_hash}")
    print(
        f"{verdict.decisions} decision(s) and {verdict.referrals} referral(s) match their entries"
    )
    if text is not None:
        print("the trail holds everything the checkpoint recorded")
    if keys.current is not None and keys.current.beside_database:
        print(
            "warning: the audit key is read from beside the database; keep it elsewhere",
            file=sys.stderr,
        )
    if chain.unkeyed == chain.count and chain.count:
        print(
            "warning: unkeyed: anyone able to write to the database could rewrite this trail"
            " unseen; set THINKFAMILY_AUDIT_KEY and keep checkpoints elsewhere",
            file=sys.stderr,
        )
    return 0


def _keyed(count: int, unkeyed: int) -> str:
    if not count:
        return "none written yet"
    if not unkeyed:
        return "all sealed with the audit key"
    if unkeyed == count:
        return "unkeyed (written without an audit key)"
    return (
        f"sealed with the audit key from entry {unkeyed + 1} (entries 1 to {unkeyed}, written"
        " before the key, are protected by the sealed entries after them)"
    )


def _audit_checkpoint(records: Records) -> int:
    from datetime import UTC

    checkpoint, verdict = records.audit_checkpoint(datetime.now(UTC))
    if not verdict.intact:
        return fail("the audit trail does not verify: run `thinkfamily audit verify`", 1)
    print(checkpoint.to_json())
    return 0


def _audit_list(records: Records, args: argparse.Namespace) -> int:
    """Entries for a safeguarding lead's review: who, when, what, about which id, and why."""
    from datetime import UTC

    since = None
    if args.since:
        try:
            moment = datetime.fromisoformat(args.since)
        except ValueError:
            return fail("--since must be an ISO 8601 date or time, for example 2026-03-01")
        since = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    shown = 0
    for entry in records.audit_entries(since=since, kind=args.kind or ""):
        record = {
            "seq": entry.seq,
            "at": entry.at,
            "kind": entry.kind,
            "actor": entry.actor,
            "subject": entry.subject,
        }
        print(json.dumps(record | {"details": json.loads(entry.details)}, ensure_ascii=False))
        shown += 1
    print(f"{shown} entr{'y' if shown == 1 else 'ies'}", file=sys.stderr)
    return 0
