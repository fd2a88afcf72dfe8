"""Telex keystrokes decoded, and the general tone-placement rule."""

from __future__ import annotations

import pytest

from opennews.vietnamese import from_telex, looks_like_telex, place_tone


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("vieetj nam", "việt nam"),
        ("dduwowngf", "đường"),
        ("hoaf binhf", "hòa bình"),
        ("quys khachs", "quý khách"),
        ("khoer", "khỏe"),
        ("nguowif", "người"),
        ("thuyr ddieenj", "thủy điện"),
        ("giaf", "già"),
        ("gif", "gì"),
        ("ngoaif", "ngoài"),
        ("toasn", "toán"),
        ("hoangf", "hoàng"),
        ("truwowngf hocj", "trường học"),
        ("Hanf Quoocs", "Hàn Quốc"),
        ("uyr ban", "ủy ban"),
    ],
)
def test_telex_words_decode(typed: str, text: str) -> None:
    assert looks_like_telex(typed)
    assert from_telex(typed) == text


def test_plain_unaccented_text_is_not_telex() -> None:
    assert not looks_like_telex("tai nan giao thong")
    assert from_telex("tai nan giao thong") == "tai nan giao thong"


def test_already_vietnamese_words_pass_through() -> None:
    assert from_telex("Hà Nội 2024") == "Hà Nội 2024"


@pytest.mark.parametrize(
    ("letters", "tone", "expected"),
    [
        ("hoa", "\u0300", "hòa"),  # open oa: first vowel (the canonical style)
        ("hoan", "\u0300", "hoàn"),  # closed: last vowel
        ("nguoi", "\u0300", "nguòi"),  # no quality mark typed: middle of three
        ("người".replace("ờ", "ơ"), "\u0300", "người"),  # quality mark wins
        ("quy", "\u0301", "quý"),  # qu- is a consonant
        ("gia", "\u0300", "già"),  # gi- is a consonant
        ("mia", "\u0301", "mía"),
        ("tiên", "\u0301", "tiến"),
    ],
)
def test_tone_placement_rule(letters: str, tone: str, expected: str) -> None:
    assert place_tone(letters, tone) == expected
