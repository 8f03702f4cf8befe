"""The audit key: the secret that seals audit entries, kept out of the database.

With an unkeyed chain anyone who can write to the database can edit an entry and recompute
every hash after it. Entries sealed with an HMAC under a key the database never holds cannot
be rewritten without the key. The key comes, in order, from:

1. ``THINKFAMILY_AUDIT_KEY``: the key itself, at least 32 characters;
2. ``THINKFAMILY_AUDIT_KEY_FILE``: a file holding it (systemd credentials, container secrets);
3. for SQLite only, a key file beside the database (``thinkfamily.db.audit-key``), which
   ``serve`` makes on first start so the one-command start keeps working. It is weak: whoever
   can change the database file can usually read this one too. It is warned about at each start.

``THINKFAMILY_AUDIT_PREVIOUS_KEYS`` (keys separated by spaces) lets ``audit verify`` check
entries sealed before the key was changed. Messages name a key by its id (derived from the key,
which it does not reveal), never the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from plugin_core.store.errors import StoreError

KEY_ENV = "THINKFAMILY_AUDIT_KEY"
KEY_FILE_ENV = "THINKFAMILY_AUDIT_KEY_FILE"
PREVIOUS_KEYS_ENV = "THINKFAMILY_AUDIT_PREVIOUS_KEYS"
MIN_KEY_LENGTH = 32
BESIDE_SUFFIX = ".audit-key"


class AuditKeyError(StoreError):
    """The audit key is missing, too short or unreadable; the message never holds the key."""


@dataclass(frozen=True, slots=True)
class AuditKey:
    """One key, with where it came from (for messages) and whether it sits beside the data."""

    secret: bytes = field(repr=False)
    source: str
    beside_database: bool = False

    @property
    def id(self) -> str:
        """Names the key in entries and messages; the key cannot be recovered from it."""
        return _key_id(self.secret)

    def mac(self, domain: str, *parts: str) -> str:
        """HMAC-SHA-256 over length-prefixed parts, so no two lists of parts share a MAC."""
        chunks = []
        for part in (domain, *parts):
            raw = part.encode("utf-8")
            chunks.append(b"%d:%s" % (len(raw), raw))
        return hmac.digest(self.secret, b"".join(chunks), "sha256").hex()


@lru_cache(maxsize=16)
def _key_id(secret: bytes) -> str:
    """A key's id, worked out once per key: every seal names its key."""
    return hmac.new(secret, b"thinkfamily audit key id", hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The key new entries are sealed with (None: unkeyed), and earlier keys to verify with."""

    current: AuditKey | None = None
    previous: tuple[AuditKey, ...] = ()

    def find(self, key_id: str) -> AuditKey | None:
        for key in (self.current, *self.previous):
            if key is not None and key.id == key_id:
                return key
        return None


NO_KEYS = AuditKeys()


def beside(db_path: str) -> Path:
    """Where the SQLite database's own key file is."""
    return Path(db_path + BESIDE_SUFFIX)


def _checked(text: str, source: str, *, beside_database: bool = False) -> AuditKey:
    value = text.strip()
    if len(value) < MIN_KEY_LENGTH:
        raise AuditKeyError(
            f"the audit key from {source} is too short: it needs at least {MIN_KEY_LENGTH}"
            " characters (make one with: python3 -c 'import secrets;"
            " print(secrets.token_urlsafe(48))')"
        )
    return AuditKey(value.encode("utf-8"), source, beside_database)


def _read(path: Path, source: str, *, beside_database: bool = False) -> AuditKey:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror}") from None
    return _checked(text, source, beside_database=beside_database)


def keys_from_env(environ: Mapping[str, str], *, sqlite_path: str | None = None) -> AuditKeys:
    """The keys the environment names; for SQLite, the key file beside the database if no
    other key is set and that file exists. Raises :class:`AuditKeyError` for a bad key."""
    current: AuditKey | None = None
    if environ.get(KEY_ENV):
        current = _checked(environ[KEY_ENV], KEY_ENV)
    elif environ.get(KEY_FILE_ENV):
        current = _read(Path(environ[KEY_FILE_ENV]), f"{KEY_FILE_ENV} ({environ[KEY_FILE_ENV]})")
    elif sqlite_path and sqlite_path != ":memory:" and beside(sqlite_path).is_file():
        path = beside(sqlite_path)
        current = _read(path, f"the key file beside the database ({path})", beside_database=True)
    previous = tuple(
        _checked(text, f"{PREVIOUS_KEYS_ENV} (key {n})")
        for n, text in enumerate(environ.get(PREVIOUS_KEYS_ENV, "").split(), start=1)
    )
    if current is not None and sqlite_path and sqlite_path != ":memory:":
        path = beside(sqlite_path)
        if not current.beside_database and path.is_file():
            # The key once made beside the database still verifies what it sealed.
            previous += (
                _read(path, f"the key file beside the database ({path})", beside_database=True),
            )
    return AuditKeys(current, previous)


def make_key_beside(sqlite_path: str) -> AuditKey:
    """Create the database's own key file (readable by its owner only) unless another process
    just did; returns the key in it."""
    path = beside(sqlite_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = f"the key file beside the database ({path})"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path, source, beside_database=True)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    return _read(path, source, beside_database=True)


@dataclass(frozen=True, slots=True)
class ServiceKeys:
    """The keys a running service seals with, and what to warn about when it starts."""

    keys: AuditKeys
    warning: str = ""


def keys_for_service(environ: Mapping[str, str], *, sqlite_path: str | None) -> ServiceKeys:
    """The keys for ``serve``. A shared (PostgreSQL) database never runs unkeyed: its trail must
    be sealed with a key kept outside it. The embedded SQLite default makes its own key file on
    first start so one command still starts the service, with a warning at every start."""
    keys = keys_from_env(environ, sqlite_path=sqlite_path)
    current = keys.current
    if current is not None and not current.beside_database:
        return ServiceKeys(keys)
    if sqlite_path is None:
        raise AuditKeyError(
            f"set {KEY_ENV} (at least {MIN_KEY_LENGTH} characters) or {KEY_FILE_ENV}: the audit"
            " trail of a shared database must be sealed with a key kept outside it"
        )
    if sqlite_path == ":memory:":
        key = AuditKey(secrets.token_urlsafe(48).encode(), "a key for this run only")
        return ServiceKeys(AuditKeys(key, keys.previous))
    made = current is None
    current = current or make_key_beside(sqlite_path)
    warning = (
        f"audit key {'made and ' if made else ''}kept beside the database ({beside(sqlite_path)}):"
        f" whoever can change the database can likely read it too. Move it out (set {KEY_ENV}"
        f" or {KEY_FILE_ENV}) and keep a copy where the database's administrators cannot change it"
    )
    return ServiceKeys(AuditKeys(current, keys.previous), warning)
