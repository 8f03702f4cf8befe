"""Loading and checking a trust's configuration.

A trust configuration is a TOML file that names the local-authority directory and the code
lists beside it. Every fault is reported with its file, its dotted key and the reason, all at
once, so an integrator fixes a file in one pass rather than one error per run.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

from plugin_core.errors import ThinkFamilyError
from plugin_core.model import Channel, IndicatorKind, PromptCode, Relationship, Route, Severity
from plugin_core.rules.clock import OfficeHours
from plugin_core.rules.relationship_words import word_key

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One fault in a configuration file; warnings do not stop the service."""

    file: str
    key: str
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ConfigError(ThinkFamilyError):
    """The configuration cannot be used; ``issues`` lists every error found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """How one route of one authority is reached. ``missing`` explains a gap in the source."""

    channel: Channel | None
    address: str = ""
    phone: str = ""
    label: str = ""
    missing: str = ""
    office_hours: OfficeHours | None = None
    """The route's own hours, when they differ from the authority's (early help, the LADO)."""


@dataclass(frozen=True, slots=True)
class AuthorityEntry:
    id: str
    name: str
    postcode_prefixes: tuple[str, ...]
    office_hours: OfficeHours
    routes: dict[Route, RouteEntry]


@dataclass(frozen=True, slots=True)
class Directory:
    """The local-authority directory: who covers which postcodes and how to reach them."""

    authorities: dict[str, AuthorityEntry]
    police: RouteEntry

    def get(self, authority_id: str) -> AuthorityEntry | None:
        return self.authorities.get(authority_id)


@dataclass(frozen=True, slots=True)
class CodeRule:
    """One ``[[indicator]]`` entry: the codes of one system that mean one kind, and their weight."""

    kind: IndicatorKind
    system: str
    codes: frozenset[str]
    prefixes: tuple[str, ...]
    weight: Severity = Severity.WARNING
    rationale: str = ""
    label: str = ""


def system_key(system: str) -> str:
    """A system name, alias, URI or OID reduced to the form the [systems] table is keyed by.

    Senders spell the same system many ways ("ICD-10", "icd10", "SNOMED CT", "urn:oid:..."), so
    case, spaces, hyphens and underscores in short names do not count, nor "urn:oid:" or a
    trailing slash.
    """
    key = system.strip().casefold().rstrip("/")
    if key.startswith("urn:oid:"):
        return key[len("urn:oid:") :]
    if ":" in key:
        return key
    return re.sub(r"[\s_-]+", "", key)


def code_key(code: str) -> str:
    """A code as matched: case and the dot of an ICD-10 code ("F10.2" is "F102") do not count."""
    return code.strip().upper().replace(".", "")


# HL7's own tables (yes/no, administrative sex, ...) are known vocabularies, never clinical
# findings: their codes are not listed as unclassified.
_HL7_TABLE = re.compile(r"^hl7[0-9]{4}$")
_HL7_TERMINOLOGY = "http://terminology.hl7.org/"


@dataclass(frozen=True, slots=True)
class CodeLists:
    """Clinical code lists that classify record entries as risk indicators."""

    systems: dict[str, str]
    """:func:`system_key` of every name, alias and URI in [systems] -> the canonical URI."""
    rules: tuple[CodeRule, ...]
    relationships: dict[str, Relationship]

    def canonical_system(self, system: str | None) -> str | None:
        """The canonical URI of a recognised system; otherwise the text as sent, trimmed."""
        if system is None or not system.strip():
            return None
        return self.systems.get(system_key(system), system.strip())

    def recognises(self, system: str | None) -> bool:
        """True when the system is declared in [systems] or is one of HL7's own tables."""
        if system is None or not system.strip():
            return False
        key = system_key(system)
        return (
            key in self.systems or bool(_HL7_TABLE.match(key)) or key.startswith(_HL7_TERMINOLOGY)
        )

    def match(self, system: str | None, code: str | None) -> CodeRule | None:
        """The first list that names a coded entry, or None."""
        # A code without its system is ambiguous across code systems: never guess.
        if not code or not code.strip() or system is None or not system.strip():
            return None
        canonical = self.systems.get(system_key(system))
        if canonical is None:
            return None
        normal = code_key(code)
        for rule in self.rules:
            if rule.system != canonical:
                continue
            if normal in rule.codes or any(normal.startswith(p) for p in rule.prefixes):
                return rule
        return None

    def classify(self, system: str | None, code: str | None) -> IndicatorKind | None:
        """The indicator kind for a coded entry, or None when no list names it."""
        rule = self.match(system, code)
        return rule.kind if rule is not None else None


@dataclass(frozen=True, slots=True)
class Urgency:
    urgent_levels: frozenset[int] = frozenset({4})
    urgent_ack_minutes: int = 60
    routine_ack_hours: int = 24
    """Working hours of the route (three working days at 09:00-17:00)."""
    lado_ack_hours: int = 8
    """Working hours of the LADO (one working day at 09:00-17:00)."""


@dataclass(frozen=True, slots=True)
class SafeguardingLead:
    """The trust's safeguarding lead, alerted when a referral the rules call for is overridden."""

    name: str
    role: str
    phone: str = ""
    email: str = ""

    @property
    def contact(self) -> str:
        return "; ".join(c for c in (self.phone, self.email) if c)


@dataclass(frozen=True, slots=True)
class TrustConfig:
    """Everything a trust configures, loaded and checked."""

    path: Path
    trust_id: str
    trust_name: str
    recheck_days: int
    directory: Directory
    code_lists: CodeLists
    urgency: Urgency
    wording: dict[PromptCode, str] = field(default_factory=dict)
    api_token_env: str = "THINKFAMILY_API_TOKEN"
    http_port: int = 8080
    mllp_port: int = 2575
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: tuple[ConfigIssue, ...] = ()
    safeguarding_lead: SafeguardingLead | None = None

    def section(self, name: str) -> dict[str, Any]:
        """A raw section for an adapter to read (``[hl7]``, ``[fhir]``, ``[email]``)."""
        return self.sections.get(name, {})

    @property
    def api_token(self) -> str | None:
        """The API bearer token, read from the environment so it never sits in the file."""
        return os.environ.get(self.api_token_env) or None


def default_config_path() -> Path:
    """The example trust configuration shipped with ThinkFamily."""
    package = Path(__file__).resolve().parents[1]  # plugin_core, installed or in a checkout
    for candidate in (package / "_config", package.parent / "config"):
        if (candidate / "example-trust.toml").is_file():
            return candidate / "example-trust.toml"
    raise FileNotFoundError("the example trust configuration is not installed")


class _Reader:
    """Reads typed values from parsed TOML and records an issue for each fault."""

    def __init__(self, file: Path) -> None:
        self.file = str(file)
        self.issues: list[ConfigIssue] = []

    def error(self, key: str, reason: str) -> None:
        self.issues.append(ConfigIssue(self.file, key, reason))

    def warn(self, key: str, reason: str) -> None:
        self.issues.append(ConfigIssue(self.file, key, reason, "warning"))

    def value(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        kind: type[T],
        default: T | None = None,
        *,
        required: bool = False,
    ) -> T | None:
        if key not in data:
            if required:
                self.error(_join(path, key), "is required")
            return default
        raw = data[key]
        if kind is int and isinstance(raw, bool):
            self.error(_join(path, key), "must be a whole number")
            return default
        if not isinstance(raw, kind):
            self.error(_join(path, key), f"must be {_KIND_NAMES.get(kind, kind.__name__)}")
            return default
        return raw

    def unknown(self, data: dict[str, Any], path: str, known: frozenset[str]) -> None:
        """Warn about keys nobody reads: a misspelt key would otherwise silently be a default."""
        for key in data:
            if key not in known:
                self.warn(_join(path, key), "is not a known key and is ignored; check its spelling")

    def table(self, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        return self.value(data, key, path, dict, {}) or {}

    def strings(self, data: dict[str, Any], key: str, path: str) -> list[str]:
        raw = self.value(data, key, path, list, [])
        out: list[str] = []
        for i, item in enumerate(raw or []):
            if isinstance(item, str):
                out.append(item)
            else:
                self.error(f"{_join(path, key)}[{i}]", "must be text")
        return out


_KIND_NAMES: dict[type, str] = {
    str: "text",
    int: "a whole number",
    dict: "a table",
    list: "a list",
    bool: "true or false",
}


def _whole(value: int | None, default: int) -> int:
    """The value read, or the default when absent; not ``value or default``, which hides 0."""
    return default if value is None else value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _read_toml(path: Path, reader: _Reader) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        reader.error("(file)", "file not found")
    except tomllib.TOMLDecodeError as exc:
        reader.error("(file)", f"not valid TOML: {exc}")
    except OSError as exc:
        reader.error("(file)", f"cannot be read: {exc.strerror}")
    return None


def load_trust_config(path: str | Path | None = None) -> TrustConfig:
    """Load a trust configuration and the files it names, or raise ConfigError with every fault."""
    config, issues = _load(Path(path) if path else default_config_path())
    errors = [i for i in issues if i.severity == "error"]
    if errors or config is None:
        raise ConfigError(errors)
    return config


def check_trust_config(path: str | Path) -> list[ConfigIssue]:
    """Every error and warning in a trust configuration and the files it names."""
    _, issues = _load(Path(path))
    return issues


def _load(path: Path) -> tuple[TrustConfig | None, list[ConfigIssue]]:
    reader = _Reader(path)
    data = _read_toml(path, reader)
    if data is None:
        return None, reader.issues

    trust = reader.table(data, "trust", "")
    if "trust" not in data:
        reader.error("trust", "is required")
    trust_id = reader.value(trust, "id", "trust", str, "", required=True) or ""
    trust_name = reader.value(trust, "name", "trust", str, "", required=True) or ""
    recheck = _whole(reader.value(trust, "recheck_days", "trust", int), 90)
    reader.unknown(trust, "trust", _TRUST_KEYS)
    reader.unknown({k: v for k, v in data.items() if not isinstance(v, dict)}, "", frozenset())
    if recheck < 1:
        reader.error("trust.recheck_days", "must be 1 or more")
    directory_name = reader.value(trust, "directory", "trust", str, "", required=True) or ""
    codes_name = reader.value(trust, "code_lists", "trust", str, "", required=True) or ""
    relationships_name = (
        reader.value(trust, "relationships", "trust", str, RELATIONSHIPS_FILE) or RELATIONSHIPS_FILE
    )

    urgency = _urgency(reader, reader.table(data, "urgency", ""))
    lead = _safeguarding_lead(reader, data)
    wording = _wording(reader, reader.table(data, "wording", ""))
    service = reader.table(data, "service", "")
    http_port = reader.value(service, "http_port", "service", int, 8080) or 8080
    mllp_port = reader.value(service, "mllp_port", "service", int, 2575) or 2575
    api = reader.table(data, "api", "")
    token_env = reader.value(api, "token_env", "api", str, "THINKFAMILY_API_TOKEN")
    reader.unknown(api, "api", frozenset({"token_env", "token"}))
    if "token" in api:
        reader.error(
            "api.token", "tokens must not be written in the file; name a variable in api.token_env"
        )
    _plugins(reader, reader.table(data, "plugins", ""))

    issues = reader.issues
    directory: Directory | None = None
    codes: CodeLists | None = None
    if directory_name:
        directory, more = _load_directory(path.parent / directory_name)
        issues = issues + more
    if codes_name:
        codes, more = _load_codes(path.parent / codes_name)
        issues = issues + more
    vocabulary, more = _load_relationships(path.parent / relationships_name)
    issues = issues + more
    if codes is not None and vocabulary is not None:
        codes, more = _with_vocabulary(codes, vocabulary, path.parent / codes_name)
        issues = issues + more
    if directory is None or codes is None or any(i.severity == "error" for i in issues):
        return None, issues
    sections = {k: v for k, v in data.items() if isinstance(v, dict)}
    config = TrustConfig(
        path=path,
        trust_id=trust_id,
        trust_name=trust_name,
        recheck_days=recheck,
        directory=directory,
        code_lists=codes,
        urgency=urgency,
        wording=wording,
        api_token_env=token_env or "THINKFAMILY_API_TOKEN",
        http_port=http_port,
        mllp_port=mllp_port,
        sections=sections,
        warnings=tuple(i for i in issues if i.severity == "warning"),
        safeguarding_lead=lead,
    )
    return config, issues


def _urgency(reader: _Reader, table: dict[str, Any]) -> Urgency:
    reader.unknown(table, "urgency", _URGENCY_KEYS)
    levels_raw = reader.value(table, "urgent_levels", "urgency", list, [4])
    if levels_raw is None:
        levels_raw = [4]
    levels: set[int] = set()
    for i, level in enumerate(levels_raw):
        if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 4:
            levels.add(level)
        else:
            reader.error(f"urgency.urgent_levels[{i}]", "must be a level of need from 1 to 4")
    minutes = _whole(reader.value(table, "urgent_ack_minutes", "urgency", int), 60)
    hours = _whole(reader.value(table, "routine_ack_hours", "urgency", int), 24)
    if minutes < 1:
        reader.error("urgency.urgent_ack_minutes", "must be 1 or more")
    if hours < 1:
        reader.error("urgency.routine_ack_hours", "must be 1 or more")
    lado_hours = _whole(reader.value(table, "lado_ack_hours", "urgency", int), 8)
    if lado_hours < 1:
        reader.error("urgency.lado_ack_hours", "must be 1 or more")
    return Urgency(frozenset(levels), minutes, hours, lado_hours)


def _safeguarding_lead(reader: _Reader, data: dict[str, Any]) -> SafeguardingLead | None:
    """The lead is required: without one, an overridden level 4 referral would alert nobody."""
    key = "safeguarding.lead"
    section = reader.table(data, "safeguarding", "")
    reader.unknown(section, "safeguarding", frozenset({"lead"}))
    if "lead" not in section:
        reader.error(
            key,
            "is required: the trust's safeguarding lead (name, role, and a phone or email), "
            "who is alerted when level 4 or immediate danger is not referred",
        )
        return None
    table = reader.table(section, "lead", "safeguarding")
    reader.unknown(table, key, frozenset({"name", "role", "phone", "email"}))
    text = {
        name: (reader.value(table, name, key, str, "", required=name in ("name", "role")) or "")
        for name in ("name", "role", "phone", "email")
    }
    for name in ("name", "role"):
        if isinstance(table.get(name), str) and not text[name].strip():
            reader.error(f"{key}.{name}", "must not be empty")
    phone, email = text["phone"].strip(), text["email"].strip()
    if phone and not _PHONE.match(phone):
        reader.error(f"{key}.phone", f"{phone!r} is not a phone number")
    if email and not _EMAIL.match(email):
        reader.error(f"{key}.email", f"{email!r} is not an email address")
    if not phone and not email:
        reader.error(key, "give a phone number or an email address for the lead")
    name, role = text["name"].strip(), text["role"].strip()
    if not (name and role and (phone or email)):
        return None
    return SafeguardingLead(name, role, phone, email)


def _wording(reader: _Reader, table: dict[str, Any]) -> dict[PromptCode, str]:
    wording: dict[PromptCode, str] = {}
    for key, text in table.items():
        try:
            code = PromptCode(key)
        except ValueError:
            reader.error(f"wording.{key}", f"{key!r} is not a prompt code")
            continue
        if not isinstance(text, str) or not text.strip():
            reader.error(f"wording.{key}", "must be non-empty text")
        elif len(text) > 140:
            reader.error(f"wording.{key}", "must fit in 140 characters")
        else:
            wording[code] = text
    return wording


def _plugins(reader: _Reader, table: dict[str, Any]) -> None:
    """``[plugins]``: ``disabled`` lists plugin names to block. Any other key is an error, as
    a misspelt switch would otherwise leave a plugin running that the trust meant to stop."""
    for key in table:
        if key != "disabled":
            reader.error(f"plugins.{key}", "is not a known key; the only key is 'disabled'")
    reader.strings(table, "disabled", "plugins")


_TRUST_KEYS = frozenset({"id", "name", "directory", "code_lists", "relationships", "recheck_days"})
RELATIONSHIPS_FILE = "relationships.toml"
"""The relationships file read when ``[trust]`` names none: beside the trust file."""
_URGENCY_KEYS = frozenset(
    {"urgent_levels", "urgent_ack_minutes", "routine_ack_hours", "lado_ack_hours"}
)
_AUTHORITY_KEYS = frozenset({"name", "postcodes", "office_hours", "routes"})
_ROUTE_KEYS = frozenset({"channel", "address", "phone", "label", "missing"})
_INDICATOR_KEYS = frozenset({"kind", "system", "codes", "prefixes", "weight", "rationale", "label"})
_RATIONALE_MAX = 200
_LABEL_MAX = 40

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,}[0-9](\s*(ext|x)\.?\s*[0-9]+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE_PREFIX = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9])?$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _load_directory(path: Path) -> tuple[Directory | None, list[ConfigIssue]]:
    reader = _Reader(path)
    data = _read_toml(path, reader)
    if data is None:
        return None, reader.issues
    reader.unknown(data, "", frozenset({"police", "authorities"}))
    police = _route(reader, reader.table(data, "police", ""), "police")
    if "police" not in data:
        reader.error("police", "is required (the number for immediate danger)")
    authorities: dict[str, AuthorityEntry] = {}
    table = reader.table(data, "authorities", "")
    if not table:
        reader.error("authorities", "must list at least one local authority")
    for auth_id, entry in table.items():
        key = f"authorities.{auth_id}"
        if not isinstance(entry, dict):
            reader.error(key, "must be a table")
            continue
        reader.unknown(entry, key, _AUTHORITY_KEYS)
        name = reader.value(entry, "name", key, str, "", required=True) or ""
        prefixes = []
        for i, raw in enumerate(reader.strings(entry, "postcodes", key)):
            normal = raw.strip().upper()
            if not _POSTCODE_PREFIX.match(normal):
                reader.error(
                    f"{key}.postcodes[{i}]", f"{raw!r} is not a postcode district or sector"
                )
            prefixes.append(normal)
        if not prefixes:
            reader.error(
                f"{key}.postcodes", "must list the postcode districts the authority covers"
            )
        hours = _office_hours(
            reader, reader.table(entry, "office_hours", key), f"{key}.office_hours"
        )
        routes: dict[Route, RouteEntry] = {}
        for route_name, route_table in reader.table(entry, "routes", key).items():
            rkey = f"{key}.routes.{route_name}"
            try:
                route = Route(route_name)
            except ValueError:
                reader.error(
                    rkey, f"{route_name!r} is not a route ({', '.join(r.value for r in Route)})"
                )
                continue
            if route is Route.POLICE:
                reader.error(rkey, "police is set once, in [police]")
                continue
            if not isinstance(route_table, dict):
                reader.error(rkey, "must be a table")
                continue
            routes[route] = _route_hours(reader, route, route_table, rkey)
        for needed in (Route.FRONT_DOOR, Route.OUT_OF_HOURS, Route.EARLY_HELP, Route.LADO):
            entry_route = routes.get(needed)
            if entry_route is None:
                reader.warn(
                    f"{key}.routes.{needed.value}",
                    "not configured: referrals on this route will need a phone call to be confirmed",
                )
            elif entry_route.missing:
                reader.warn(
                    f"{key}.routes.{needed.value}", f"no contact given: {entry_route.missing}"
                )
        authorities[auth_id] = AuthorityEntry(auth_id, name, tuple(prefixes), hours, routes)
    if reader.issues and any(i.severity == "error" for i in reader.issues):
        return None, reader.issues
    return Directory(authorities, police), reader.issues


def _office_hours(reader: _Reader, table: dict[str, Any], key: str) -> OfficeHours:
    def parse(name: str, default: time) -> time:
        raw = reader.value(table, name, key, str, None)
        if raw is None:
            return default
        match = _TIME.match(raw)
        if not match:
            reader.error(f"{key}.{name}", f"{raw!r} is not a time like 09:00")
            return default
        return time(int(match.group(1)), int(match.group(2)))

    reader.unknown(table, key, frozenset({"opens", "closes"}))
    opens = parse("opens", time(9, 0))
    closes = parse("closes", time(17, 0))
    if closes <= opens:
        reader.error(f"{key}.closes", "must be later than opens")
    return OfficeHours(opens, closes)


def _route_hours(reader: _Reader, route: Route, table: dict[str, Any], key: str) -> RouteEntry:
    """An authority's route, with its own office hours when it gives them."""
    entry = _route(reader, {k: v for k, v in table.items() if k != "office_hours"}, key)
    if "office_hours" not in table:
        return entry
    if route is Route.OUT_OF_HOURS:
        reader.error(
            f"{key}.office_hours",
            "the emergency duty team takes the front door's work whenever the front door is "
            "closed; give the front door's hours instead",
        )
        return entry
    hours = _office_hours(reader, reader.table(table, "office_hours", key), f"{key}.office_hours")
    return replace(entry, office_hours=hours)


def _route(reader: _Reader, table: dict[str, Any], key: str) -> RouteEntry:
    reader.unknown(table, key, _ROUTE_KEYS)
    missing = reader.value(table, "missing", key, str, "") or ""
    raw_channel = reader.value(table, "channel", key, str, None)
    channel: Channel | None = None
    if raw_channel is not None:
        try:
            channel = Channel(raw_channel)
        except ValueError:
            reader.error(
                f"{key}.channel",
                f"{raw_channel!r} is not a channel ({', '.join(c.value for c in Channel)})",
            )
    elif not missing:
        reader.error(f"{key}.channel", "is required (or say why in 'missing')")
    address = reader.value(table, "address", key, str, "") or ""
    phone = reader.value(table, "phone", key, str, "") or ""
    label = reader.value(table, "label", key, str, "") or ""
    if channel is Channel.PHONE and not phone:
        reader.error(f"{key}.phone", "is required for the phone channel")
    if channel in (Channel.FHIR, Channel.HL7, Channel.EMAIL) and not address:
        reader.error(f"{key}.address", f"is required for the {channel.value} channel")
    if channel is Channel.FHIR and address and not address.startswith(("https://", "http://")):
        reader.error(f"{key}.address", "must be an http(s) URL for the fhir channel")
    if channel is Channel.HL7 and address and not re.match(r"^[^:\s]+:[0-9]{1,5}$", address):
        reader.error(f"{key}.address", "must be host:port for the hl7 channel")
    if channel is Channel.EMAIL and address and "@" not in address:
        reader.error(f"{key}.address", "must be an email address for the email channel")
    return RouteEntry(channel, address, phone, label, missing)


def _load_codes(path: Path) -> tuple[CodeLists | None, list[ConfigIssue]]:
    reader = _Reader(path)
    data = _read_toml(path, reader)
    if data is None:
        return None, reader.issues
    reader.unknown(data, "", frozenset({"systems", "indicator", "relationships"}))
    systems = _systems(reader, reader.table(data, "systems", ""))
    rules: list[tuple[str, CodeRule]] = []
    raw_rules = reader.value(data, "indicator", "", list, []) or []
    for i, rule in enumerate(raw_rules):
        read = _indicator(reader, rule, f"indicator[{i}]", systems)
        if read is not None:
            _warn_shadowed(reader, read, f"indicator[{i}]", rules)
            rules.append((f"indicator[{i}]", read))
    relationships: dict[str, Relationship] = {}
    for local, mapped in reader.table(data, "relationships", "").items():
        try:
            relationships[local.strip().upper()] = Relationship(mapped)
        except ValueError:
            reader.error(
                f"relationships.{local}",
                f"{mapped!r} is not a relationship ({', '.join(r.value for r in Relationship)})",
            )
    if any(i.severity == "error" for i in reader.issues):
        return None, reader.issues
    return CodeLists(systems, tuple(r for _, r in rules), relationships), reader.issues


def _load_relationships(path: Path) -> tuple[dict[str, Relationship] | None, list[ConfigIssue]]:
    """The relationship vocabulary: every word's matching key and the term it means.

    A word under two terms is an error, not a silent choice: one of them would drop or keep
    a child by accident.
    """
    reader = _Reader(path)
    data = _read_toml(path, reader)
    if data is None:
        return None, reader.issues
    reader.unknown(data, "", frozenset({"relationships"}))
    if "relationships" not in data:
        reader.error("relationships", "is required (the relationship words and codes)")
    vocabulary: dict[str, Relationship] = {word_key(r.value): r for r in Relationship}
    listed_under: dict[str, str] = {key: r.value for key, r in vocabulary.items()}
    for term_name, words in reader.table(data, "relationships", "").items():
        key = f"relationships.{term_name}"
        try:
            term = Relationship(term_name)
        except ValueError:
            reader.error(
                key,
                f"{term_name!r} is not a relationship ({', '.join(r.value for r in Relationship)})",
            )
            continue
        if not isinstance(words, list):
            reader.error(key, "must be a list of texts (the words and codes for this relationship)")
            continue
        for i, word in enumerate(words):
            if not isinstance(word, str):
                reader.error(f"{key}[{i}]", "must be text")
                continue
            match = word_key(word)
            if not match:
                reader.error(f"{key}[{i}]", "must hold a letter or a digit")
                continue
            other = listed_under.get(match)
            if other is not None and other != term.value:
                reader.error(f"{key}[{i}]", f"{word!r} is also listed under {other}")
                continue
            listed_under[match] = term.value
            vocabulary[match] = term
    if any(i.severity == "error" for i in reader.issues):
        return None, reader.issues
    return vocabulary, reader.issues


def _with_vocabulary(
    codes: CodeLists, vocabulary: dict[str, Relationship], codes_path: Path
) -> tuple[CodeLists, list[ConfigIssue]]:
    """Code lists carrying the vocabulary; a code-lists ``[relationships]`` table still counts.

    Relationship words used to live in the code lists; a trust that has not moved them yet
    keeps its own codes (they win, as before) and is told where they now belong.
    """
    issues: list[ConfigIssue] = []
    merged = dict(vocabulary)
    if codes.relationships:
        issues.append(
            ConfigIssue(
                str(codes_path),
                "relationships",
                f"relationship codes belong in the relationships file ({RELATIONSHIPS_FILE}); "
                "these are still read, and win over it",
                "warning",
            )
        )
        merged.update({word_key(local): term for local, term in codes.relationships.items()})
    return replace(codes, relationships=merged), issues


def _systems(reader: _Reader, table: dict[str, Any]) -> dict[str, str]:
    systems: dict[str, str] = {}
    for name, aliases in table.items():
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            reader.error(
                f"systems.{name}", "must be a list of texts (the system's URI and aliases)"
            )
            continue
        uri = aliases[0] if aliases else name
        for alias in [name, *aliases]:
            key = system_key(alias)
            if systems.get(key, uri) != uri:
                reader.error(f"systems.{name}", f"{alias!r} already names another system")
            systems[key] = uri
    return systems


def _indicator(reader: _Reader, rule: Any, key: str, systems: dict[str, str]) -> CodeRule | None:
    """One [[indicator]] entry, or None (with the faults recorded) when it cannot be used."""
    if not isinstance(rule, dict):
        reader.error(key, "must be a table")
        return None
    reader.unknown(rule, key, _INDICATOR_KEYS)
    kind_raw = reader.value(rule, "kind", key, str, "", required=True) or ""
    kind: IndicatorKind | None = None
    try:
        kind = IndicatorKind(kind_raw)
    except ValueError:
        if kind_raw:
            reader.error(
                f"{key}.kind",
                f"{kind_raw!r} is not an indicator kind ({', '.join(k.value for k in IndicatorKind)})",
            )
    weight_raw = reader.value(rule, "weight", key, str, "", required=True) or ""
    weight: Severity | None = None
    try:
        weight = Severity(weight_raw)
    except ValueError:
        if weight_raw:
            reader.error(
                f"{key}.weight", f"{weight_raw!r} is not a weight (info, warning, critical)"
            )
    rationale = (reader.value(rule, "rationale", key, str, "", required=True) or "").strip()
    if "rationale" in rule and isinstance(rule["rationale"], str) and not rationale:
        reader.error(f"{key}.rationale", "must say why these codes bear on children's welfare")
    elif len(rationale) > _RATIONALE_MAX:
        reader.error(f"{key}.rationale", f"must fit in {_RATIONALE_MAX} characters")
    label = (reader.value(rule, "label", key, str, "") or "").strip()
    if len(label) > _LABEL_MAX:
        reader.error(f"{key}.label", f"must fit in {_LABEL_MAX} characters")
    if kind is IndicatorKind.CHILD_PROTECTION and weight not in (None, Severity.CRITICAL):
        reader.warn(
            f"{key}.weight", "a child protection flag always gives critical; this is not used"
        )
    system_raw = reader.value(rule, "system", key, str, "", required=True) or ""
    system = systems.get(system_key(system_raw)) if system_raw else None
    if system_raw and system is None:
        reader.error(f"{key}.system", f"{system_raw!r} is not declared in [systems]")
    codes = frozenset(code_key(c) for c in reader.strings(rule, "codes", key))
    prefixes = tuple(code_key(c) for c in reader.strings(rule, "prefixes", key))
    if not codes and not prefixes:
        reader.error(key, "must give codes or prefixes")
    if kind is None or weight is None or system is None or not rationale:
        return None
    return CodeRule(kind, system, codes, prefixes, weight, rationale, label)


def _warn_shadowed(
    reader: _Reader, rule: CodeRule, key: str, earlier: list[tuple[str, CodeRule]]
) -> None:
    """Warn about codes an earlier entry already matches: the first match wins, so they are dead."""
    for before_key, before in earlier:
        if before.system != rule.system:
            continue
        hidden = sorted(
            c
            for c in (*rule.codes, *rule.prefixes)
            if c in before.codes or any(c.startswith(p) for p in before.prefixes)
        )
        if hidden:
            reader.warn(
                key,
                f"{', '.join(hidden)} never used: {before_key} matches them first "
                "(put the more specific entry first)",
            )
