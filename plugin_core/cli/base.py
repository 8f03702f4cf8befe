"""What every command shares: the command table, failing in one line, loading the trust."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from plugin_core.settings.config import TrustConfig
from plugin_core.settings.issues import ConfigError
from plugin_core.settings.load import load_trust_config

if TYPE_CHECKING:
    from plugin_core.host.engine import ThinkFamily
    from plugin_core.service import Records

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """Where each family of commands adds its own parsers."""

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}
"""Each command's name on the command line, and the function that runs it."""


def command(name: str) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        COMMANDS[name] = func
        return func

    return register


def fail(message: str, code: int = 2) -> int:
    print(f"thinkfamily: {message}", file=sys.stderr)
    return code


def config_failed(exc: ConfigError) -> int:
    for issue in exc.issues:
        print(f"thinkfamily: {issue}", file=sys.stderr)
    return 2


def load_config_or_fail(path: str | None) -> TrustConfig | int:
    try:
        return load_trust_config(path)
    except ConfigError as exc:
        return config_failed(exc)
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


def engine_and_input(args: argparse.Namespace) -> tuple[ThinkFamily, bytes] | int:
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
        return config_failed(exc)


def open_records(url: str) -> Records | int:
    """Read views over an existing database, or the exit code after saying why not."""
    from plugin_core.service import open_records
    from plugin_core.store import StoreError

    try:
        return open_records(url)
    except StoreError as exc:
        return fail(str(exc))


def printable(text: str) -> str:
    """``text`` with control and invisible characters escaped (``\\x1b``, ``\\u202e``), so an
    id cannot move the cursor, clear the screen or reorder what a terminal shows."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
