"""Document sets as integers: the arithmetic every query rests on, against plain Python."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from opennews.search.docsets import DocSets, Tally, _bits, ids_of

docs = st.sets(st.integers(min_value=0, max_value=299))
features = st.lists(st.tuples(docs, st.integers(min_value=0, max_value=40)), max_size=8)


def as_bits(ids: set[int]) -> int:
    return _bits(np.asarray(sorted(ids), dtype=np.int64), 300)


@given(docs)
def test_bits_round_trip(ids: set[int]) -> None:
    bits = as_bits(ids)
    assert bits.bit_count() == len(ids)
    assert ids_of(bits).tolist() == sorted(ids)


@given(features, docs, st.integers(min_value=0, max_value=400))
def test_tally_sums_and_thresholds_match_a_plain_count(feats: list[tuple[set[int], int]], universe: set[int], t: int):
    tally = Tally(as_bits(universe))
    sums = dict.fromkeys(universe, 0)
    for ids, weight in feats:
        tally.add(as_bits(ids), weight)
        for i in ids & universe:
            sums[i] += weight
    assert tally.values_for(sorted(universe)) == sums
    expected = {i for i, s in sums.items() if s >= t}
    assert set(ids_of(tally.at_least(t)).tolist()) == expected


@given(features, st.integers(min_value=1, max_value=50))
def test_top_keeps_the_best_k_and_splits_ties(feats: list[tuple[set[int], int]], k: int) -> None:
    universe = set(range(300))
    tally = Tally(as_bits(universe))
    sums = dict.fromkeys(universe, 0)
    for ids, weight in feats:
        tally.add(as_bits(ids), weight)
        for i in ids:
            sums[i] += weight
    chosen, above = tally.top(k)
    chosen_ids, above_ids = set(ids_of(chosen).tolist()), set(ids_of(above).tolist())
    weighted = {i for i, s in sums.items() if s > 0}
    if len(weighted) <= k:
        assert chosen_ids == weighted and not above_ids
        return
    assert len(chosen_ids) >= k > len(above_ids)
    assert above_ids <= chosen_ids
    # Everything chosen outranks (or ties with) everything left out.
    assert min(sums[i] for i in chosen_ids) >= max(sums[i] for i in universe - chosen_ids)
    assert all(sums[i] > max(sums[j] for j in chosen_ids - above_ids) for i in above_ids)


def test_term_sets_agree_with_whoosh_across_segments_blocks_and_deletions(tmp_path) -> None:
    from whoosh import index
    from whoosh import query as wq
    from whoosh.fields import ID, KEYWORD, Schema

    from opennews.search.docsets import DocSets
    from opennews.search.indexer import _codec

    ix = index.create_in(str(tmp_path), Schema(id=ID(stored=True, unique=True), words=KEYWORD))
    for batch in range(3):  # three segments
        w = ix.writer(codec=_codec())
        for n in range(batch * 300, batch * 300 + 300):
            words = ["every"] + (["even"] if n % 2 == 0 else []) + (["rare"] if n % 97 == 0 else [])
            w.add_document(id=str(n), words=" ".join(words))
        w.commit(merge=False)
    w = ix.writer(codec=_codec())
    for n in (0, 2, 97, 400, 899):
        w.delete_by_term("id", str(n))
    w.commit(merge=False)
    with ix.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) > 1
        sets = DocSets(searcher)
        for word in ("every", "even", "rare", "absent"):
            expected = sorted(hit.docnum for hit in searcher.search(wq.Term("words", word), limit=None))
            assert ids_of(sets.term("words", word)).tolist() == expected, word
            assert sets.ids("words", word).tolist() == expected, word  # without the set, or from it
        assert sets.live.bit_count() == searcher.doc_count() == 895
        fresh = DocSets(searcher)
        fresh.hide(["4", "194"])  # withdrawn since the index was written
        for word in ("every", "even", "rare"):
            assert fresh.ids("words", word).tolist() == ids_of(fresh.term("words", word)).tolist(), word
        assert 4 not in fresh.ids("words", "even").tolist() and 194 not in fresh.ids("words", "rare").tolist()


def test_kept_sets_are_bounded_in_bytes_whatever_their_number(tmp_path, monkeypatch) -> None:
    """A set takes an eighth of a byte per document of the index: the cache of frequent
    terms' sets stays under its byte budget, the most recently used kept."""
    from whoosh import index
    from whoosh.fields import ID, KEYWORD, Schema

    from opennews.search import docsets
    from opennews.search.docsets import DocSets
    from opennews.search.indexer import _codec

    ix = index.create_in(str(tmp_path), Schema(id=ID(stored=True, unique=True), words=KEYWORD))
    w = ix.writer(codec=_codec())
    for n in range(4000):  # 40 words, each in every other document or so: all worth keeping
        w.add_document(id=str(n), words=" ".join(f"w{k}" for k in range(40) if (n + k) % 3))
    w.commit()
    monkeypatch.setattr(docsets, "CACHE_MIN_DF", 10)
    monkeypatch.setattr(docsets, "CACHE_BYTES", 10 * 500)  # room for ten sets of 4,000 documents
    with ix.searcher() as searcher:
        sets = DocSets(searcher)
        for k in range(40):
            assert ids_of(sets.term("words", f"w{k}")).size > 2000
            assert sets._cache.bytes <= docsets.CACHE_BYTES
            assert sets._cache.bytes == sum(docsets._bytes(b) for b in sets._cache.values())
        assert 5 <= len(sets._cache) <= 10 and ("words", "w39") in sets._cache
        assert ("words", "w0") not in sets._cache


@given(
    st.lists(st.integers(min_value=-3, max_value=5), min_size=40, max_size=200),
    st.integers(min_value=0, max_value=12),
    st.booleans(),
)
def test_the_first_of_an_order_by_date_are_those_of_the_whole_order(dates: list[int], limit: int, newest: bool) -> None:
    """Ties (many: few distinct dates) and undated documents included; long lists and short
    pages take the partition."""
    sets = DocSets.__new__(DocSets)
    published = np.asarray(dates, dtype=np.int64)
    published[published == -3] = np.iinfo(np.int64).min  # undated
    sets._published = published
    docnums = np.arange(len(dates), dtype=np.int64)[:: 1 + len(dates) % 2]
    whole = sets.by_date(docnums, newest=newest)
    assert sets.by_date(docnums, newest=newest, limit=limit).tolist() == whole[:limit].tolist()
