"""Packed posting blocks: the numbers come back, through numpy and through Whoosh's own matchers."""

from __future__ import annotations

import pickle
from itertools import pairwise
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.fields import KEYWORD, Schema

from opennews.search.docsets import DocSets, ids_of
from opennews.search.postings import PackedCodec, PackedLeafMatcher, is_packed, pack_ids, unpack_ids

# Up to 300: blocks of a few numbers are read one way, longer ones another.
numbers = st.sets(st.integers(min_value=0, max_value=2**35 - 1), min_size=1, max_size=300)


@given(numbers)
def test_pack_round_trips_and_picks_the_narrowest_type(ids: set[int]) -> None:
    ordered = sorted(ids)
    packed = pack_ids(ordered)
    assert unpack_ids(packed).tolist() == ordered
    widest = max((b - a for a, b in pairwise(ordered)), default=0)
    width = next(w for w in (1, 2, 3, 5) if widest < 2 ** (7 * w))
    assert packed[:1] == str(width)
    assert len(packed) == 1 + 5 + width * (len(ordered) - 1)
    # Pickled with protocol 2, as Whoosh does, a block costs its digits and a fixed overhead.
    assert len(pickle.dumps(packed, 2)) == len(packed) + len(pickle.dumps("", 2))


def _index(path: Path, batches: list[list[str]]) -> whoosh_index.Index:
    """An index of one segment per batch of documents (field ``t``)."""
    ix = whoosh_index.create_in(str(path), Schema(t=KEYWORD))
    n = 0
    for batch in batches:
        writer = ix.writer(codec=PackedCodec(blocklimit=4, compression=0))
        for text in batch:
            writer.add_document(t=text)
            n += 1
        writer.commit(merge=False)
    return ix


def test_whoosh_matchers_and_document_sets_read_packed_blocks(tmp_path: Path) -> None:
    # Gaps of every width within one term (n*n grows past 255 and 65,535), across several
    # blocks of four and two segments, plus deletions.
    squares = {n * n for n in range(30)}
    docs = [" ".join(["all", *(["sq"] if n in squares else [])]) for n in range(30 * 30)]
    ix = _index(tmp_path, [docs[:500], docs[500:]])
    writer = ix.writer(codec=PackedCodec(blocklimit=4, compression=0))
    writer.delete_document(1)
    writer.commit(merge=False)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        leaf, _ = next(iter(reader.leaf_readers()))
        matcher = leaf.postings("t", "sq").child  # under the filter of deleted documents
        assert isinstance(matcher, PackedLeafMatcher)
        matcher._read_data()
        assert is_packed(matcher._data[0])
        # Whoosh's own matchers (merging, deleting and its query engine use them).
        whoosh_ids = [
            offset + n
            for leaf, offset in reader.leaf_readers()
            for n in leaf.postings("t", "sq").all_ids()
            if not leaf.is_deleted(n)
        ]
        assert whoosh_ids == sorted(squares - {1})
        sets = DocSets(searcher)
        assert ids_of(sets.term("t", "sq")).tolist() == sorted(squares - {1})
        assert len(ids_of(sets.term("t", "all"))) == 899


def test_merged_segments_keep_every_posting(tmp_path: Path) -> None:
    docs = [" ".join(["all", *(["odd"] if n % 2 else [])]) for n in range(300)]
    ix = _index(tmp_path, [docs[:100], docs[100:250], docs[250:]])
    writer = ix.writer(codec=PackedCodec(blocklimit=4, compression=0))
    writer.delete_document(3)
    writer.commit(optimize=True)
    with ix.searcher() as searcher:
        (leaf, _), *others = searcher.reader().leaf_readers()
        assert not others
        matcher = leaf.postings("t", "odd")
        matcher._read_data()
        assert is_packed(matcher._data[0])
        sets = DocSets(searcher)
        assert ids_of(sets.term("t", "odd")).tolist() == [n - (n > 3) for n in range(1, 300, 2) if n != 3]
        assert searcher.doc_frequency("t", "all") == 299
