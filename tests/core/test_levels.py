"""The levels of need: the product's own wording, and an authority's wording read from its directory."""

from __future__ import annotations

from pathlib import Path

from plugin_core.formats.referral_content import level_text
from plugin_core.rules.levels import DEFAULT_LEVELS, DEFAULT_THRESHOLD
from plugin_core.settings.directory import read_directory

DIRECTORY = """
[police]
channel = "phone"
phone = "999"

[authorities.redbridge]
name = "Redbridge"
postcodes = ["IG1"]
front_door_name = "CPAT"
threshold_url = "https://redbridge.example/thresholds"

[authorities.redbridge.levels.2]
title = "children with additional needs"

[authorities.redbridge.routes.front_door]
channel = "phone"
phone = "020 0000 0001"
"""


def test_default_levels_cover_1_to_4_with_a_title_and_descriptor_each() -> None:
    assert sorted(DEFAULT_LEVELS) == [1, 2, 3, 4]
    assert all(w.title and w.descriptor for w in DEFAULT_LEVELS.values())
    assert [DEFAULT_THRESHOLD.level(n) for n in (1, 2, 3, 4)] == list(DEFAULT_LEVELS.values())
    assert DEFAULT_THRESHOLD.level(5) is None


def test_default_level_3_includes_disabled_children() -> None:
    assert "disabled children" in DEFAULT_LEVELS[3].descriptor


def test_default_level_4_includes_specialist_health_services_and_children_remanded_into_custody() -> (
    None
):
    descriptor = DEFAULT_LEVELS[4].descriptor
    assert "specialist health services" in descriptor
    assert "children remanded into custody" in descriptor
    assert "significant harm" in descriptor


def test_default_levels_1_and_2_are_universal_services_and_early_help() -> None:
    assert DEFAULT_LEVELS[1].title == "universal"
    assert "early help" in DEFAULT_LEVELS[2].descriptor


def test_an_authority_rewords_one_level_and_keeps_the_defaults_for_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "authorities.toml"
    path.write_text(DIRECTORY)
    directory, issues = read_directory(path)
    assert directory is not None, issues
    threshold = directory.authorities["redbridge"].threshold
    assert threshold.front_door_name == "CPAT"
    assert threshold.threshold_url == "https://redbridge.example/thresholds"
    assert level_text(2, threshold) == "Level 2: children with additional needs"
    reworded = threshold.level(2)
    assert reworded is not None and reworded.descriptor == DEFAULT_LEVELS[2].descriptor
    assert level_text(3, threshold) == "Level 3: complex needs"


def test_a_level_outside_1_to_4_or_a_threshold_link_that_is_not_a_url_is_an_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "authorities.toml"
    path.write_text(
        DIRECTORY.replace("levels.2]", "levels.5]").replace(
            "https://redbridge.example/thresholds", "redbridge thresholds"
        )
    )
    directory, issues = read_directory(path)
    assert directory is None
    errors = {(i.key, i.reason) for i in issues if i.severity == "error"}
    assert errors == {
        ("authorities.redbridge.levels.5", "is not a level of need (1, 2, 3 or 4)"),
        ("authorities.redbridge.threshold_url", "must be an http(s) URL"),
    }
