"""The ``thinkfamily`` command line.

Exit codes: 0 success; 1 a check found faults (``config check``, ``audit verify``); 2 the
input or the configuration could not be used; 3 a plugin (or ThinkFamily itself) failed.

A failure is one line naming the plugin, the hook and the class of the error, never the
error's text (it may hold patient details). ``--debug`` adds where it happened: the frames'
files, lines and functions, with no messages and no values.

Each family of commands lives in its own module, which adds its parsers and registers its
commands with :func:`~plugin_core.cli.base.command`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from plugin_core.cli import (
    audit,
    config,
    contacts,
    journal,
    plugins,
    postcodes,
    reading,
    serving,
)
from plugin_core.cli.base import (
    COMMANDS,
    Command,
    command,
    fail,
    load_config_or_fail,
    parse_now,
    printable,
)

__all__ = [
    "Command",
    "command",
    "fail",
    "load_config_or_fail",
    "main",
    "parse_now",
    "printable",
]

_ADD_PARSERS = (
    reading.add_assess,
    config.add_config,
    reading.add_replay,
    serving.add_serve,
    contacts.add_contacts,
    journal.add_journal,
    audit.add_audit,
    plugins.add_plugins,
    serving.add_form_link,
    postcodes.add_postcodes,
)
"""Each command's parsers, in the order ``--help`` lists them."""


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
    for add in _ADD_PARSERS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader went away (``thinkfamily audit list | head``): not a failure of ours.
        # Point stdout at nothing so the interpreter's own flush at exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
