"""Small-number suppression for published counts, as NHS statistical releases do it.

A count from 1 to 4 could point to a person, so it is shown as ``<5`` (primary suppression).
Where a table publishes totals, a lone hidden count could be worked out by subtracting the
others from the total, so more counts are hidden (secondary suppression, shown as ``*``):

1. every count from 1 to 4, totals included, is hidden;
2. any row or column that has a published total and exactly one hidden entry (its total
   counted as an entry) has its smallest other non-zero entry hidden too, the inner cells
   before the total when two are equal; repeated until no such line is left;
3. the hidden entries are then checked against every published total at once (exact
   linear algebra): any hidden entry the totals still pin down, through a chain of
   subtractions across several rows and columns, has one more neighbour hidden, and the
   whole is repeated until nothing hidden can be worked out.

Totals are always the sums of the true counts, never of what is shown. Zeros are shown: a
true zero points to nobody, and hiding one would only be a last resort in step 3.
Pure functions over small integer tables; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

LOW = "<5"
"""Shown for a count from 1 to 4."""
HIDDEN = "*"
"""Shown for a count hidden so that a count below 5 cannot be worked out from the totals."""
SMALLEST_SHOWN = 5


class Mark(StrEnum):
    SHOWN = "shown"
    PRIMARY = "primary"
    SECONDARY = "secondary"


Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Grid:
    """A table with its published totals laid out as one grid.

    ``values[i][j]`` are the true counts: the inner table, then a last column of row totals
    when ``row_totals``, then a last row of column totals when ``column_totals`` (with the
    grand total in the corner when both).
    """

    values: tuple[tuple[int, ...], ...]
    row_totals: bool
    column_totals: bool

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values), len(self.values[0]) if self.values else 0

    def value(self, cell: Cell) -> int:
        return self.values[cell[0]][cell[1]]

    def is_total(self, cell: Cell) -> bool:
        rows, columns = self.shape
        return (self.row_totals and cell[1] == columns - 1) or (
            self.column_totals and cell[0] == rows - 1
        )

    def lines(self) -> list[list[Cell]]:
        """Each row and column that has a published total, its total last."""
        rows, columns = self.shape
        found: list[list[Cell]] = []
        if self.row_totals:
            found += [[(i, j) for j in range(columns)] for i in range(rows)]
        if self.column_totals:
            found += [[(i, j) for i in range(rows)] for j in range(columns)]
        return found


def with_totals(cells: Sequence[Sequence[int]], *, row_totals: bool, column_totals: bool) -> Grid:
    """The grid of ``cells`` with the totals it publishes, summed from the true counts."""
    rows = [list(r) for r in cells]
    if any(v < 0 for r in rows for v in r):
        raise ValueError("counts cannot be negative")
    if row_totals:
        rows = [[*r, sum(r)] for r in rows]
    if column_totals and rows:
        rows.append([sum(col) for col in zip(*rows, strict=True)])
    return Grid(tuple(tuple(r) for r in rows), row_totals, column_totals)


def suppress(grid: Grid) -> dict[Cell, Mark]:
    """Which entries of ``grid`` are hidden, and why; every other entry is shown."""
    rows, columns = grid.shape
    everything = [(i, j) for i in range(rows) for j in range(columns)]
    hidden: dict[Cell, Mark] = {
        c: Mark.PRIMARY for c in everything if 0 < grid.value(c) < SMALLEST_SHOWN
    }
    lines = grid.lines()
    while True:
        lone = next((ln for ln in lines if sum(c in hidden for c in ln) == 1), None)
        if lone is not None:
            pick = _smallest(grid, [c for c in lone if c not in hidden], allow_zero=True)
            if pick is None:  # a line of one entry: nothing else can hide it
                lines.remove(lone)
                continue
            hidden[pick] = Mark.SECONDARY
            continue
        found = exposed(grid, set(hidden))
        if not found:
            return {c: hidden.get(c, Mark.SHOWN) for c in everything}
        near = [c for ln in lines if found[0] in ln for c in ln if c not in hidden]
        pick = _smallest(grid, near, allow_zero=False) or _smallest(
            grid, [c for c in everything if c not in hidden], allow_zero=True
        )
        if pick is None:  # everything is hidden already; nothing can then be worked out
            return {c: hidden.get(c, Mark.SHOWN) for c in everything}
        hidden[pick] = Mark.SECONDARY


def _smallest(grid: Grid, cells: Sequence[Cell], *, allow_zero: bool) -> Cell | None:
    """The smallest non-zero entry (a zero only when allowed and nothing else is left),
    inner cells before totals, then in reading order."""
    if not cells:
        return None

    def order(c: Cell) -> tuple[bool, int, bool, Cell]:
        return (grid.value(c) == 0, grid.value(c), grid.is_total(c), c)

    best = min(cells, key=order)
    if grid.value(best) == 0 and not allow_zero:
        return None
    return best


def exposed(grid: Grid, hidden: set[Cell]) -> list[Cell]:
    """The hidden entries whose value the published entries and totals fix.

    Each line says its inner entries sum to its total. With the shown entries moved to the
    right-hand side, a hidden entry is fixed exactly when every solution of the hidden
    entries' equations without a right-hand side is zero there: in reduced row echelon form,
    its column has a pivot whose row touches no free column.
    """
    unknown = sorted(hidden)
    index = {c: k for k, c in enumerate(unknown)}
    matrix: list[list[Fraction]] = []
    for line in grid.lines():
        row = [Fraction(0)] * len(unknown)
        for c in line:
            if c in index:
                row[index[c]] = Fraction(-1 if c == line[-1] else 1)
        if any(row):
            matrix.append(row)
    pivots = reduce(matrix)
    free = [k for k in range(len(unknown)) if k not in pivots]
    return [unknown[k] for k, r in pivots.items() if all(matrix[r][f] == 0 for f in free)]


def reduce(rows: list[list[Fraction]]) -> dict[int, int]:
    """Bring ``rows`` to reduced row echelon form in place; returns pivot column to row."""
    pivots: dict[int, int] = {}
    width = len(rows[0]) if rows else 0
    for col in range(width):
        at = len(pivots)
        pivot = next((r for r in range(at, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[at], rows[pivot] = rows[pivot], rows[at]
        lead = rows[at][col]
        rows[at] = [a / lead for a in rows[at]]
        for r in range(len(rows)):
            if r != at and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[at], strict=True)]
        pivots[col] = at
    return pivots


def shown(grid: Grid, marks: dict[Cell, Mark]) -> list[list[str]]:
    """The grid as published: counts, ``<5`` or ``*``."""
    rows, columns = grid.shape
    words = {Mark.PRIMARY: LOW, Mark.SECONDARY: HIDDEN}
    return [
        [words.get(marks[(i, j)], str(grid.values[i][j])) for j in range(columns)]
        for i in range(rows)
    ]
