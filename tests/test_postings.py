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


@given(
    st.integers(min_value=0, max_value=2**35 - 2**12),
    st.sets(st.integers(min_value=0, max_value=2**12 - 1), min_size=1, max_size=2**12),
)
def test_a_dense_block_is_a_bitmap_when_that_is_smaller(start: int, offsets: set[int]) -> None:
    from opennews.search.postings import Bitmap, unpack_block

    ordered = [start + k for k in sorted(offsets)]
    packed = pack_ids(ordered)
    assert unpack_ids(packed).tolist() == ordered
    widest = max((b - a for a, b in pairwise(ordered)), default=0)
    width = next(w for w in (1, 2, 3, 5) if widest < 2 ** (7 * w))
    gaps = 1 + 5 + width * (len(ordered) - 1)
    bitmap = 1 + 5 + -(-(ordered[-1] - ordered[0] + 1) // 7)
    block = unpack_block(packed)
    if len(ordered) > 32 and bitmap < gaps:
        assert packed[:1] == "b" and len(packed) == bitmap
        assert isinstance(block, Bitmap) and block.first == ordered[0] and set(block.flags.tolist()) <= {0, 1}
        assert block.ids().tolist() == ordered
    else:
        assert packed[:1] == str(width) and len(packed) == gaps
        assert block.tolist() == ordered  # type: ignore[union-attr]
    assert len(pickle.dumps(packed, 2)) == len(packed) + len(pickle.dumps("", 2))  # ASCII either way


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


# -- compact term infos and inlined postings ---------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=70, unique=True))
def test_a_compact_term_info_round_trips_inlined_or_not(ids: list[int]) -> None:
    from opennews.search.postings import INLINE_LIMIT, CompactTermInfo

    ids.sort()
    info = CompactTermInfo()
    info._weight, info._df, info._maxweight, info._maxlength = float(len(ids)), len(ids), 1.0, 0
    info._minid, info._maxid = ids[0], ids[-1]
    inlined = len(ids) <= INLINE_LIMIT
    if inlined:
        info._inlined = (tuple(ids), None, None)
    else:
        info.set_extent(123_456_789_012, 4321)
    data = info.to_bytes()
    back = CompactTermInfo.from_bytes(data)
    assert back.doc_frequency() == len(ids) == CompactTermInfo.doc_frequency_of(data)
    assert (back.min_id(), back.max_id(), back.weight(), back.is_inlined()) == (ids[0], ids[-1], len(ids), inlined)
    if inlined:
        assert list(back.inlined_postings()[0]) == ids
        assert len(data) < 12 + 5 * len(ids)
    else:
        assert back.extent() == (123_456_789_012, 4321) and len(data) <= 1 + 4 * 5 + 6


def test_a_term_info_with_weights_is_written_as_whoosh_writes_it() -> None:
    from opennews.search.postings import CompactTermInfo
    from opennews.search.whoosh_internals import W3TermInfo

    info = CompactTermInfo()
    info._weight, info._df, info._maxweight, info._minid, info._maxid = 7.5, 3, 4.0, 2, 9
    info.set_extent(10, 20)
    assert info.to_bytes() == W3TermInfo.to_bytes(info)
    back = CompactTermInfo.from_bytes(info.to_bytes())
    # (W3's own decoding gives the length back as a 1-tuple; nothing reads it)
    assert (back.weight(), back.doc_frequency(), back.extent()[0]) == (7.5, 3, 10)


def test_the_term_pool_writes_terms_whole_and_inlines_the_rare_ones(tmp_path: Path) -> None:
    """Through TermWriter and the packed field writer: rare terms inlined in the term table,
    common ones in posting blocks, both read back by Whoosh's matchers and by DocSets, with
    each term's document frequency; a later segment merged by Whoosh keeps them all."""
    from whoosh.fields import ID

    from opennews.search.postings import INLINE_LIMIT
    from opennews.search.schema import TermSet
    from opennews.search.termpool import TermWriter

    ix = whoosh_index.create_in(str(tmp_path), Schema(id=ID(stored=True), t=TermSet()))
    n_docs = INLINE_LIMIT * 3
    expected: dict[str, list[int]] = {"all": list(range(n_docs)), "rare": [1, 5], "odd": list(range(1, n_docs, 2))}
    for batch in (range(0, n_docs // 2), range(n_docs // 2, n_docs)):
        writer = TermWriter(ix, codec=PackedCodec(blocklimit=8, compression=0), compound=False)
        for n in batch:
            terms = {"all"} | ({"rare"} if n in (1, 5) else set()) | ({"odd"} if n % 2 else set())
            writer.add_document(id=str(n), t=terms)
        writer.commit()  # the second commit merges the first segment (Whoosh's MERGE_SMALL)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        sets = DocSets(searcher)
        for term, docs in expected.items():
            found = sorted(int(searcher.stored_fields(n)["id"]) for n in ids_of(sets.term("t", term)).tolist())
            assert found == docs, term
            assert reader.doc_frequency("t", term) == len(docs)
            assert sorted(int(searcher.stored_fields(n)["id"]) for n in reader.postings("t", term).all_ids()) == docs
        leaf = next(iter(reader.leaf_readers()))[0]
        assert leaf.term_info("t", "rare").is_inlined() and not leaf.term_info("t", "all").is_inlined()
        assert reader.doc_frequency("t", "absent") == 0
        assert [t for t in reader.lexicon("t")] == [b"all", b"odd", b"rare"]


def test_dense_terms_are_bitmaps_read_alike_by_sets_and_by_whoosh(tmp_path: Path) -> None:
    """A term pool's dense terms are bitmap blocks, each in one block whatever the codec's
    limit; a segment written by Whoosh posting by posting has bitmaps of the limit's size.
    DocSets (sets and numbers) and Whoosh's matchers read the same documents, deletions left out."""
    from whoosh.fields import ID

    from opennews.search.postings import Bitmap
    from opennews.search.schema import TermSet
    from opennews.search.termpool import TermWriter
    from opennews.search.whoosh_internals import block_payload, leaf_blocks

    ix = whoosh_index.create_in(str(tmp_path), Schema(id=ID(stored=True), t=TermSet()))
    rules = {"all": lambda n: True, "third": lambda n: n % 3 == 0, "sparse": lambda n: n % 10 == 7}
    first, second = range(0, 1000), range(1000, 1600)
    writer = TermWriter(ix, codec=PackedCodec(blocklimit=64, compression=0), compound=False)
    for n in first:
        writer.add_document(id=str(n), t={t for t, rule in rules.items() if rule(n)})
    writer.commit()
    writer = ix.writer(codec=PackedCodec(blocklimit=100, compression=0))
    for n in second:
        writer.add_document(id=str(n), t={t for t, rule in rules.items() if rule(n)})
    writer.commit(merge=False)
    deleted = {0, 3, 999, 1002, 1599}
    writer = ix.writer(codec=PackedCodec(blocklimit=100, compression=0))
    for n in deleted:
        writer.delete_by_term("id", str(n))
    writer.commit(merge=False)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        leaves = list(reader.leaf_readers())
        assert len(leaves) == 2
        pooled, posted = [leaf for leaf, _ in leaves]
        for term in ("all", "third"):
            blocks = list(leaf_blocks(pooled.postings("t", term)))
            assert len(blocks) == 1 and isinstance(blocks[0], Bitmap), term
            blocks = list(leaf_blocks(posted.postings("t", term)))
            assert len(blocks) > 1 and all(isinstance(b, Bitmap) for b in blocks), term
        matcher = pooled.postings("t", "sparse").child
        matcher._read_data()
        assert block_payload(matcher)[:1] != "b"
        sets = DocSets(searcher)
        number = {
            int(searcher.stored_fields(n)["id"]): n
            for n in range(reader.doc_count_all())
            if reader.is_deleted(n) is False
        }
        for term, rule in rules.items():
            wanted = sorted(number[n] for n in (*first, *second) if rule(n) and n not in deleted)
            assert ids_of(sets.term("t", term)).tolist() == wanted, term
            assert sets.ids("t", term).tolist() == wanted, term
            walked = [
                offset + n
                for leaf, offset in leaves
                for n in leaf.postings("t", term).all_ids()
                if not leaf.is_deleted(n)
            ]
            assert walked == wanted, term
