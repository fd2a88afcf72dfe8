"""The Vietnamese text layer: clean-up, NFC with mark order, tones, folding, tokens, bidi controls."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opennews.vietnamese import (
    balance_bidi,
    canonical_tones,
    clean,
    compose,
    fold,
    has_marks,
    is_combining,
    isolate,
    needs_isolation,
    normalize,
    place_tones,
    strip_bidi,
    syllables,
    tokenize,
)
from opennews.vietnamese.bidi import BIDI_CONTROLS, FSI, PDF, PDI

# The 15 oa/oe/uy pairs, first-vowel style -> second-vowel style (docs/vietnamese-search.md §3.2).
PAIRS = [
    ("hòa", "hoà"),
    ("hóa", "hoá"),
    ("hỏa", "hoả"),
    ("lõa", "loã"),
    ("họa", "hoạ"),
    ("nhòe", "nhoè"),
    ("khóe", "khoé"),
    ("khỏe", "khoẻ"),
    ("õe", "oẽ"),
    ("ọe", "oẹ"),
    ("thùy", "thuỳ"),
    ("úy", "uý"),
    ("thủy", "thuỷ"),
    ("lũy", "luỹ"),
    ("thụy", "thuỵ"),
]
UNTOUCHED = [
    "hoàn",
    "hoàng",
    "hoạch",
    "toán",
    "khoét",
    "thuyết",
    "quyết",
    "huých",
    "ngoài",
    "xoáy",
    "khuấy",
    "khuỷu",
    "quý",
    "quỳ",
    "quỳnh",
    "quỷ",
    "quỹ",
    "quỵ",
    "quả",
    "quà",
    "quạ",
    "què",
    "quẻ",
    "già",
    "giữ",
    "giúp",
    "mía",
    "kìa",
]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_each_pair_converts_both_ways(first: str, second: str) -> None:
    assert place_tones(second, "first") == first
    assert place_tones(first, "second") == second
    assert place_tones(second.upper(), "first") == first.upper()
    assert place_tones(first.capitalize(), "second") == second.capitalize()
    assert canonical_tones(second) == canonical_tones(first) == first


@pytest.mark.parametrize("word", UNTOUCHED)
def test_closed_syllables_qu_and_gi_never_change(word: str) -> None:
    assert place_tones(word, "first") == word
    assert place_tones(word, "second") == word
    assert canonical_tones(word) == word


def test_q_typos_are_repaired_to_the_following_vowel() -> None:
    assert canonical_tones("qúa") == "quá"
    assert canonical_tones("qủa") == "quả"
    assert canonical_tones("qúy khách") == "quý khách"


def test_tone_pair_in_a_sentence_only_at_syllable_end() -> None:
    text = "Thuỷ điện Hoà Bình hoàn thành, khoẻ mạnh, Uỷ ban"
    assert place_tones(text, "first") == "Thủy điện Hòa Bình hoàn thành, khỏe mạnh, Ủy ban"


def test_unknown_style_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown tone style"):
        place_tones("hoà", "middle")  # type: ignore[arg-type]


def test_clean_removes_invisibles_and_maps_odd_spaces_and_eth() -> None:
    assert clean("Việ\u200bt\u00a0Nam\u00ad") == "Việt Nam"
    assert clean("\u00d0à N\u1eb5ng") == "Đà Nẵng"
    assert clean("ð") == "đ"
    assert clean("a\r\nb\rc\x07d") == "a\nb\ncd"
    assert clean("ok\ufeff") == "ok"


def test_compose_fixes_quality_mark_typed_after_tone() -> None:
    # e + acute + circumflex: plain NFC gives "é" + a stray circumflex.
    typed = "e\u0301\u0302"
    assert unicodedata.normalize("NFC", typed) != "ế"
    assert compose(typed) == "ế"
    assert compose("o\u0323\u0302") == "ộ"
    assert compose("u\u0309\u031b") == "ử"


def test_compose_drops_doubled_marks() -> None:
    assert compose("đượ\u0323c") == "được"
    assert compose("Ố\u0302") == "Ố"  # a repeated mark, not next to its twin


def test_normalize_is_the_matching_form() -> None:
    nfd = unicodedata.normalize("NFD", "THUỶ ĐIỆN Hoà Bình")
    assert normalize(nfd) == "thủy điện hòa bình"
    assert normalize("Ðà Nẵng") == "đà nẵng"


def test_fold_strips_all_marks_and_d_bar() -> None:
    assert fold("Đường Nguyễn Thị Minh Khai") == "Duong Nguyen Thi Minh Khai"
    assert fold("nghiệp người ẵ ố") == "nghiep nguoi a o"
    assert fold(unicodedata.normalize("NFD", "Thủ tướng")) == "Thu tuong"
    assert fold("Ðð") == "Dd"
    assert not has_marks("ban") and has_marks("bán") and has_marks("đi")


def test_tokenize_gives_offsets_into_the_original() -> None:
    text = "Hà_Nội, H'Mông và Thu\u0309 tướng Việ\u200bt"
    tokens = list(tokenize(text))
    assert [t.text for t in tokens] == ["Hà", "Nội", "H", "Mông", "và", "Thu\u0309", "tướng", "Việ\u200bt"]
    for tok in tokens:
        assert text[tok.start : tok.end] == tok.text
    assert syllables("ở ý ô") == ["ở", "ý", "ô"]  # single-letter words survive


# -- properties -------------------------------------------------------------------

VIET_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
viet_text = st.text(
    alphabet=st.sampled_from(list(VIET_LETTERS + VIET_LETTERS.upper() + " ,.\n\u00a0\u200b\u0300\u0301\u0302\u0323Ðð")),
    max_size=80,
)
words = st.lists(
    st.sampled_from([p for pair in PAIRS for p in pair] + UNTOUCHED + ["việt", "nam", "đường"]), max_size=12
)


@settings(max_examples=300)
@given(viet_text)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=300)
@given(viet_text)
def test_nfd_and_nfc_input_normalize_alike(text: str) -> None:
    assert normalize(unicodedata.normalize("NFD", text)) == normalize(unicodedata.normalize("NFC", text))


@settings(max_examples=300)
@given(words)
def test_old_and_new_tone_placement_normalize_alike(ws: list[str]) -> None:
    text = " ".join(ws)
    assert normalize(place_tones(text, "first")) == normalize(place_tones(text, "second")) == normalize(text)


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_fold_never_leaves_a_mark_or_d_bar(text: str) -> None:
    folded = fold(text)
    assert not any(is_combining(ch) for ch in folded)
    assert not set("đĐðÐ") & set(folded)


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_clean_is_idempotent_on_any_text(text: str) -> None:
    once = clean(text)
    assert clean(once) == once


# -- bidi controls -------------------------------------------------------------------------

_OPENERS = {"\u202a": PDF, "\u202b": PDF, "\u202d": PDF, "\u202e": PDF, "\u2066": PDI, "\u2067": PDI, FSI: PDI}
BIDI_TEXT = st.text(alphabet=BIDI_CONTROLS + "ab ế1", max_size=40)


def _pairs_up(text: str) -> bool:
    """Every explicit control closes what it may (UAX #9 X6a, X7) and nothing stays open."""
    open_: list[str] = []
    for ch in text:
        if ch in _OPENERS:
            open_.append(_OPENERS[ch])
        elif ch == PDF:
            if not open_ or open_[-1] != PDF:
                return False
            open_.pop()
        elif ch == PDI:
            if PDI not in open_:
                return False
            while open_.pop() != PDI:
                pass
    return not open_


@given(BIDI_TEXT)
def test_balanced_bidi_pairs_up_and_keeps_everything_else(text: str) -> None:
    balanced = balance_bidi(text)
    assert _pairs_up(balanced) and balance_bidi(balanced) == balanced
    assert strip_bidi(balanced) == strip_bidi(text)  # only controls dropped or added
    if _pairs_up(text):
        assert balanced == text


@given(BIDI_TEXT)
def test_strip_bidi_leaves_no_control_and_nothing_else_out(text: str) -> None:
    stripped = strip_bidi(text)
    assert not set(stripped) & set(BIDI_CONTROLS)
    assert stripped == "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def test_isolation_where_it_matters_only() -> None:
    assert isolate("Giá vàng hôm nay tăng 1,5%") == "Giá vàng hôm nay tăng 1,5%"
    assert isolate("Giá \u202etăng") == f"{FSI}Giá \u202etăng{PDF}{PDI}"
    assert isolate("Hãng tin الجزيرة") == f"{FSI}Hãng tin الجزيرة{PDI}"
    assert isolate("") == ""
    # every character that is right-to-left, an Arabic digit or an explicit control, in
    # this Python's Unicode, is caught by the block ranges
    kinds = {"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
    missed = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.bidirectional(chr(cp)) in kinds and not needs_isolation(chr(cp))
    ]
    assert missed == []
