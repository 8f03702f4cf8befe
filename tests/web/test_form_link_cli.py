"""``thinkfamily form-link``: an integrator's signed link from the command line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from plugin_core import cli
from plugin_core.links import check
from tests.peers.service import write_trust_config

from .conftest import NURSE, SECRET, SECRET_ENV, web_toml


def test_form_link_prints_a_link_signed_for_the_professional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = write_trust_config(tmp_path, extra_toml=web_toml(base_url="https://tf.example"))
    code = cli.main(["form-link", "hl7:EPR|1", "--professional", NURSE, "--config", str(config)])
    assert code == 0
    url = urlsplit(capsys.readouterr().out.strip())
    assert url.netloc == "tf.example" and url.path == "/form/hl7%3AEPR%7C1"
    assert check(parse_qs(url.query)["t"][0], "hl7:EPR|1", secret_env=SECRET_ENV) == NURSE


def test_form_link_without_the_secret_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    config = write_trust_config(tmp_path, extra_toml=web_toml(base_url="https://tf.example"))
    code = cli.main(["form-link", "c-1", "--professional", NURSE, "--config", str(config)])
    assert code == 2
    assert SECRET_ENV in capsys.readouterr().err


def test_form_link_without_a_base_url_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = write_trust_config(tmp_path, extra_toml=web_toml())
    code = cli.main(["form-link", "c-1", "--professional", NURSE, "--config", str(config)])
    assert code == 2
    assert "[web] base_url" in capsys.readouterr().err
