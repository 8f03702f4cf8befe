"""What counts as the same message when a control id comes again."""

from __future__ import annotations

from adapters.hl7.digest import message_digest, normalised
from tests.hl7.conftest import corpus_bytes

ORIGINAL = corpus_bytes("a01_v2_3_basic").decode()


def test_line_endings_blank_lines_and_trailing_empty_fields_do_not_make_a_message_different() -> (
    None
):
    rewritten = ORIGINAL.replace("\r", "\r\n").replace("V10001\r\n", "V10001|||\r\n\r\n") + "\n"
    assert message_digest(rewritten) == message_digest(ORIGINAL)


def test_msh7_stamped_again_on_resend_does_not_make_a_message_different() -> None:
    restamped = ORIGINAL.replace("|20260301100000||ADT^A01|", "|20260301103000||ADT^A01|")
    assert restamped != ORIGINAL
    assert message_digest(restamped) == message_digest(ORIGINAL)
    assert "|20260301" not in normalised(ORIGINAL).split("\r")[0]


def test_any_other_change_makes_a_different_message() -> None:
    for changed in (
        ORIGINAL.replace("TESTER^ALEX^J", "TESTER^ALEX^K"),
        ORIGINAL.replace("|P|2.3", "|T|2.3"),  # MSH-11, processing id
        ORIGINAL.replace("EVN|A01|20260301095500", "EVN|A01|20260301095501"),
        ORIGINAL + "NTE|1||another segment\r",
        ORIGINAL.replace("ALEX^J", "ALEX^J^"),  # a trailing component is not a field
    ):
        assert message_digest(changed) != message_digest(ORIGINAL)


def test_custom_field_separator_is_honoured_when_msh7_is_ignored() -> None:
    custom = corpus_bytes("a01_v2_8_custom_separators").decode()
    restamped = custom.replace("$20260309100000$", "$20260309111111$", 1)
    assert message_digest(restamped) == message_digest(custom)
