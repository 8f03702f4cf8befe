"""The relationships file: found beside the trust file, checked with file, key and reason."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from plugin_core.model import Relationship
from plugin_core.rules.relationships import normalise_relationship
from plugin_core.settings.issues import ConfigIssue
from plugin_core.settings.load import check_trust_config, load_trust_config

from .builders import CONFIG_DIR


def copy_example(tmp_path: Path) -> Path:
    for source in CONFIG_DIR.glob("*.toml"):
        shutil.copy(source, tmp_path / source.name)
    return tmp_path / "example-trust.toml"


def write_relationships(tmp_path: Path, body: str) -> Path:
    trust = copy_example(tmp_path)
    (tmp_path / "relationships.toml").write_text(body)
    return trust


def errors(trust: Path) -> list[tuple[str, str, str]]:
    return [
        (Path(i.file).name, i.key, i.reason)
        for i in check_trust_config(trust)
        if i.severity == "error"
    ]


class TestTheTrustFindsTheRelationshipsFile:
    def test_example_trust_names_the_relationships_file_and_loads_it(self) -> None:
        config = load_trust_config(CONFIG_DIR / "example-trust.toml")
        words = config.code_lists.relationships
        assert words["daughter"] is Relationship.CHILD
        assert words["stpdau"] is Relationship.STEPCHILD

    def test_without_the_key_the_file_beside_the_trust_file_is_read(self, tmp_path: Path) -> None:
        trust = copy_example(tmp_path)
        text = trust.read_text().replace('relationships = "relationships.toml"\n', "")
        trust.write_text(text)
        config = load_trust_config(trust)
        assert normalise_relationship("Step Daughter", config.code_lists) is Relationship.STEPCHILD

    def test_the_key_can_name_another_file(self, tmp_path: Path) -> None:
        trust = copy_example(tmp_path)
        (tmp_path / "relationships.toml").rename(tmp_path / "family-words.toml")
        trust.write_text(trust.read_text().replace('"relationships.toml"', '"family-words.toml"'))
        config = load_trust_config(trust)
        assert normalise_relationship("SONADOPT", config.code_lists) is Relationship.ADOPTED_CHILD

    def test_missing_relationships_file_is_an_error_at_the_trust_key_naming_the_file(
        self, tmp_path: Path
    ) -> None:
        trust = copy_example(tmp_path)
        (tmp_path / "relationships.toml").unlink()
        assert errors(trust) == [
            ("example-trust.toml", "trust.relationships", "file not found: 'relationships.toml'")
        ]


class TestBadEntriesAreNamedWithFileKeyAndReason:
    @pytest.mark.parametrize(
        ("body", "key", "reason"),
        [
            (
                '[relationships]\noffspring = ["bairn"]\n',
                "relationships.offspring",
                "'offspring' is not a relationship",
            ),
            ('[relationships]\nchild = "son"\n', "relationships.child", "must be a list of texts"),
            ("[relationships]\nchild = [3]\n", "relationships.child[0]", "must be text"),
            (
                '[relationships]\nchild = ["--"]\n',
                "relationships.child[0]",
                "must hold a letter or a digit",
            ),
            (
                '[relationships]\nchild = ["son"]\npartner = ["Son"]\n',
                "relationships.partner[0]",
                "'Son' is also listed under child",
            ),
            (
                '[relationships]\nchild = ["parent"]\n',
                "relationships.child[0]",
                "'parent' is also listed under parent",
            ),
            ('[relationship]\nchild = ["son"]\n', "relationships", "is required"),
            ("[relationships\n", "(file)", "not valid TOML"),
        ],
        ids=["term", "not-a-list", "not-text", "empty", "twice", "a-term", "missing", "toml"],
    )
    def test_fault_is_named(self, tmp_path: Path, body: str, key: str, reason: str) -> None:
        trust = write_relationships(tmp_path, body)
        found = errors(trust)
        assert any(
            f == "relationships.toml" and k == key and r.startswith(reason) for f, k, r in found
        ), found

    def test_every_fault_is_reported_at_once(self, tmp_path: Path) -> None:
        trust = write_relationships(
            tmp_path, '[relationships]\nkin = ["x"]\nchild = ["son", 4]\nsibling = ["SON"]\n'
        )
        assert [k for _, k, _ in errors(trust)] == [
            "relationships.kin",
            "relationships.child[1]",
            "relationships.sibling[0]",
        ]

    def test_an_unknown_top_level_table_is_warned_about(self, tmp_path: Path) -> None:
        trust = write_relationships(tmp_path, '[relationships]\nchild = ["son"]\n[extra]\na = 1\n')
        warnings = [i for i in check_trust_config(trust) if i.severity == "warning"]
        assert any(i.key == "extra" and "not a known key" in i.reason for i in warnings)


class TestOlderCodeListsTableIsStillRead:
    def test_relationships_left_in_the_code_lists_still_map_and_win_with_a_warning(
        self, tmp_path: Path
    ) -> None:
        trust = copy_example(tmp_path)
        codes = tmp_path / "codes.toml"
        codes.write_text(codes.read_text() + '\n[relationships]\nZKID = "child"\nDAU = "ward"\n')
        issues: list[ConfigIssue] = check_trust_config(trust)
        assert any(
            Path(i.file).name == "codes.toml"
            and i.key == "relationships"
            and i.severity == "warning"
            and "relationships.toml" in i.reason
            for i in issues
        )
        config = load_trust_config(trust)
        assert normalise_relationship("zkid", config.code_lists) is Relationship.CHILD
        assert normalise_relationship("DAU", config.code_lists) is Relationship.WARD

    def test_shipped_code_lists_hold_no_relationships(self) -> None:
        assert "[relationships]" not in (CONFIG_DIR / "codes.toml").read_text()
        issues = check_trust_config(CONFIG_DIR / "example-trust.toml")
        assert not any(i.key == "relationships" for i in issues)


class TestConfigCheckCommandValidatesTheRelationshipsFile:
    def run(self, script: Path, trust: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), "config", "check", str(trust)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def test_bad_relationship_term_fails_the_check_naming_file_and_key(
        self, thinkfamily_script: Path, tmp_path: Path
    ) -> None:
        trust = write_relationships(tmp_path, '[relationships]\noffspring = ["bairn"]\n')
        result = self.run(thinkfamily_script, trust)
        assert result.returncode == 1
        assert (
            f"error: {tmp_path / 'relationships.toml'}: relationships.offspring: "
            "'offspring' is not a relationship"
        ) in result.stderr

    def test_example_relationships_file_passes_the_check(
        self, thinkfamily_script: Path, tmp_path: Path
    ) -> None:
        result = self.run(thinkfamily_script, copy_example(tmp_path))
        assert result.returncode == 0, result.stderr
        assert "relationships.toml" not in result.stdout + result.stderr
