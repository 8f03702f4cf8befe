"""The rules stay pure: they read the model and small frozen rule inputs, never the trust file's
settings, the store, the service, the plugin host or an adapter. The check is first shown to
catch each way of importing one of them."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest

from .source_scan import python_files, tree_of, where

RULES = "plugin_core/rules"
RULES_PACKAGE = "plugin_core.rules"
FORBIDDEN = (
    "plugin_core.settings",
    "plugin_core.store",
    "plugin_core.service",
    "plugin_core.host",
    "adapters",
)


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f"{f}.") for f in FORBIDDEN)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an import-from names, with a relative import resolved against ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def forbidden_imports(tree: ast.AST, package: str = RULES_PACKAGE) -> Iterator[ast.AST]:
    """Each import, anywhere in the module, of a room the rules must not depend on."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(_forbidden(alias.name) for alias in node.names):
                yield node
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            named = [f"{module}.{alias.name}" for alias in node.names]
            if _forbidden(module) or any(_forbidden(n) for n in named):
                yield node


@pytest.mark.parametrize(
    "source",
    [
        "from plugin_core.settings.config import TrustConfig",
        "from plugin_core.settings import code_lists",
        "from plugin_core import settings",
        "import plugin_core.store.base",
        "from plugin_core.service.base import ServiceBase",
        "from plugin_core.host.engine import ThinkFamily",
        "from adapters.fhir.mapping import to_contact",
        "import adapters",
        "from ..settings.config import TrustConfig",
        "from .. import host",
        "def late():\n    from plugin_core.store import open_store\n",
    ],
)
def test_rules_import_check_catches_each_way_of_reaching_another_room(source: str) -> None:
    assert list(forbidden_imports(ast.parse(source)))


@pytest.mark.parametrize(
    "source",
    [
        "from plugin_core.model import Decision",
        "from plugin_core.rules.code_lists import CodeLists",
        "from .trust_rules import TrustRules",
        "from plugin_core.errors import ThinkFamilyError",
        "from plugin_core import model",
    ],
)
def test_rules_import_check_accepts_the_model_and_the_rules_themselves(source: str) -> None:
    assert list(forbidden_imports(ast.parse(source))) == []


def test_rules_import_nothing_from_settings_store_service_host_or_adapters() -> None:
    paths = python_files(RULES)
    assert len(paths) > 10, "the scan should find every rule module"
    found = [where(path, node) for path in paths for node in forbidden_imports(tree_of(path))]
    assert found == [], "give the rule a small frozen input in rules/ that the service builds"
