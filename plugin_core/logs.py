"""Structured JSON logs carrying ids and counts only.

Records are rendered from an allow-list of ``extra`` keys, so a value passed by mistake
(a name, an NHS number) is dropped rather than written.
"""

from __future__ import annotations

import json
import logging
import sys
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
    }
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # In the order the caller gave them, so lines read the same from one run to the next.
        for key, value in record.__dict__.items():
            if key in ALLOWED_EXTRA:
                body[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where, never its message: messages can carry values.
            body["exception"] = record.exc_info[0].__name__
        return json.dumps(body, default=str)


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
