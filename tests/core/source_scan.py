"""Reading the project's own source as syntax trees, for the tests that guard its layout."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from .builders import REPO

SKIPPED = {"node_modules", "__pycache__", ".venv"}
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)


def python_files(*roots: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        base = REPO / root
        paths = [base] if base.is_file() else sorted(base.rglob("*.py"))
        found += [p for p in paths if not SKIPPED & set(p.relative_to(REPO).parts)]
    return found


def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"


# The store --------------------------------------------------------------------------------------


def store_reaches(tree: ast.AST) -> Iterator[ast.AST]:
    """Each place that touches ``.store`` or imports ``plugin_core.store``."""
    for node in ast.walk(tree):
        if _reaches_store(node):
            yield node


def _reaches_store(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "store"
    if isinstance(node, ast.Import):
        return any(_is_store(alias.name) for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return _imports_store(node)
    return False


def _imports_store(node: ast.ImportFrom) -> bool:
    if node.module is None:
        return False
    if node.module == "plugin_core":
        return any(alias.name == "store" for alias in node.names)
    return _is_store(node.module)


def _is_store(module: str) -> bool:
    return module == "plugin_core.store" or module.startswith("plugin_core.store.")


# Strings ----------------------------------------------------------------------------------------


def string_parts(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every literal piece of text: plain strings and the fixed parts of f-strings."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node, node.value


# Logging ----------------------------------------------------------------------------------------


def log_faults(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Logging calls whose message is not a plain literal, or that pass positional values."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_logger_call(node.func)):
            continue
        assert isinstance(node.func, ast.Attribute)
        args = node.args[1:] if node.func.attr == "log" else node.args
        if not args:
            continue
        message = args[0]
        if isinstance(message, ast.JoinedStr):
            yield node, "the message is an f-string"
        elif isinstance(message, ast.BinOp) and isinstance(message.op, ast.Mod):
            yield node, "the message uses % formatting"
        elif (
            isinstance(message, ast.Call)
            and isinstance(message.func, ast.Attribute)
            and message.func.attr == "format"
        ):
            yield node, "the message uses .format"
        elif not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            yield node, "the message is not a plain literal"
        if len(args) > 1:
            yield node, "values are passed as positional arguments"


def _is_logger_call(func: ast.expr) -> bool:
    if not (isinstance(func, ast.Attribute) and func.attr in LOG_METHODS):
        return False
    receiver = func.value
    if isinstance(receiver, ast.Name):
        return "log" in receiver.id.lower()
    if isinstance(receiver, ast.Attribute):
        return "log" in receiver.attr.lower()
    if isinstance(receiver, ast.Call):
        called = receiver.func
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        return name == "getLogger"
    return False
