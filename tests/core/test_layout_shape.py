"""The shape of the layout, checked on the source itself: no module over 300 lines, and no
circle of imports, so each room can be read, and changed, without the ones that use it.
Each check is first shown to catch the fault it looks for."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from .builders import REPO
from .source_scan import python_files

ROOTS = ("plugin_core", "adapters", "hooks")

LINE_LIMIT = 300

BEING_SPLIT = frozenset(
    {
    }
)
"""Modules over the limit that are being split now; this list only ever gets shorter."""


# Module size ----------------------------------------------------------------------------------


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _too_long(
    paths: list[Path], allowed: frozenset[str] = frozenset(), root: Path = REPO
) -> list[str]:
    """Each module over the limit and not allowed, as ``path (lines)``."""
    found = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        if name not in allowed and _lines(path) > LINE_LIMIT:
            found.append(f"{name} ({_lines(path)} lines)")
    return found


def test_size_check_catches_a_module_over_the_limit(tmp_path: Path) -> None:
    (tmp_path / "long.py").write_text("x = 1\n" * (LINE_LIMIT + 1), encoding="utf-8")
    (tmp_path / "short.py").write_text("x = 1\n" * LINE_LIMIT, encoding="utf-8")
    paths = sorted(tmp_path.glob("*.py"))
    assert _too_long(paths, root=tmp_path) == [f"long.py ({LINE_LIMIT + 1} lines)"]
    assert _too_long(paths, frozenset({"long.py"}), tmp_path) == []


def test_no_module_is_over_300_lines() -> None:
    found = _too_long(python_files(*ROOTS), BEING_SPLIT)
    assert found == [], "split the module into smaller ones named for what they hold"


def test_every_module_allowed_over_the_limit_still_is() -> None:
    """A module split below the limit comes off the list, so the list only gets shorter."""
    gone = sorted(name for name in BEING_SPLIT if not (REPO / name).is_file())
    small = sorted(
        name
        for name in BEING_SPLIT
        if (REPO / name).is_file() and _lines(REPO / name) <= LINE_LIMIT
    )
    assert (gone, small) == ([], []), "take these off BEING_SPLIT"


# Import circles --------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.Module, module: str, is_package: bool) -> Iterator[str]:
    """Every name imported when the module runs, at its top or inside a function; imports
    under ``if TYPE_CHECKING:`` serve the type checker only and are left out."""
    package = module if is_package else module.rpartition(".")[0]
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending += node.orelse
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            yield from (f"{base}.{alias.name}" for alias in node.names)
        else:
            pending += ast.iter_child_nodes(node)


def _import_graph(sources: Mapping[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the modules of ``sources`` it names in an import, from each module's (source,
    is package). The packages above a module, which Python runs first, are not counted: a
    package that gathers its modules' names is no circle."""
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in sources.items():
        targets = set()
        for name in _imported(ast.parse(source), module, is_package):
            while name and name not in sources:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def _circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Each circle of imports: the modules that reach one another, sorted (Tarjan's method)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            members = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(members) > 1:
                found.append(sorted(members))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("from pkg.b import thing", "from pkg.a import other"),
        ("import pkg.b", "def later() -> None:\n    from pkg import a"),
        ("from pkg import b", "class C:\n    import pkg.a as a"),
    ],
)
def test_circle_check_catches_two_modules_importing_each_other(a: str, b: str) -> None:
    sources = {"pkg": ("", True), "pkg.a": (a, False), "pkg.b": (b, False)}
    assert _circles(_import_graph(sources)) == [["pkg.a", "pkg.b"]]


def test_circle_check_leaves_out_imports_for_the_type_checker_and_package_parents() -> None:
    sources = {
        "pkg": ("from pkg.a import thing", True),
        "pkg.a": ("from pkg.b import other", False),
        "pkg.b": ("if TYPE_CHECKING:\n    from pkg.a import thing\nfrom . import c", False),
        "pkg.c": ("x = 1", False),
    }
    graph = _import_graph(sources)
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": set()}
    assert _circles(graph) == []
    sources["pkg.c"] = ("from .a import thing", False)
    assert _circles(_import_graph(sources)) == [["pkg.a", "pkg.b", "pkg.c"]]


def _project_graph() -> dict[str, set[str]]:
    sources = {
        _module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in python_files(*ROOTS)
    }
    return _import_graph(sources)


def test_no_circle_of_imports_among_the_modules() -> None:
    graph = _project_graph()
    assert len(graph) > 100 and graph["plugin_core.cli"], "the walk should find every module"
    assert _circles(graph) == [], "move what both modules need into a third, lower one"


# Upward arrows ---------------------------------------------------------------------------------

MODEL = "plugin_core.model"
BENEATH_THE_MODEL = frozenset({"plugin_core.model_checks", "plugin_core.errors"})


def _reaching_up(graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """Each module of the model that imports a module of ours outside the model and beneath it."""
    inside = {m for m in graph if m == MODEL or m.startswith(f"{MODEL}.")} | BENEATH_THE_MODEL
    return {m: sorted(graph[m] - inside) for m in sorted(inside) if graph.get(m, set()) - inside}


def test_arrow_check_catches_the_model_importing_a_rule() -> None:
    graph = {
        MODEL: {f"{MODEL}.a"},
        f"{MODEL}.a": {"plugin_core.rules.levels", "plugin_core.errors"},
    }
    assert _reaching_up(graph) == {f"{MODEL}.a": ["plugin_core.rules.levels"]}


def test_the_model_imports_nothing_of_ours_but_its_checks_and_the_error_root() -> None:
    assert _reaching_up(_project_graph()) == {}, "rules, formats and the rest import the model"
