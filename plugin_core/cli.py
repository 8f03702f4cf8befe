"""The ``thinkfamily`` command line.

Exit codes: 0 success; 1 a check found faults (``config check``, ``audit verify``); 2 the
input or the configuration could not be used; 3 a plugin (or ThinkFamily itself) failed.

A failure is one line naming the plugin, the hook and the class of the error, never the
error's text (it may hold patient details). ``--debug`` adds where it happened: the frames'
files, lines and functions, with no messages and no values.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin_core.host.engine import ThinkFamily
    from plugin_core.service import Records

from plugin_core.settings.config import TrustConfig
from plugin_core.settings.issues import ConfigError
from plugin_core.settings.load import load_trust_config

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
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on a failure, also print where it happened (files, lines, functions; no values)",
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
    check.add_argument(
        "--strict",
        action="store_true",
        help="go-live check: a route with no contact or phone number, or a contact not verified"
        " in the last six months, is an error",
    )

    replay = sub.add_parser(
        "replay", help="print the prompts a file of HL7 traffic would raise (writes nothing)"
    )
    replay.add_argument(
        "file", help="messages: MLLP-framed, one per line, or FHS/BHS batches; - for stdin"
    )
    replay.add_argument("--config", help="trust configuration (default: the example trust)")

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

    contacts = sub.add_parser("contacts", help="list contacts and their state (ids only)")
    contacts.add_argument("--db", required=True)
    contacts.add_argument(
        "--state",
        help="only contacts in this state (open, suppressed, decided, referred, ...)",
    )
    contacts.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")

    journal = sub.add_parser(
        "journal-errors",
        help="list content errors found in messages after they were acknowledged (HL7)",
    )
    journal.add_argument("--db", required=True)
    journal.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")

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

    plugins = sub.add_parser(
        "plugins", help="list the plugins loaded, with their distribution, version and hooks"
    )
    plugins.add_argument("--config", help="trust configuration (default: the example trust)")

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
    postcodes = sub.add_parser("postcodes", help="postcode lookup tools")
    postcodes_sub = postcodes.add_subparsers(dest="postcodes_command", required=True)
    load = postcodes_sub.add_parser(
        "import",
        help="build the postcode lookup from the ONS NSPL or ONSPD CSV "
        "(written where [trust] postcode_lookup says)",
    )
    load.add_argument("csv", help="the NSPL or ONSPD CSV file")
    load.add_argument("--config", required=True, help="the trust configuration to build it for")
    return parser


def fail(message: str, code: int = 2) -> int:
    print(f"thinkfamily: {message}", file=sys.stderr)
    return code


def _config_failed(exc: ConfigError) -> int:
    for issue in exc.issues:
        print(f"thinkfamily: {issue}", file=sys.stderr)
    return 2


def load_config_or_fail(path: str | None) -> TrustConfig | int:
    try:
        return load_trust_config(path)
    except ConfigError as exc:
        return _config_failed(exc)
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


def _engine_and_input(args: argparse.Namespace) -> tuple[ThinkFamily, bytes] | int:
    """The trust's engine and the input file's bytes, or the exit code after saying why not."""
    from plugin_core.host.engine import ThinkFamily

    config = load_config_or_fail(args.config)
    if isinstance(config, int):
        return config
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        return fail(f"{args.file}: cannot read ({exc.strerror})")
    try:
        return ThinkFamily(config), data
    except ConfigError as exc:
        return _config_failed(exc)


@command("assess")
def _assess(args: argparse.Namespace) -> int:
    from plugin_core.contract import ContactInvalid, ContactSkipped
    from plugin_core.formats.contact_json import assessment_to_dict

    now = parse_now(args.now)
    if isinstance(now, int):
        return now
    loaded = _engine_and_input(args)
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


@command("replay")
def _replay(args: argparse.Namespace) -> int:
    from plugin_core.replay import print_report, replay

    loaded = _engine_and_input(args)
    if isinstance(loaded, int):
        return loaded
    tf, data = loaded
    report = replay(data, tf, hint=args.file)
    if report is None:
        return fail(f"{args.file}: no plugin reads this file as a series of messages")
    print_report(report, sys.stdout)
    return 0


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
        return _config_failed(exc)
    return 0


def _open(url: str) -> Records | int:
    """Read views over an existing database, or the exit code after saying why not."""
    from plugin_core.service import open_records
    from plugin_core.store import StoreError

    try:
        return open_records(url)
    except StoreError as exc:
        return fail(str(exc))


@command("contacts")
def _contacts(args: argparse.Namespace) -> int:
    from plugin_core.model import ContactState

    records = _open(args.db)
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


def printable(text: str) -> str:
    """``text`` with control and invisible characters escaped (``\\x1b``, ``\\u202e``), so an
    id cannot move the cursor, clear the screen or reorder what a terminal shows."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


@command("audit")
def _audit(args: argparse.Namespace) -> int:
    from plugin_core.store import StoreError

    records = _open(args.db)
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


@command("plugins")
def _plugins(args: argparse.Namespace) -> int:
    """Each plugin with its distribution, version and hooks, then those switched off."""
    from plugin_core.host.engine import ThinkFamily
    from plugin_core.host.plugins import blocked_names, plugin_infos

    config = load_config_or_fail(args.config)
    if isinstance(config, int):
        return config
    try:
        tf = ThinkFamily(config)
    except ConfigError as exc:
        return _config_failed(exc)
    for issue in tf.plugin_issues:
        print(f"warning: {issue}", file=sys.stderr)
    infos = plugin_infos(tf.pm)
    width = max([len("plugin"), *(len(i.name) for i in infos)])
    dist_width = max([len("distribution"), *(len(i.distribution) for i in infos)])
    print(f"{'plugin':<{width}}  {'distribution':<{dist_width}}  {'version':<9}  hooks")
    for info in infos:
        hooks = ", ".join(h.removeprefix("thinkfamily_") for h in info.hooks)
        print(
            f"{info.name:<{width}}  {info.distribution or '(in process)':<{dist_width}}  "
            f"{info.version or '-':<9}  {hooks}"
        )
    blocked = blocked_names(tf.pm)
    print(f"{len(infos)} plugin(s) loaded; disabled: {', '.join(blocked) or 'none'}")
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
        return _config_failed(exc)
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


def main(argv: Sequence[str] | None = None) -> int:
    import plugin_core.cli_journal  # noqa: F401  (registers its command)

    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except Exception as exc:
        return _failed(exc, debug=args.debug)


def _failed(exc: Exception, *, debug: bool) -> int:
    """One line naming the plugin, the hook and the error's class; with ``--debug``, the
    frames too. Never the exception's text or its causes' (they may hold patient details)."""
    from plugin_core.host.plugins import PluginError, frames

    if debug:
        for line in frames(exc):
            print(line, file=sys.stderr)
    if isinstance(exc, PluginError):
        return fail(str(exc), 3)  # built by ThinkFamily from names only
    hint = "" if debug else " (run with --debug to see where)"
    return fail(f"failed: {type(exc).__name__}{hint}", 3)


if __name__ == "__main__":
    raise SystemExit(main())
