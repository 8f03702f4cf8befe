"""The checks made when a decision is recorded find the contact's decisions by its id: their
cost does not grow with the number of decisions stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plugin_core.store import open_store
from plugin_core.store.base import Tx


def test_the_checks_before_a_decision_read_no_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'tf.db'}")
    asked: list[tuple[str, tuple[Any, ...]]] = []
    one = Tx.one

    def noted(tx: Tx, sql: str, params: Any = ()) -> Any:
        asked.append((sql, tuple(params)))
        return one(tx, sql, params)

    monkeypatch.setattr(Tx, "one", noted)
    assert store.before_decision("d-1", "c-1") == (None, False, None)
    assert store.current_decision("c-1") is None
    monkeypatch.undo()
    assert len(asked) == 2
    with store.reading() as tx:
        for sql, params in asked:
            plan = [str(row[3]) for row in tx.all(f"EXPLAIN QUERY PLAN {sql}", params)]
            assert any("decisions_contact" in step for step in plan), plan
            assert not any(step.startswith("SCAN") for step in plan), plan
    store.shutdown()
