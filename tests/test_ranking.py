"""The second stage's text measures, against plain definitions."""

from __future__ import annotations

import re
from itertools import pairwise

import lz4.block
from hypothesis import given, settings
from hypothesis import strategies as st

from opennews.search.analysis import cut
from opennews.search.ranking import _GAP, OTHER_READING, Reading, Scorer, Term, _Bridge, longest, score
from opennews.search.schema import StoredText, _parts

words = st.lists(st.sampled_from(["ha", "noi", "mua", "to", "gio", "lon"]), min_size=0, max_size=30)


def naive_longest(text: str, run: list[str]) -> float:
    best = 0.0
    for size in range(2, len(run) + 1):
        for k in range(len(run) - size + 1):
            if f" {' '.join(run[k : k + size])} " in text:
                best = max(best, (size - 1) / (len(run) - 1))
    return best


@given(words, st.lists(st.sampled_from(["ha", "noi", "mua", "to", "gio", "lon"]), min_size=2, max_size=8))
def test_longest_verbatim_stretch_matches_the_definition(text_words: list[str], run: list[str]) -> None:
    text = " " + " ".join(text_words) + " "
    assert longest(text, [run]) == naive_longest(text, run)


def _text(title: str, sapo: str, body: str) -> StoredText:
    return StoredText.from_cuts([title.split(), sapo.split(), body.split()])


def test_score_prefers_headline_exact_forms_and_verbatim_runs() -> None:
    terms = [Term.make("bán", 2.0), Term.make("xăng", 2.0)]
    pairs = [("ban xang", 3.0)]
    runs = [["ban", "xang"]]
    exact = _text("giá bán xăng", "", "giá bán xăng giảm")
    folded = _text("giá bạn xăng", "", "giá bạn xăng giảm")
    apart = _text("giá bán và xăng", "", "bán rồi mua xăng")
    body_only = _text("tin mới", "", "giá bán xăng giảm")
    assert score(exact, terms, pairs, runs) > score(folded, terms, pairs, runs)
    assert score(folded, terms, pairs, runs) > score(apart, terms, pairs, runs)
    assert score(exact, terms, pairs, runs) > score(body_only, terms, pairs, runs)


def test_stored_text_round_trips_both_forms() -> None:
    text = _text("Thủy điện", "xả lũ", "Hòa Bình")
    back = StoredText.decode(text.encode())
    assert back.exact == text.exact and back.folded == [" Thuy dien ", " xa lu ", " Hoa Binh "]


ODD_LETTERS = "aăâđeêoơưàảãạếộữỹ HNĐ\nйЖ한글ﬁ\u0308\u0323😀z"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list(ODD_LETTERS)), max_size=40),
        min_size=3,
        max_size=3,
    )
)
def test_stored_text_made_from_any_cuts_round_trips(parts: list[str]) -> None:
    """The folded form is derived from the exact one when every character folds to one
    ASCII letter, and stored otherwise (Cyrillic, Hangul, emoji, a lone combining mark):
    either way it reads back as it was made."""
    text = StoredText.from_cuts([cut(p) for p in parts])
    stored = text.encode()
    back = StoredText.decode(stored)
    assert back.exact == text.exact and back.folded == text.folded
    assert StoredText.folded_of(stored) == text.folded and StoredText.exact_of(stored) == text.exact


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["phu", "phủ", "Phú", "nhận", "nhan", "nhân", "và", "\n"]), max_size=12),
        min_size=3,
        max_size=3,
    ),
    st.sampled_from([" phu nhan ", " nhan phu ", " va phu ", " phu "]),
)
def test_the_written_forms_at_a_folded_needle_are_those_of_the_decoded_parts(
    parts: list[list[str]], needle: str
) -> None:
    """Read from the stored bytes where the folded form is derived, one needle's places
    found in the parts joined; decoded part by part otherwise (None)."""
    text = StoredText.from_cuts(parts)
    expected = []
    for exact, folded in zip(text.exact, text.folded, strict=True):
        at = folded.find(needle)
        while at >= 0:
            expected.append(exact[at + 1 : at + len(needle) - 1])
            at = folded.find(needle, at + len(needle) - 1)
    assert StoredText.written_at(text.encode(), needle) == expected
    odd = StoredText.from_cuts([*parts[:2], [*parts[2], "Москва"]])
    assert StoredText.written_at(odd.encode(), needle) is None
    assert StoredText.written_at(text.encode(), " phu москва ") is None


def test_the_folded_form_is_stored_only_when_it_cannot_be_derived() -> None:
    vietnamese = StoredText.from_cuts([cut("Thủy điện Hòa Bình"), cut("xả lũ"), cut("Đà Nẵng, 2024")])
    cyrillic = StoredText.from_cuts([cut("Thủy điện Москва"), cut("xả lũ"), cut("Đà Nẵng, 2024")])
    plain = len(lz4.block.decompress(vietnamese.encode()))
    exact_bytes = sum(len(p.encode("utf-16-le")) for p in vietnamese.exact)
    assert plain == 25 + exact_bytes  # the header and the exact form, nothing folded
    assert len(lz4.block.decompress(cyrillic.encode())) > 25 + sum(len(p.encode("utf-16-le")) for p in cyrillic.exact)
    assert StoredText.decode(cyrillic.encode()).folded[0] == " thuy dien москва "
    raw = memoryview(lz4.block.decompress(vietnamese.encode()))
    assert _parts(raw, 4, 6) == vietnamese.folded[1:]  # made from the second part on


def test_stored_text_keeps_paragraphs_apart() -> None:
    """Side by side never runs across a paragraph break; a syllable next to one is still found."""
    text = StoredText.from_cuts([cut("Đêm ở Hà Nội"), [], cut("\n\nGió về Hà Nội\n\n\nMưa rét\n")])
    assert text.exact[2] == " gió về hà nội \n mưa rét "
    assert " noi mua " not in text.folded[2] and " mua " in text.folded[2] and " noi " in text.folded[2]
    assert [StoredText.length(p) for p in text.folded] == [4, 0, 6]
    assert StoredText.folded_of(text.encode()) == text.folded


def test_a_reading_typed_with_marks_is_a_tier_and_a_likely_one_a_weight() -> None:
    terms = [Term.make("khóa", 2.0), Term.make("học", 1.0)]
    pairs, runs = [("khoa hoc", 3.0)], [["khoa", "hoc"]]
    course = _text("tin giáo dục", "mở khóa học mới", "học phí")
    science = _text("khoa học khoa học", "khoa học vũ trụ", "khoa học và học khoa học")
    typed = Scorer(terms, pairs, runs, Reading.of([["khóa", "học"]], typed=True))
    assert typed.tier(course) == 1 and typed.tier(science) == 0
    assert typed(science) > typed(course)  # the score alone would put science first
    plain = [Term.make("khoa", 2.0), Term.make("hoc", 1.0)]
    likely = Scorer(plain, pairs, runs, Reading.of([["khoa", "học"]], typed=False))
    unweighted = Scorer(plain, pairs, runs)
    assert likely.tier(course) == likely.tier(science) == 0
    assert likely(course) == unweighted(course) * OTHER_READING and likely(science) == unweighted(science)


@given(st.lists(st.text(), min_size=3, max_size=3), st.lists(st.text(), min_size=3, max_size=3))
def test_stored_text_round_trips_any_text(exact: list[str], folded: list[str]) -> None:
    """Any characters (astral ones are surrogate pairs in UTF-16), empty parts included."""
    back = StoredText.decode(StoredText(exact, folded).encode())
    assert back.exact == exact and back.folded == folded


def test_words_from_a_headline_rank_it_in_their_order_and_when_they_weigh_most() -> None:
    """Three words remembered from a headline: the one holding them in the typed order,
    then the shorter headline, come first."""
    terms = [Term.make(w, 2.0, title_idf=3.0) for w in ("lu", "mien", "trung")]
    runs = [["lu", "mien", "trung"]]
    pairs = [("lu mien", 4.0), ("mien trung", 2.0)]
    ordered = _text("lũ lớn ở miền trung", "", "mưa to")
    reordered = _text("miền trung lũ lớn", "", "mưa to")
    longer = _text("lũ lớn ở các tỉnh miền núi và miền trung sau bão số 9", "", "mưa to")
    assert score(ordered, terms, pairs, runs) > score(reordered, terms, pairs, runs)
    assert score(ordered, terms, pairs, runs) > score(longer, terms, pairs, runs)


def _span_scorer(typed: str) -> Scorer:
    words = typed.split()
    folded = StoredText.from_cuts([words, [], []]).folded[0].split()
    terms = [Term.make(w, 2.0) for w in words]
    pairs = [(f"{a} {b}", 3.0) for a, b in pairwise(folded)]
    return Scorer(terms, pairs, [folded], Reading.of([words], typed=True))


def test_a_sentence_typed_without_its_number_or_across_a_paragraph_stands_verbatim() -> None:
    """People leave out the "3" of "đông hơn ngày thường 3 lần", and copy a sentence from one
    paragraph into the next: the article holding it so ranks as holding it, its tier included;
    the pairs and quoted phrases still never run across (see test_stored_text_keeps_paragraphs_apart)."""
    scorer = _span_scorer("đông hơn ngày thường lần")
    numbered = _text("giá vàng", "", "khách hôm nay đông hơn ngày thường 3 lần nên rất bận")
    across = StoredText.from_cuts([cut("giá vàng"), [], cut("khách đông hơn ngày thường\n\nlần này khác")])
    scattered = _text("giá vàng", "", "đông hơn nữa và hơn ngày thường vì thường lần đầu")
    assert scorer.tier(numbered) == scorer.tier(across) == scorer.tier(scattered) == 4
    for holder in (numbered, across):
        assert scorer.measure(holder)[1] > 0 and scorer.measure(scattered)[1] == 0
    assert scorer.measure(_text("giá", "", "đông hơn ngày thường 3 4 lần"))[1] > 0
    assert scorer.measure(_text("giá", "", "đông hơn ngày thường ba lần"))[1] == 0  # a word is no gap


def test_among_articles_holding_a_sentence_the_headline_then_the_shorter_comes_first() -> None:
    """A sentence is more of a short article: the likelier one it was copied from."""
    scorer = _span_scorer("mưa lớn kéo dài ở miền trung")
    headline = _text("mưa lớn kéo dài ở miền trung", "", "tin thời tiết " * 200)
    short = _text("thời tiết", "", "mưa lớn kéo dài ở miền trung")
    long = _text("thời tiết", "", "mưa lớn kéo dài ở miền trung " + "mưa lớn ở miền trung lũ " * 40)
    values = [scorer.measure(t)[1] for t in (headline, short, long)]
    assert values == sorted(values, reverse=True) and values[2] > 0
    assert scorer.measure(long)[0] > scorer.measure(short)[0]  # the score alone would put the long one first


@given(st.lists(st.sampled_from(["ha", "noi", "mua", "3", "12a", "\n", "h"]), max_size=20))
def test_a_pair_across_a_gap_is_found_as_the_pattern_defines_it(syllables: list[str]) -> None:
    text = " " + " ".join(syllables) + " "
    for a, b in (("ha", "noi"), ("noi", "mua"), ("h", "ha")):
        expected = re.search(rf" {a}{_GAP} {b} ", text) is not None
        assert _Bridge(a, b).over([text]) == expected, (a, b, text)
