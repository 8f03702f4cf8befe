"""The rules of the layout, checked on the source itself: the service is the only door to the
store, every error has one root, states and keys have one name, logs carry values only in
``extra``. Each check is first shown to catch the fault it looks for."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re

import pytest

from plugin_core.contract import ThinkFamilyError
from plugin_core.model import ContactState, ReferralStatus

from .builders import REPO
from .source_scan import log_faults, python_files, store_reaches, string_parts, tree_of, where

# The service is the only door to the store ----------------------------------------------------

NO_STORE = ("adapters", "plugin_core/outbox.py", "plugin_core/http.py")


@pytest.mark.parametrize(
    "source",
    [
        "rows = service.store.list_referrals()",
        "from plugin_core.store import open_store",
        "from plugin_core.store.records import StoredContact",
        "import plugin_core.store.base",
        "from plugin_core import store",
    ],
)
def test_store_check_catches_a_module_reaching_the_store(source: str) -> None:
    assert list(store_reaches(ast.parse(source)))


def test_adapters_the_api_shell_and_the_outbox_worker_ask_the_service_not_the_store() -> None:
    found = [
        where(path, node)
        for path in python_files(*NO_STORE)
        for node in store_reaches(tree_of(path))
    ]
    assert found == [], "ask the service for a view or a transition instead"


# One error root ------------------------------------------------------------------------------


def _error_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for root in ("plugin_core", "hooks", "adapters"):
        package = importlib.import_module(root)
        names = [root] + [m.name for m in pkgutil.walk_packages(package.__path__, f"{root}.")]
        for name in names:
            module = importlib.import_module(name)
            pending = [v for v in vars(module).values() if inspect.isclass(v)]
            while pending:
                cls = pending.pop()
                if cls.__module__ != name:
                    continue
                pending += [v for v in vars(cls).values() if inspect.isclass(v)]
                if issubclass(cls, BaseException):
                    found.append(cls)
    return found


def test_every_error_defined_by_thinkfamily_derives_from_the_error_root() -> None:
    errors = _error_classes()
    assert len(errors) > 20, "the walk should find the errors of every package"
    strays = [
        f"{e.__module__}.{e.__qualname__}" for e in errors if not issubclass(e, ThinkFamilyError)
    ]
    assert strays == []


# States are named by their enums ------------------------------------------------------------

STATES = sorted({s.value for s in ContactState} | {s.value for s in ReferralStatus})
_ALTERNATIVES = "|".join(re.escape(s) for s in STATES)
QUOTED_STATE = re.compile(rf"""['"]({_ALTERNATIVES})['"]""")


def _state_literals(tree: ast.AST) -> list[ast.AST]:
    return [
        node for node, text in string_parts(tree) if text in STATES or QUOTED_STATE.search(text)
    ]


@pytest.mark.parametrize(
    "source",
    [
        "sql = \"SELECT id FROM referrals WHERE status IN ('pending', 'failed')\"",
        "sql = f\"UPDATE referrals SET status = 'cancelled' WHERE id = {x}\"",
        "state = 'referred' if referrals else 'decided'",
    ],
)
def test_state_check_catches_a_state_written_as_text(source: str) -> None:
    assert _state_literals(ast.parse(source))


def test_store_names_contact_and_referral_states_only_through_their_enums() -> None:
    found = [
        where(path, node)
        for path in python_files("plugin_core/store")
        for node in _state_literals(tree_of(path))
    ]
    assert found == [], "pass ContactState or ReferralStatus values as SQL parameters"


# One maker of idempotency keys --------------------------------------------------------------


KEY_MAKER = REPO / "plugin_core" / "model" / "referrals.py"


def test_only_the_model_spells_the_idempotency_key_prefix() -> None:
    found = [
        where(path, node)
        for path in python_files("plugin_core", "adapters", "hooks")
        for node, text in string_parts(tree_of(path))
        if text.startswith("tf-") and path != KEY_MAKER
    ]
    assert found == [], "make keys with plugin_core.model.referral_key"


# Logs carry values only through extra --------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        'log.info(f"referral {referral.id} sent")',
        'log.warning("referral %s refused", referral.id)',
        'logger.error("failed: %s" % reason)',
        'self.log.info("sent {}".format(referral.id))',
        'logging.getLogger(__name__).info("sent to " + address)',
        'log.log(logging.INFO, "attempt %d", n)',
    ],
)
def test_log_check_catches_a_value_written_into_the_message(source: str) -> None:
    assert list(log_faults(ast.parse(source)))


def test_log_check_accepts_a_literal_message_with_extra() -> None:
    source = 'log.info("referral sent", extra={"referral_id": referral.id})'
    assert list(log_faults(ast.parse(source))) == []


def test_no_log_call_puts_a_value_into_its_message() -> None:
    found = [
        f"{where(path, node)}: {why}"
        for path in python_files("plugin_core", "adapters", "hooks", "benchmarks", "tests")
        for node, why in log_faults(tree_of(path))
    ]
    assert found == [], "pass identifiers through extra= with a fixed message"
