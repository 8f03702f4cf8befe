"""A call answered again for the same contact is sent the bytes a fresh answer would be.

``adapters.fhir.cds.answers`` keeps recent answers by what names their cards; these tests prove
a kept answer equal to building the cards and rendering them as Starlette's ``JSONResponse``
does, and that a change to the assessment shown, the level-of-need wording or any part of the
name builds the answer afresh.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.responses import JSONResponse

from adapters.fhir.cds.answers import RepeatAnswers, encode
from adapters.fhir.cds.cards import build_cards
from adapters.fhir.settings import read_fhir_settings
from plugin_core.model import Assessment
from plugin_core.rules.levels import with_overrides
from plugin_core.settings.load import load_trust_config
from tests.fhir.outbound_scene import scene

SETTINGS = read_fhir_settings(load_trust_config())
THRESHOLD = with_overrides(
    {3: ("children with complex multiple needs", "")},
    "CPAT",
    "https://redbridge.example/thresholds",
)
NAMES: list[tuple[str, str, str | None, str | None]] = [
    ("hook-1", "pat-1", "enc-1", None),
    ("hook-2", "pat-1", None, None),
    ("hook-1", "pat-2", "enc-1", "https://tf.example.test/form/c-1?sig=abc"),
]


class Built:
    def __init__(self) -> None:
        self.count = 0

    def cards(
        self, shown: Assessment, name: tuple[str, str, str | None, str | None], threshold: Any
    ) -> Any:
        def build() -> list[dict[str, Any]]:
            self.count += 1
            return fresh(shown, name, threshold)

        return build


def fresh(
    shown: Assessment, name: tuple[str, str, str | None, str | None], threshold: Any
) -> list[dict[str, Any]]:
    hook_instance, patient_id, encounter_id, link = name
    return build_cards(
        shown,
        SETTINGS,
        hook_instance=hook_instance,
        patient_id=patient_id,
        encounter_id=encounter_id,
        signed_form_link=link,
        threshold=threshold,
    )


def test_an_answer_given_again_is_the_response_a_fresh_answer_would_be() -> None:
    shown = scene().assessment
    assert shown.prompts
    answers, built = RepeatAnswers(), Built()
    for name in NAMES:
        for threshold in (None, THRESHOLD):
            expected = JSONResponse({"cards": fresh(shown, name, threshold)}).body
            for _ in range(3):
                found = answers.answer(shown, threshold, name, built.cards(shown, name, threshold))
                assert found.body == expected
                assert found.cards == len(shown.prompts)
    assert built.count == len(NAMES) * 2  # built once for each, then kept


def test_a_changed_assessment_wording_or_name_is_answered_afresh() -> None:
    shown = scene().assessment
    answers, built = RepeatAnswers(), Built()
    name = NAMES[0]
    answers.answer(shown, None, name, built.cards(shown, name, None))
    fewer = replace(shown, prompts=shown.prompts[:1])
    for changed, threshold in ((fewer, None), (fewer, THRESHOLD), (shown, THRESHOLD)):
        found = answers.answer(changed, threshold, name, built.cards(changed, name, threshold))
        assert found.body == JSONResponse({"cards": fresh(changed, name, threshold)}).body
    assert built.count == 4
    other = ("hook-1", "pat-1", "enc-1", "https://tf.example.test/form/c-1?sig=new")
    answers.answer(shown, None, other, built.cards(shown, other, None))
    assert built.count == 5


def test_answers_are_encoded_as_starlette_encodes_json() -> None:
    corpus: list[Any] = [
        {"cards": []},
        {"cards": [{"summary": "Ask about children — naïve café 子", "n": 1.5, "ok": True}]},
        {"nested": {"a": [None, 0, -1, 1e-7, "\u2028", '\\"quoted"']}},
    ]
    for content in corpus:
        assert encode(content) == JSONResponse(content).body


def test_only_the_most_recent_answers_are_kept() -> None:
    shown = scene().assessment
    answers, built = RepeatAnswers(keep=2), Built()
    for name in NAMES:
        answers.answer(shown, None, name, built.cards(shown, name, None))
    assert len(answers) == 2
    answers.answer(shown, None, NAMES[0], built.cards(shown, NAMES[0], None))  # forgotten
    answers.answer(shown, None, NAMES[2], built.cards(shown, NAMES[2], None))  # kept
    assert built.count == 4
