"""``assess`` and ``replay``: what ThinkFamily would make of a contact or of HL7 traffic,
printed and never stored."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, engine_and_input, fail, parse_now

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_assess(sub: Subparsers) -> None:
    assess = sub.add_parser(
        "assess", help="print the assessment of a contact as JSON (no side effects)"
    )
    assess.add_argument(
        "file", help="contact as ThinkFamily JSON, an HL7 v2 message or a FHIR Bundle; - for stdin"
    )
    assess.add_argument("--config", help="trust configuration (default: the example trust)")
    assess.add_argument("--now", help="the time to assess at, ISO 8601 with offset (default: now)")


def add_replay(sub: Subparsers) -> None:
    replay = sub.add_parser(
        "replay", help="print the prompts a file of HL7 traffic would raise (writes nothing)"
    )
    replay.add_argument(
        "file", help="messages: MLLP-framed, one per line, or FHS/BHS batches; - for stdin"
    )
    replay.add_argument("--config", help="trust configuration (default: the example trust)")


@command("assess")
def _assess(args: argparse.Namespace) -> int:
    from plugin_core.contract import ContactInvalid, ContactSkipped
    from plugin_core.formats.contact_json import assessment_to_dict

    now = parse_now(args.now)
    if isinstance(now, int):
        return now
    loaded = engine_and_input(args)
    if isinstance(loaded, int):
        return loaded
    tf, data = loaded
    try:
        contact = tf.hooks.parse_contact(data, args.file)
    except ContactInvalid as exc:
        return fail(f"{args.file}: {exc}")
    except ContactSkipped as exc:
        return fail(f"{args.file}: not an adult first contact ({exc.reason})")
    if contact is None:
        return fail(f"{args.file}: not a ThinkFamily contact, HL7 v2 message or FHIR Bundle")
    assessment = tf.assess(contact, now=now, present=False)
    json.dump(assessment_to_dict(assessment), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


@command("replay")
def _replay(args: argparse.Namespace) -> int:
    from plugin_core.replay import print_report, replay

    loaded = engine_and_input(args)
    if isinstance(loaded, int):
        return loaded
    tf, data = loaded
    report = replay(data, tf, hint=args.file)
    if report is None:
        return fail(f"{args.file}: no plugin reads this file as a series of messages")
    print_report(report, sys.stdout)
    return 0
