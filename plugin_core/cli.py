"""The ``thinkfamily`` command line.

Exit codes: 0 success; 1 a check found faults (``config check``, ``audit verify``); 2 the
input or the configuration could not be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from plugin_core.trust_config import ConfigError, TrustConfig, check_trust_config, load_trust_config

Command = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        _COMMANDS[name] = func
        return func

    return register


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thinkfamily",
        description="Think Family safeguarding checks for adult services.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    assess = sub.add_parser(
        "assess", help="print the assessment of a contact as JSON (no side effects)"
    )
    assess.add_argument(
        "file", help="contact as ThinkFamily JSON, an HL7 v2 message or a FHIR Bundle; - for stdin"
    )
    assess.add_argument("--config", help="trust configuration (default: the example trust)")
    assess.add_argument("--now", help="the time to assess at, ISO 8601 with offset (default: now)")

    config = sub.add_parser("config", help="trust configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a trust configuration")
    check.add_argument("path")

    return parser


def fail(message: str, code: int = 2) -> int:
    print(f"thinkfamily: {message}", file=sys.stderr)
    return code


def load_config_or_fail(path: str | None) -> TrustConfig | int:
    try:
        return load_trust_config(path)
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"thinkfamily: {issue}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        return fail(str(exc))


def parse_now(raw: str | None) -> datetime | int | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return fail("--now must be an ISO 8601 date-time, for example 2026-03-02T10:00:00+00:00")
    if value.tzinfo is None:
        return fail("--now must include a UTC offset, for example +00:00")
    return value


@command("assess")
def _assess(args: argparse.Namespace) -> int:
    from plugin_core.contact_json import assessment_to_dict
    from plugin_core.engine import ThinkFamily
    from plugin_core.errors import ContactInvalid, ContactSkipped
    from plugin_core.plugins import PluginError

    config = load_config_or_fail(args.config)
    if isinstance(config, int):
        return config
    now = parse_now(args.now)
    if isinstance(now, int):
        return now
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        return fail(f"{args.file}: cannot read ({exc.strerror})")
    tf = ThinkFamily(config)
    try:
        contact = tf.hooks.parse_contact(data, args.file)
    except ContactInvalid as exc:
        return fail(f"{args.file}: {exc}")
    except ContactSkipped as exc:
        return fail(f"{args.file}: not an adult first contact ({exc.reason})")
    except PluginError as exc:
        return fail(f"{args.file}: {exc}")
    if contact is None:
        return fail(f"{args.file}: not a ThinkFamily contact, HL7 v2 message or FHIR Bundle")
    assessment = tf.assess(contact, now=now, present=False)
    json.dump(assessment_to_dict(assessment), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


@command("config")
def _config(args: argparse.Namespace) -> int:
    issues = check_trust_config(args.path)
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _COMMANDS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
