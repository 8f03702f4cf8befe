"""Small-number suppression: counts from 1 to 4 are hidden, and so is whatever else a total
would give them away by."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from plugin_core.rules.small_numbers import (
    HIDDEN,
    LOW,
    Grid,
    Mark,
    shown,
    suppress,
    with_totals,
)


def publish(cells: list[list[int]], *, rows: bool = True, columns: bool = True) -> list[list[str]]:
    grid = with_totals(cells, row_totals=rows, column_totals=columns)
    return shown(grid, suppress(grid))


def test_a_count_from_1_to_4_is_shown_as_less_than_5_and_zero_and_5_are_shown() -> None:
    assert publish([[0, 1, 4, 5, 40]], rows=False, columns=False) == [["0", LOW, LOW, "5", "40"]]


def test_a_lone_small_count_in_a_row_hides_the_next_smallest_cell_of_the_row() -> None:
    assert publish([[3, 10, 12]], columns=False) == [[LOW, HIDDEN, "12", "25"]]


def test_a_lone_small_count_in_a_column_hides_the_next_smallest_cell_of_the_column() -> None:
    assert publish([[3], [30], [9]], rows=False) == [[LOW], ["30"], [HIDDEN], ["42"]]


def test_secondary_suppression_goes_on_until_no_row_or_column_has_one_hidden_entry() -> None:
    published = publish([[3, 10, 12], [20, 30, 40]])
    # 3 hides 10 in its row; 10 and 3 then stand alone in their columns, hiding 30 and 20.
    assert published == [
        [LOW, HIDDEN, "12", "25"],
        [HIDDEN, HIDDEN, "40", "90"],
        ["23", "40", "52", "115"],
    ]


def test_a_total_from_1_to_4_is_hidden_too() -> None:
    assert publish([[2, 0]], columns=False) == [[LOW, "0", LOW]]


def test_totals_are_sums_of_the_true_counts() -> None:
    assert publish([[3, 3, 20]], columns=False)[0][-1] == "26"


def test_a_chain_across_rows_and_columns_cannot_pin_a_hidden_count() -> None:
    # After the row-and-column rule every line has two hidden entries or none, yet adding and
    # subtracting several rows and columns would still pin the 7 of the third row unless more
    # is hidden: the check over all totals at once catches it.
    cells = [[3, 30, 9], [9, 6, 0], [7, 5, 0], [0, 1, 0]]
    grid = with_totals(cells, row_totals=True, column_totals=True)
    marks = suppress(grid)
    assert not pinned(grid, {c for c, m in marks.items() if m is not Mark.SHOWN})


# The property: nothing hidden can be worked out -----------------------------------------------


def pinned(grid: Grid, hidden: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Hidden entries fixed by the shown ones and the totals: for each, whether some solution
    of the totals' equations over the hidden entries (with nothing on the right) moves it.
    Worked out independently of the module, by elimination over the augmented system."""
    unknown = sorted(hidden)
    rows_n, cols_n = grid.shape
    equations: list[list[Fraction]] = []
    lines = []
    if grid.row_totals:
        lines += [[(i, j) for j in range(cols_n)] for i in range(rows_n)]
    if grid.column_totals:
        lines += [[(i, j) for i in range(rows_n)] for j in range(cols_n)]
    for line in lines:
        equations.append(
            [Fraction(-1 if c == line[-1] else 1) if c in line else Fraction(0) for c in unknown]
        )
    fixed = []
    for k, cell in enumerate(unknown):
        # Fixed exactly when the unit vector e_k is a combination of the equations.
        target = [Fraction(int(i == k)) for i in range(len(unknown))]
        if in_row_space(equations, target):
            fixed.append(cell)
    return fixed


def in_row_space(rows: list[list[Fraction]], target: list[Fraction]) -> bool:
    basis: list[list[Fraction]] = []
    for row in [*rows, target]:
        vec = list(row)
        for b in basis:
            lead = next(i for i, x in enumerate(b) if x != 0)
            if vec[lead] != 0:
                factor = vec[lead] / b[lead]
                vec = [x - factor * y for x, y in zip(vec, b, strict=True)]
        if any(vec):
            if row is target:
                return False
            basis.append(vec)
    return True


small_counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=300, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    data=st.data(),
    rows=st.booleans(),
    columns=st.booleans(),
)
def test_no_hidden_count_can_be_recovered_from_the_totals_and_other_cells(
    shape: tuple[int, int], data: st.DataObject, rows: bool, columns: bool
) -> None:
    cells = [[data.draw(small_counts) for _ in range(shape[1])] for _ in range(shape[0])]
    grid = with_totals(cells, row_totals=rows, column_totals=columns)
    marks = suppress(grid)
    hidden = {c for c, m in marks.items() if m is not Mark.SHOWN}
    published = shown(grid, marks)
    for (i, j), mark in marks.items():
        value = grid.values[i][j]
        assert (mark is Mark.PRIMARY) == (1 <= value <= 4)
        if mark is Mark.SHOWN:
            assert published[i][j] == str(value)
    # By one subtraction: no row or column with a published total has one hidden entry.
    for line in grid.lines():
        assert sum(c in hidden for c in line) != 1
    # By any chain of subtractions: no hidden count is fixed by what is published.
    assert [c for c in pinned(grid, hidden) if grid.value(c) > 0] == []


def test_every_small_two_by_two_table_with_totals_keeps_its_small_counts_hidden() -> None:
    for values in product((0, 1, 3, 5, 12), repeat=4):
        cells = [list(values[:2]), list(values[2:])]
        grid = with_totals(cells, row_totals=True, column_totals=True)
        marks = suppress(grid)
        hidden = {c for c, m in marks.items() if m is not Mark.SHOWN}
        assert not [c for c in pinned(grid, hidden) if 1 <= grid.value(c) <= 4]
