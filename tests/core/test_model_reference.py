"""docs/model-reference.md is generated from the model's dataclasses and cannot go stale."""

from __future__ import annotations

from plugin_core.model_reference import render

from .builders import REPO


def test_the_committed_model_reference_is_what_the_dataclasses_generate() -> None:
    committed = (REPO / "docs" / "model-reference.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/model-reference.md is out of date: run python -m plugin_core.model_reference"
    )


def test_the_model_reference_lists_fields_defaults_and_enumeration_values() -> None:
    page = render()
    assert "### `HouseholdMember`" in page and "### `Receipt`" in page
    assert "| `relationship` | `Relationship` | required |" in page
    assert "| `retryable` | `bool` | `True` |" in page
    assert "| `partners_child` | A child of the adult's partner" in page
    assert "### `HostChannel`" in page and "- `is_host`: True for a host's own channel" in page
    assert "### `ReferralDetails`" in page  # what referral_details gives a host channel
