"""A query's few remaining documents checked in their stored text match what reading every
set from the index gives (matching.FEW), and a shortlist of few candidates is all of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennews.archive import Archive
from opennews.article import make_article
from opennews.demo import generate
from opennews.search import Indexer, Searcher, matching
from opennews.search.docsets import ids_of
from opennews.search.query import parse_query

# Rare and common words of the demo articles, with marks and without, and words no article has.
WORDS = ["hà", "nội", "ha", "noi", "thủy", "điện", "giá", "xăng", "của", "và", "người", "dân", "mưa", "bão", "zzz", "1"]


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    home = tmp_path_factory.mktemp("matching")
    with Archive.open(home / "opennews.sqlite3") as archive:
        archive.upsert_batch([make_article(dict(r)) for r in generate(400, seed=5)])
        Indexer(home / "index", archive).rebuild()
    archive = Archive.open(home / "opennews.sqlite3", readonly=True)
    with Searcher(home / "index", archive) as searcher:
        yield searcher
    archive.close()


def both_ways(searcher: Searcher, q: str, monkeypatch: pytest.MonkeyPatch, few: int = 10**9) -> tuple[int, int]:
    parsed = parse_query(q)
    sets, texts = searcher._sets, searcher._texts
    monkeypatch.setattr(matching, "FEW", -1)  # every set read from the index
    from_sets = matching.matches(parsed, sets, texts=texts)
    # Checked in the text once at most ``few`` documents are left: at once (10**9), or
    # after some sets are read (a few).
    monkeypatch.setattr(matching, "FEW", few)
    from_text = matching.matches(parsed, sets, texts=texts)
    return from_sets, from_text


word = st.sampled_from(WORDS)
clause = st.one_of(
    word,
    st.lists(word, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    word.map(lambda w: f"title:{w}"),
    word.map(lambda w: f"-{w}"),
    st.tuples(word, word).map(lambda ab: f"{ab[0]} OR {ab[1]}"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(clause, min_size=1, max_size=6), st.sampled_from([0, 3, 10, 64, 10**9]))
def test_checking_the_few_in_their_text_is_reading_every_set(
    opened: Searcher, monkeypatch: pytest.MonkeyPatch, clauses: list[str], few: int
) -> None:
    from_sets, from_text = both_ways(opened, " ".join(clauses), monkeypatch, few)
    assert from_text == from_sets


def test_the_comparison_sees_documents(opened: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above compares sets that are not all empty, and the text path runs."""
    calls = []
    real = matching._in_text
    monkeypatch.setattr(matching, "_in_text", lambda *a: calls.append(1) or real(*a))
    for q in ("người dân", '"hà nội" -mưa', "giá OR xăng của"):
        from_sets, from_text = both_ways(opened, q, monkeypatch)
        assert from_sets and from_text == from_sets, q
    assert calls


def test_a_rare_word_less_a_common_one_reads_only_the_rare_set(opened: Searcher, monkeypatch) -> None:
    sets = opened._sets
    read: list[tuple[str, str]] = []
    real = sets.term
    monkeypatch.setattr(sets, "term", lambda field, text: read.append((field, text)) or real(field, text))
    rare = min(("xang", "dien", "bao"), key=lambda w: sets.doc_frequency("all_f", w))
    found = matching.matches(parse_query(f"{rare} -của"), sets, texts=opened._texts)
    assert read == [("all_f", rare)]
    assert found == sets.term("all_f", rare) & ~sets.term("all_f", "cua")


def test_a_shortlist_of_few_candidates_is_all_of_them(opened: Searcher) -> None:
    sets = opened._sets
    parsed = parse_query("người dân")
    found = matching.matches(parsed, sets, texts=opened._texts)
    few = 0
    for n in ids_of(found)[:7].tolist():
        few |= 1 << n
    assert sorted(matching.shortlist(parsed, sets, few, 10).tolist()) == ids_of(few).tolist()
    assert len(matching.shortlist(parsed, sets, found, 5)) == 5 < found.bit_count()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.one_of(word, word.map(lambda w: f"{w} OR {w}")), min_size=1, max_size=7),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=9),
    st.lists(st.sampled_from(["hà nội", "người dân", "thủy điện", "giá xăng"]), max_size=2),
)
def test_a_shortlist_read_in_the_text_is_the_one_read_from_sets(
    opened: Searcher, monkeypatch: pytest.MonkeyPatch, words: list[str], k: int, stride: int, written: list[str]
) -> None:
    parsed = parse_query(" ".join(words))
    sets, texts = opened._sets, opened._texts
    matched = matching.matches(parsed, sets, relaxed=True, texts=texts)
    candidates = matched
    for n in ids_of(sets.live)[::stride].tolist():  # and others, holding fewer of the words
        candidates |= 1 << n
    monkeypatch.setattr(matching, "FEW_SHORTLIST", -(10**9))
    from_sets = matching.shortlist(parsed, sets, candidates, k, written, texts)
    monkeypatch.setattr(matching, "FEW_SHORTLIST", 10**9)
    from_text = matching.shortlist(parsed, sets, candidates, k, written, texts)
    assert from_text.tolist() == from_sets.tolist()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(min_value=0, max_value=399),
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=3, max_value=7),
    st.sampled_from([None, 0, 1, 2]),
    st.integers(min_value=1, max_value=12),
)
def test_a_shortlist_of_a_sentence_read_in_the_text_is_the_one_read_from_sets(
    opened: Searcher, monkeypatch: pytest.MonkeyPatch, doc: int, start: int, size: int, changed: int | None, k: int
) -> None:
    """A stretch of an article's own body typed as the query (the runs' bonuses: every pair,
    every pair but one when a word is changed), its candidates every document holding any word."""
    from opennews.search.schema import StoredText

    sets, texts = opened._sets, opened._texts
    body = [w for w in StoredText.exact_of(texts[doc % sets.size])[2].split() if w != "\n"]
    words = body[start : start + size]
    if changed is not None and changed < len(words):
        words[changed] = "zzz"
    if not words:
        return
    parsed = parse_query(" ".join(words))
    candidates = 0
    for w in set(words):
        candidates |= sets.term("all_f", matching.fold(w))
    monkeypatch.setattr(matching, "FEW_SHORTLIST", -(10**9))
    from_sets = matching.shortlist(parsed, sets, candidates, k, (), texts)
    monkeypatch.setattr(matching, "FEW_SHORTLIST", 10**9)
    from_text = matching.shortlist(parsed, sets, candidates, k, (), texts)
    assert from_text.tolist() == from_sets.tolist()
