"""Every section is checked by its model, the adapters' and a host plugin's alike, and
``config check`` lists every fault in every section at once (file, key, reason)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import BaseModel

from hooks import hookimpl
from plugin_core.cli import main
from plugin_core.contract import PluginContext, PluginError
from plugin_core.host.check import check_configuration
from plugin_core.host.engine import ThinkFamily
from plugin_core.host.plugins import DISABLED_ENV
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.issues import ConfigError, ConfigIssue
from plugin_core.settings.load import load_trust_config
from plugin_core.settings.section import Port, Section

from .builders import CONFIG_DIR
from .installed import install


class AcmeSection(Section):
    """A host plugin's own section."""

    url: str = "https://acme.example.test"
    port: Port = 443


class Acme:
    def __init__(self) -> None:
        self.configured = 0

    @hookimpl
    def thinkfamily_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"acme": AcmeSection}

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.settings = AcmeSection.model_validate(context.config.section("acme"))
        self.configured += 1


def copy_example(tmp_path: Path) -> Path:
    for source in CONFIG_DIR.glob("*.toml"):
        shutil.copy(source, tmp_path / source.name)
    return tmp_path / "example-trust.toml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the example no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def shown(issues: list[ConfigIssue]) -> list[tuple[str, str, str, str]]:
    return [(Path(i.file).name, i.key, i.reason, i.severity) for i in issues]


def errors(issues: list[ConfigIssue]) -> list[tuple[str, str]]:
    return [(Path(i.file).name, i.key) for i in issues if i.severity == "error"]


# A fault in every section ---------------------------------------------------------------------

ONE_FAULT_EACH = [
    ("example-trust.toml", "recheck_days = 90", 'recheck_days = "ninety"', "trust.recheck_days"),
    (
        "example-trust.toml",
        "urgent_ack_minutes = 60",
        "urgent_ack_minutes = -5",
        "urgency.urgent_ack_minutes",
    ),
    (
        "example-trust.toml",
        'email = "safeguarding@example-trust.nhs.uk"',
        'email = "safeguarding"',
        "safeguarding.lead.email",
    ),
    (
        "example-trust.toml",
        '# "record-household"',
        '"consider-everything" = "Ask."\n# "record-household"',
        "wording.consider-everything",
    ),
    ("example-trust.toml", "http_port = 8080", "http_port = 99999", "service.http_port"),
    ("example-trust.toml", 'token_env = "THINKFAMILY_API_TOKEN"', 'token = "s3cret"', "api.token"),
    ("example-trust.toml", "[api]", "[plugins]\nenabled = []\n\n[api]", "plugins.enabled"),
    ("example-trust.toml", "poll_seconds = 1.0", "poll_seconds = -1", "outbox.poll_seconds"),
    ("example-trust.toml", "smtp_port = 25", 'smtp_port = "twenty-five"', "email.smtp_port"),
    (
        "example-trust.toml",
        "link_ttl_minutes = 720",
        "link_ttl_minutes = 0",
        "web.link_ttl_minutes",
    ),
    ("example-trust.toml", "max_connections = 64", "max_connections = 0", "hl7.max_connections"),
    ("example-trust.toml", 'auth = "none"', 'auth = "magic"', "fhir.auth"),
    (
        "authorities.toml",
        'channel = "email"',
        'channel = "pigeon"',
        "authorities.redbridge.routes.front_door.channel",
    ),
    (
        "codes.toml",
        'system = "local"\ncodes = ["DA"',
        'system = "read2"\ncodes = ["DA"',
        "indicator[19].system",
    ),
    (
        "relationships.toml",
        "[relationships]\n",
        '[relationships]\noffspring = ["bairn"]\n',
        "relationships.offspring",
    ),
]


def faulty_everywhere(tmp_path: Path) -> Path:
    trust = copy_example(tmp_path)
    for name, old, new, _ in ONE_FAULT_EACH:
        edit(tmp_path / name, old, new)
    return trust


def test_a_fault_in_every_section_is_listed_and_config_check_exits_1(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    trust = faulty_everywhere(tmp_path)
    result = subprocess.run(
        [str(thinkfamily_script), "config", "check", str(trust)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    for name, _, _, key in ONE_FAULT_EACH:
        assert any(line.startswith(f"error: {tmp_path / name}: {key}: ") for line in lines), key
    assert len(lines) == len(ONE_FAULT_EACH), lines
    assert f"{len(ONE_FAULT_EACH)} error(s) in {trust}" in result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr


def test_a_host_plugins_section_is_listed_with_the_faults_of_every_other_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(monkeypatch, {"acme-ehr": Acme()})
    trust = faulty_everywhere(tmp_path)
    trust.write_text(trust.read_text() + "\n[acme]\nport = 70000\nurl = 5\n")
    assert main(["config", "check", str(trust)]) == 1
    err = capsys.readouterr().err
    assert f"error: {trust}: acme.port: must be a port number from 1 to 65535" in err
    assert f"error: {trust}: acme.url: must be text" in err
    assert f"{len(ONE_FAULT_EACH) + 2} error(s) in {trust}" in err


# The hook -------------------------------------------------------------------------------------


def test_thinkfamily_config_sections_of_an_installed_plugin_are_checked_before_it_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = Acme()
    install(monkeypatch, {"acme-ehr": acme})
    trust = copy_example(tmp_path)
    trust.write_text(trust.read_text() + "\n[acme]\nport = 0\n")
    with pytest.raises(ConfigError) as caught:
        ThinkFamily(load_trust_config(trust))
    assert [(i.key, i.reason) for i in caught.value.issues] == [
        ("acme.port", "must be a port number from 1 to 65535")
    ]
    assert acme.configured == 0  # no plugin is configured while a section has an error


def test_a_valid_host_section_is_read_by_its_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = Acme()
    install(monkeypatch, {"acme-ehr": acme})
    trust = copy_example(tmp_path)
    trust.write_text(trust.read_text() + "\n[acme]\nport = 8443\n")
    ThinkFamily(load_trust_config(trust))
    assert acme.settings.port == 8443 and acme.configured == 1
    assert shown(check_configuration(trust)) == shown(
        check_configuration(CONFIG_DIR / "example-trust.toml")
    )


def test_a_host_section_is_checked_even_when_the_core_sections_have_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, {"acme-ehr": Acme()})
    trust = copy_example(tmp_path)
    edit(trust, "recheck_days = 90", "recheck_days = 0")
    trust.write_text(trust.read_text() + "\n[acme]\nport = true\n")
    assert errors(check_configuration(trust)) == [
        ("example-trust.toml", "trust.recheck_days"),
        ("example-trust.toml", "acme.port"),
    ]


def test_a_table_no_loaded_plugin_reads_is_a_warning(tmp_path: Path) -> None:
    trust = copy_example(tmp_path)
    trust.write_text(trust.read_text() + '\n[emial]\nsmtp_host = "relay"\n')
    issues = check_configuration(trust, entry_points=False)
    assert errors(issues) == []
    (unclaimed,) = [i for i in issues if i.key == "emial"]
    assert unclaimed.severity == "warning"
    assert unclaimed.reason.startswith("is not a section any loaded plugin reads")


def test_the_section_of_a_disabled_plugin_is_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_ENV, "adapters.email.plugin")
    trust = copy_example(tmp_path)
    edit(trust, "smtp_port = 25", 'smtp_port = "twenty-five"')
    issues = check_configuration(trust, entry_points=False)
    assert errors(issues) == []
    assert [i.key for i in issues if i.key == "email"] == ["email"]  # a warning only


def test_a_section_model_of_the_wrong_type_names_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Wrong:
        @hookimpl
        def thinkfamily_config_sections(self) -> object:
            return {"acme": dict}

    install(monkeypatch, {"acme-ehr": Wrong()})
    (issue,) = [i for i in check_configuration(copy_example(tmp_path)) if i.severity == "error"]
    assert issue.key == "(plugins)" and "acme-ehr" in issue.reason
    with pytest.raises(PluginError, match="acme-ehr"):
        ThinkFamily(load_trust_config(copy_example(tmp_path)))


# Configuring: every plugin, every fault -------------------------------------------------------


class Refuses:
    def __init__(self, key: str) -> None:
        self.key = key

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        raise ConfigError([ConfigIssue(str(context.config.path), self.key, "is not usable")])


class Crashes:
    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        int(context.config.section("acme").get("port", "not a number"))


def test_every_plugin_is_configured_and_all_their_faults_are_raised_together(
    config: TrustConfig,
) -> None:
    plugins = [("one", Refuses("one.key")), ("two", Refuses("two.key")), ("three", Crashes())]
    with pytest.raises(ConfigError) as caught:
        ThinkFamily(config, entry_points=False, extra=plugins)
    found = {i.key: i.reason for i in caught.value.issues}
    assert found == {
        "one.key": "is not usable",
        "two.key": "is not usable",
        "(plugin three)": "raised ValueError",
    }


def test_config_check_lists_every_plugins_configure_faults_without_a_traceback(
    tmp_path: Path,
) -> None:
    trust = copy_example(tmp_path)
    extra = [("one", Refuses("one.key")), ("three", Crashes())]
    issues = check_configuration(trust, entry_points=False, extra=extra)
    assert errors(issues) == [
        ("example-trust.toml", "(plugin three)"),
        ("example-trust.toml", "one.key"),
    ]
