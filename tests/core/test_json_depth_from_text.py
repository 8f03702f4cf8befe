"""Nesting read from the JSON text equals nesting walked on the parsed document."""

from __future__ import annotations

import json
import random
from typing import Any

from plugin_core.http import JsonRefused, _deeper_than, parse_json
from plugin_core.json_depth import text_deeper_than

AWKWARD = [
    "[",
    "]",
    "{",
    "}",
    '"',
    "\\",
    '\\"',
    '"]',
    "\\\\",
    "\u00e9[",
    "\U0001f600{",
    "\n]",
    "\t",
]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 0 and roll < 0.35:
        return [_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    if depth > 0 and roll < 0.7:
        return {_text(rng): _value(rng, depth - 1) for _ in range(rng.randint(0, 4))}
    return rng.choice([_text(rng), rng.randint(-5, 10**6), 1.5, True, False, None])


def _text(rng: random.Random) -> str:
    return "".join(rng.choice([*AWKWARD, "a", "b c", "1"]) for _ in range(rng.randint(0, 6)))


def corpus() -> list[bytes]:
    rng = random.Random(14)
    texts: list[bytes] = [b"[]", b"{}", b'"[[["', b"1", b'{"a": "\\\\"}', b"[" * 70 + b"]" * 70]
    for _ in range(600):
        doc = _value(rng, rng.randint(0, 14))
        texts.append(json.dumps(doc).encode())
        texts.append(json.dumps(doc, ensure_ascii=False, indent=rng.choice([None, 1])).encode())
    return texts


def test_depth_read_from_the_text_equals_depth_walked_on_the_document() -> None:
    deep = 0
    for text in corpus():
        doc = json.loads(text)
        for limit in (1, 2, 3, 5, 8, 13, 64):
            walked = _deeper_than(doc, limit)
            assert text_deeper_than(text, limit) is walked, (text[:120], limit)
            deep += walked
    assert deep > 1000  # both answers are exercised


def test_text_in_utf16_is_left_to_the_walk() -> None:
    text = json.dumps([[["x"]]]).encode("utf-16")
    assert text_deeper_than(text, 1) is None
    try:
        parse_json(text, max_depth=2)
    except JsonRefused as exc:
        assert exc.too_deep
    else:
        raise AssertionError("a body nested three deep passed a limit of two")
