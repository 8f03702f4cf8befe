"""Structured JSON logs carrying ids and counts only.

Records are rendered from an allow-list of ``extra`` keys, so a value passed by mistake
(a name, an NHS number) is dropped rather than written. A plugin may add its own numbers
under keys starting ``plugin_`` (``extra={"plugin_batch_size": 12}``): a bool, or a number
below a thousand million, is written; anything else, and any other key, is dropped, and the
first time a key is dropped one warning names it (the key, never its value).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime

ALLOWED_EXTRA = frozenset(
    {
        "contact_id",
        "decision_id",
        "referral_id",
        "message_id",
        "sender",
        "prompts",
        "referrals",
        "status",
        "error",
        "count",
        "port",
        "host",
        "instance",
        "database",
        "path",
        "method",
        "code",
        "reason",
        "listener",
        "worker",
        "hook",
        "plugins",
        "plugin",
        "field",
        "subject",
    }
)

PLUGIN_PREFIX = "plugin_"
"""A plugin's own ``extra`` keys start with this; their values must be bools or counts."""

_PLUGIN_NUMBER_LIMIT = 1_000_000_000
"""A number at or above this could be an identifier (an NHS number has ten digits)."""

_RECORD_KEYS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's coloured copy of the message
}
_warned: set[str] = set()
_warned_lock = threading.Lock()
_own = logging.getLogger("thinkfamily.logs")


def plugin_value_kept(value: object) -> bool:
    """True for a value a plugin may log under a ``plugin_`` key: a bool or a small number."""
    if isinstance(value, bool):
        return True
    return isinstance(value, int | float) and abs(value) < _PLUGIN_NUMBER_LIMIT


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # In the order the caller gave them, so lines read the same from one run to the next.
        dropped: list[str] = []
        for key, value in record.__dict__.items():
            if key in ALLOWED_EXTRA or (key.startswith(PLUGIN_PREFIX) and plugin_value_kept(value)):
                body[key] = value
            elif key not in _RECORD_KEYS:
                dropped.append(key)
        if dropped:
            _warn_dropped(dropped, record.name)
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where, never its message: messages can carry values.
            body["exception"] = record.exc_info[0].__name__
        return json.dumps(body, default=str)


def _warn_dropped(keys: list[str], logger: str) -> None:
    """One warning per key, the first time it is dropped: the key's name, never its value."""
    with _warned_lock:
        fresh = [key for key in keys if key not in _warned]
        _warned.update(fresh)
    for key in fresh:
        _own.warning(
            "log field dropped",
            extra={
                "field": key[:60],
                "reason": f"from {logger[:60]}: only ThinkFamily's fields and "
                f"{PLUGIN_PREFIX}... counts are written",
            },
        )


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Access logs print request paths, which carry ids only; query strings are not logged.
    # The referral document's font subsetting lists at INFO the glyphs it keeps, which are the
    # letters of the names printed: only its warnings are wanted.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
