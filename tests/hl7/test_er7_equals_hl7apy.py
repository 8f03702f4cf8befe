"""The fast ER7 reader reads every corpus message exactly as hl7apy does.

Structure is compared leaf by leaf (field, repetition, component, subcomponent), escapes
included; the unescaping is proved to invert hl7apy's own escaping, on the corpus and on
generated text with default and custom separators.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hl7apy.base_datatypes import ST
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from hypothesis import assume, given
from hypothesis import strategies as st

from adapters.hl7.er7 import Er7Message, Separators

CORPUS = Path(__file__).parent / "corpus"
MESSAGES = sorted(CORPUS.glob("*.hl7"))
Leaves = dict[tuple[str, int, int, int, int, int], str]


def corpus_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def _index(name: str) -> int:
    head, _, tail = name.rpartition("_")
    return int(tail) if head and tail.isdigit() else 1


def hl7apy_parse(text: str) -> Any:
    """hl7apy's reading; it knows no 2.7.1, so that message is read with the 2.7 tables."""
    normal = text.replace("\r\n", "\r").replace("\n", "\r").replace("|2.7.1\r", "|2.7\r", 1)
    return parse_message(normal, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)


def hl7apy_leaves(text: str) -> tuple[list[str], Leaves]:
    """Non-empty leaves of hl7apy's tree as it read them, keyed by segment and position."""
    message = hl7apy_parse(text)
    names: list[str] = []
    leaves: Leaves = {}
    for s_index, segment in enumerate(message.children):
        names.append(segment.name)
        repeats: dict[int, int] = {}
        for field in segment.children:
            number = _index(field.name)
            if segment.name == "MSH" and number in (1, 2):
                continue
            repeats[number] = repeats.get(number, 0) + 1
            rep = repeats[number]
            for component in field.children:
                comp = _index(component.name)
                kids: list[Any] = list(getattr(component, "children", []))
                for sub_element in kids:
                    # the text hl7apy holds as read (to_er7 would re-escape what it does not know)
                    held = sub_element.value.value
                    value = held if isinstance(held, str) else sub_element.to_er7()
                    if value:
                        key = (segment.name, s_index, number, rep, comp, _index(sub_element.name))
                        leaves[key] = value
    return names, leaves


def our_leaves(text: str) -> tuple[list[str], Leaves]:
    message = Er7Message.parse(text)
    names: list[str] = []
    leaves: Leaves = {}
    for s_index, segment in enumerate(message.segments):
        names.append(segment.name)
        for number in range(1, len(segment.fields)):
            if segment.name == "MSH" and number in (1, 2):
                continue
            for rep, comps in enumerate(segment.tree(number), start=1):
                for comp, subs in enumerate(comps, start=1):
                    for sub, value in enumerate(subs, start=1):
                        if value:
                            leaves[(segment.name, s_index, number, rep, comp, sub)] = value
    return names, leaves


@pytest.mark.parametrize("path", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_reader_gives_hl7apy_segments_and_leaves_for_every_corpus_message(path: Path) -> None:
    text = corpus_text(path).replace("|2.7.1\r", "|2.7\r", 1)  # as hl7apy is given it
    their_names, theirs = hl7apy_leaves(text)
    our_names, ours = our_leaves(text)
    assert our_names == their_names
    assert ours == theirs


@pytest.mark.parametrize("path", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_reader_reads_declared_separators_like_hl7apy(path: Path) -> None:
    text = corpus_text(path).replace("\r\n", "\r")
    message = Er7Message.parse(text)
    theirs = hl7apy_parse(text)
    chars = theirs.encoding_chars
    seps = message.seps
    assert (seps.field, seps.component, seps.repetition, seps.escape, seps.subcomponent) == (
        chars["FIELD"],
        chars["COMPONENT"],
        chars["REPETITION"],
        chars["ESCAPE"],
        chars["SUBCOMPONENT"],
    )
    assert message.msh.field(1) == seps.field
    assert message.msh.field(2) == seps.encoding_characters


def _hl7apy_chars(seps: Separators) -> dict[str, str]:
    return {
        "FIELD": seps.field,
        "COMPONENT": seps.component,
        "SUBCOMPONENT": seps.subcomponent,
        "REPETITION": seps.repetition,
        "ESCAPE": seps.escape,
    }


def hl7apy_escape(value: str, seps: Separators) -> str:
    text: str = ST(value, validation_level=VALIDATION_LEVEL.TOLERANT).to_er7(_hl7apy_chars(seps))
    return text


_PLAIN_SEQUENCES = re.compile(r"\\(?![FSTRE]\\)")


@pytest.mark.parametrize("path", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_every_corpus_value_escapes_back_to_its_raw_text_through_hl7apy(path: Path) -> None:
    message = Er7Message.parse(corpus_text(path))
    seps = message.seps
    checked = 0
    for segment in message.segments:
        for number in range(3 if segment.name == "MSH" else 1, len(segment.fields)):
            for comps in segment.tree(number):
                for subs in comps:
                    for raw in subs:
                        escape_free = raw.replace(seps.escape, "\\")
                        if _PLAIN_SEQUENCES.search(
                            escape_free.replace("\\F\\", "")
                            .replace("\\S\\", "")
                            .replace("\\T\\", "")
                            .replace("\\R\\", "")
                            .replace("\\E\\", "")
                        ):
                            continue  # formatting or hex sequences: hl7apy writes no such text
                        assert hl7apy_escape(seps.unescape(raw), seps) == raw
                        checked += 1
    assert checked > 10


def test_corpus_covers_versions_escapes_repetitions_subcomponents_and_custom_separators() -> None:
    versions, features = set(), set()
    for path in MESSAGES:
        message = Er7Message.parse(corpus_text(path))
        versions.add(message.msh.value(12))
        text = corpus_text(path)
        seps = message.seps
        for code in "FSTREP":
            if f"{seps.escape}{code}{seps.escape}" in text:
                features.add(f"escape-{code}")
        if seps.field != "|":
            features.add("custom-separators")
        if any(len(s.repetitions(n)) > 1 for s in message.segments for n in range(3, 20)):
            features.add("repetitions")
        if seps.subcomponent in text.split("\r", 1)[1]:
            features.add("subcomponents")
    assert {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"} <= versions
    assert {
        "escape-F",
        "escape-S",
        "escape-T",
        "escape-R",
        "escape-E",
        "custom-separators",
        "repetitions",
        "subcomponents",
    } <= features


_CUSTOM = Separators(field="$", component="@", repetition="*", escape="!", subcomponent="%")
_text = st.text(alphabet=st.sampled_from(list("ab 1|^~\\&$@*!%#-.")), min_size=0, max_size=40)


@pytest.mark.parametrize("seps", [Separators(), _CUSTOM], ids=["default", "custom"])
@given(value=_text)
def test_unescape_inverts_hl7apy_escaping(seps: Separators, value: str) -> None:
    # hl7apy leaves text that already looks like an escape sequence as it is; such text
    # cannot be told apart from a sequence by any reader, so it is left out here.
    esc = re.escape(seps.escape)
    assume(not re.search(f"{esc}[HNFSTRE]{esc}", value))
    assert seps.unescape(hl7apy_escape(value, seps)) == value


@pytest.mark.parametrize("seps", [Separators(), _CUSTOM], ids=["default", "custom"])
@given(value=_text)
def test_our_escaping_reads_back_in_both_readers(seps: Separators, value: str) -> None:
    written = seps.escape_text(value)
    assert seps.unescape(written) == value
    assert not any(
        ch in written for ch in (seps.field, seps.component, seps.repetition, seps.subcomponent)
    )
