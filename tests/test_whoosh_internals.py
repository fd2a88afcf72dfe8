"""Whoosh's private parts that search/whoosh_internals.py gathers are still there and behave as
they were read: an upgrade that changes one fails here, naming it, instead of surfacing as a
wrong result, a slow query or a broken rebuild somewhere else."""

from __future__ import annotations

import importlib.metadata
import inspect
import mmap
import multiprocessing
import tomllib
from array import array
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh import multiproc
from whoosh.codec.base import Codec
from whoosh.fields import ID, KEYWORD, Schema
from whoosh.index import TOC, clean_files
from whoosh.multiproc import finish_subsegment
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.writing import NO_MERGE

from opennews.search.postings import PackedCodec, PackedLeafMatcher, is_packed
from opennews.search.storage import MappedFile, MappedStorage
from opennews.search.whoosh_internals import (
    FileStorage,
    ListMatcher,
    MpWriter,
    SegmentWriter,
    StructFile,
    SubWriterTask,
    W3Codec,
    W3FieldCursor,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
    clean_leftovers,
    deleted_docs,
    drop_segments,
    leaf_ids,
    segment_ids,
    segments_holding,
    term_postings,
)

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
DOCS = 40
BLOCK = 8  # ids per posting block: every term below spans several
DELETED = 3


def expect(ok: object, what: str) -> None:
    if not ok:
        pytest.fail(f"whoosh internals changed: {what}; see search/whoosh_internals.py", pytrace=False)


def test_the_installed_whoosh_is_the_pinned_one() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if d.lower().replace("_", "-").startswith("whoosh-reloaded")]
    expect(len(pins) == 1 and "==" in pins[0], f"whoosh-reloaded is not pinned to one version ({pins})")
    pinned = pins[0].split("==", 1)[1].strip()
    installed = importlib.metadata.version("whoosh-reloaded")
    expect(installed == pinned, f"whoosh-reloaded {installed} is installed where {pinned} is pinned")


SIGNATURES: list[tuple[type, str, str]] = [
    # the codec and its blocks (postings.py subclasses, docsets.py walks)
    (W3Codec, "__init__", "(self, blocklimit=128, compression=3, inlinelimit=1)"),
    (W3Codec, "postings_writer", "(self, dbfile, byteids=False)"),
    (W3Codec, "postings_reader", "(self, dbfile, terminfo, format_, term=None, scorer=None)"),
    (W3Codec, "field_writer", "(self, storage, segment)"),
    (W3Codec, "terms_reader", "(self, storage, segment)"),
    (W3PostingsWriter, "__init__", "(self, postfile, blocklimit, byteids=False, compression=3, inlinelimit=1)"),
    (W3PostingsWriter, "_mini_ids", "(self)"),
    (W3PostingsWriter, "_write_block", "(self, last=False)"),
    (W3PostingsWriter, "start_postings", "(self, format_, terminfo)"),
    (W3PostingsWriter, "finish_postings", "(self)"),
    (W3PostingsWriter, "written", "(self)"),
    # compact term infos, written and read (postings.py)
    (W3FieldWriter, "__init__", "(self, codec, storage, segment)"),
    (W3FieldWriter, "start_field", "(self, fieldname, fieldobj)"),
    (W3FieldWriter, "start_term", "(self, btext)"),
    (W3FieldWriter, "finish_term", "(self)"),
    (W3FieldWriter, "finish_field", "(self)"),
    (W3FieldWriter, "add_postings", "(self, schema, lengths, items)"),
    (W3TermInfo, "from_bytes", "(s)"),
    (W3TermInfo, "to_bytes", "(self)"),
    (W3TermInfo, "add_block", "(self, block)"),
    (W3TermsReader, "__init__", "(self, codec, dbfile, length, postfile)"),
    (W3TermsReader, "_keycoder", "(self, fieldname, tbytes)"),
    (W3TermsReader, "_keydecoder", "(self, keybytes)"),
    (W3FieldCursor, "__init__", "(self, tindex, fieldname, keycoder, keydecoder, fieldobj)"),
    (
        ListMatcher,
        "__init__",
        "(self, ids, weights=None, values=None, format=None, scorer=None, position=0, all_weights=None, term=None,"
        + " terminfo=None)",
    ),
    (W3LeafMatcher, "__init__", "(self, postfile, startoffset, length, format_, term=None, byteids=None, scorer=None)"),
    (W3LeafMatcher, "_read_data", "(self)"),
    (W3LeafMatcher, "_read_ids", "(self)"),
    (W3LeafMatcher, "_goto", "(self, position)"),
    # memory-mapped files (storage.py)
    (FileStorage, "__init__", "(self, path, supports_mmap=True, readonly=False, debug=False)"),
    (FileStorage, "_fpath", "(self, fname)"),
    (FileStorage, "open_file", "(self, name, **kwargs)"),
    (StructFile, "__init__", "(self, fileobj, name=None, onclose=None)"),
    (StructFile, "get", "(self, position, length)"),
    # the parallel rebuild's writers
    (
        SegmentWriter,
        "__init__",
        "(self, ix, poolclass=None, timeout=0.0, delay=0.1, _lk=True, limitmb=128, docbase=0, codec=None,"
        " compound=True, **kwargs)",
    ),
    (SegmentWriter, "_finalize_segment", "(self)"),
    (SegmentWriter, "_partial_segment", "(self)"),
    (SegmentWriter, "_merge_segments", "(self, mergetype, optimize, merge)"),
    (SegmentWriter, "_commit_toc", "(self, segments)"),
    (SegmentWriter, "_finish", "(self)"),
    (SegmentWriter, "temp_storage", "(self)"),
    (SegmentWriter, "write_per_doc", "(self, fieldnames, reader)"),
    (MpWriter, "__init__", "(self, ix, procs=None, batchsize=100, subargs=None, multisegment=False, **kwargs)"),
    (MpWriter, "_new_task", "(self)"),
    (MpWriter, "_enqueue", "(self)"),
    (MpWriter, "_commit", "(self, mergetype, optimize, merge)"),
    (MpWriter, "_read_and_renumber_run", "(self, path, offset)"),
    (MpWriter, "_merge_subsegments", "(self, results, mergetype)"),
    (SubWriterTask, "__init__", "(self, storage, indexname, jobqueue, resultqueue, kwargs, multisegment)"),
    (SubWriterTask, "run", "(self)"),
    (SubWriterTask, "_process_file", "(self, filename, doc_count)"),
    (SubWriterTask, "cancel", "(self)"),
    (TOC, "_latest_generation", "(storage, indexname)"),
    (TOC, "read", "(storage, indexname, gen=None, schema=None)"),
    (SegmentReader, "segment", "(self)"),
    # a term's matcher without the deletions' filter (docsets.py)
    (SegmentReader, "_text_to_bytes", "(self, fieldname, text)"),
    (W3TermsReader, "matcher", "(self, fieldname, tbytes, format_, scorer=None)"),
]


@pytest.mark.parametrize(
    ("owner", "name", "signature"), SIGNATURES, ids=[f"{o.__name__}.{n}" for o, n, _ in SIGNATURES]
)
def test_private_methods_keep_their_signatures(owner: type, name: str, signature: str) -> None:
    method = getattr(owner, name, None)
    expect(callable(method), f"{owner.__module__}.{owner.__qualname__}.{name} is gone")
    found = str(inspect.signature(method))
    expect(
        found == signature, f"{owner.__qualname__}.{name}{found}, where it was {owner.__qualname__}.{name}{signature}"
    )


def test_clean_files_keeps_its_signature() -> None:
    found = str(inspect.signature(clean_files))
    expect(found == "(storage, indexname, gen, segments)", f"whoosh.index.clean_files{found}")


def test_leftovers_are_cleaned_and_purged_segments_dropped(tmp_path: Path) -> None:
    """What the indexer asks of these helpers, on a real index of two segments."""
    schema = Schema(id=ID(stored=True, unique=True))
    ix = whoosh_index.create_in(str(tmp_path), schema)
    for batch in (("a", "b"), ("c", "d")):
        writer = ix.writer()
        for doc in batch:
            writer.add_document(id=doc)
        writer.commit(mergetype=NO_MERGE)
    (tmp_path / "left.tmp").mkdir()
    (tmp_path / "MAIN_orphan.seg").write_bytes(b"")
    removed = clean_leftovers(FileStorage(str(tmp_path)), tmp_path)
    expect("left.tmp" in removed and "MAIN_orphan.seg" in removed, f"leftovers not cleaned: {removed}")
    with ix.searcher() as searcher:
        [doc] = list(searcher.document_numbers(id="c"))
        held = segments_holding(searcher, [doc])
        expect(len(held) == 1, f"segments_holding found {held}")
        expect(sorted(segment_ids(searcher, held)) == ["c", "d"], "segment_ids lost a document")
    writer = ix.writer()
    writer.add_document(id="d")
    writer.commit(mergetype=drop_segments(held))
    with ix.searcher() as searcher:
        ids = sorted(searcher.stored_fields(n)["id"] for n in range(searcher.doc_count_all()))
    expect(ids == ["a", "b", "d"], f"drop_segments left {ids}")


def test_finish_subsegment_keeps_its_signature() -> None:
    found = str(inspect.signature(finish_subsegment))
    expect(found == "(writer, k=64)", f"whoosh.multiproc.finish_subsegment{found}")


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_sub_writers_make_their_writer_by_the_module_name() -> None:
    """ParallelWriter's tasks swap the writer class by rebinding whoosh.multiproc.SegmentWriter."""
    source = inspect.getsource(SubWriterTask.run)
    expect("SegmentWriter(ix" in source, "SubWriterTask.run no longer makes its writer as SegmentWriter(ix, ...)")
    expect(multiproc.SegmentWriter is SegmentWriter, "whoosh.multiproc.SegmentWriter is not writing.SegmentWriter")


def test_whoosh_still_never_inlines_postings() -> None:
    """CompactTermInfo inlines small posting lists itself: W3's own inlining calls a method
    its term info lacks, and is only kept off by the default limit of one."""
    source = inspect.getsource(W3PostingsWriter.finish_postings)
    expect("len(self) < self._inlinelimit" in source, "W3PostingsWriter.finish_postings inlines differently")
    expect(not hasattr(W3TermInfo, "set_inline"), "W3TermInfo now has set_inline: Whoosh's inlining may work")


def test_the_field_writer_keeps_what_the_packed_one_reads(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    writer = ix.writer(codec=PackedCodec(), compound=False)
    try:
        fw = writer.fieldwriter
        fw.start_field("words", _schema()["words"])
        for name in ("_tindex", "_fieldid", "_postwriter", "_fieldobj"):
            expect(hasattr(fw, name), f"W3FieldWriter has no {name}")
        fw.start_term(b"all")
        pw = fw._postwriter
        for name in ("_ids", "_weights", "_values", "_maxweight", "_terminfo", "_byteids", "_blocklimit"):
            expect(hasattr(pw, name), f"W3PostingsWriter has no {name}")
        info = W3TermInfo()
        for name in ("_weight", "_df", "_minlength", "_maxlength", "_maxweight", "_minid", "_maxid", "_inlined"):
            expect(hasattr(info, name), f"W3TermInfo has no {name}")
        pw.add_posting(0, 1.0, b"")
        fw.finish_term()
        fw.finish_field()
    finally:
        writer.cancel()


# -- a tiny real index -----------------------------------------------------------------


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), words=KEYWORD)


def _words(n: int) -> str:
    return " ".join(["all", "even" if n % 2 == 0 else "odd", f"only{n}"])


def _build(path: Path, codec: Any, **writer: Any) -> Any:
    path.mkdir()
    ix = whoosh_index.create_in(str(path), _schema())
    w = ix.writer(codec=codec, compound=False, **writer)
    for n in range(DOCS):
        w.add_document(id=str(n), words=_words(n))
    w.commit()
    return ix


@pytest.fixture(scope="module", params=["packed", "whoosh"])
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One segment of 40 documents with one deleted, written with the packed codec or
    Whoosh's own (compressed blocks, as Whoosh writes by default)."""
    kind = request.param
    codec = PackedCodec(blocklimit=BLOCK, compression=0) if kind == "packed" else W3Codec(blocklimit=BLOCK)
    path = tmp_path_factory.mktemp("tiny") / kind
    ix = _build(path, codec)
    w = ix.writer(codec=codec, compound=False)
    w.delete_by_term("id", str(DELETED))
    w.commit(merge=False)
    return kind, path


def _leaf(searcher: Any) -> Any:
    leaves = list(searcher.reader().leaf_readers())
    expect(len(leaves) == 1 and leaves[0][1] == 0, "leaf_readers() does not give (reader, offset) pairs")
    return leaves[0][0]


def test_a_matcher_reads_a_block_as_docsets_walks_it(tiny: tuple[str, Path]) -> None:
    kind, path = tiny
    with MappedStorage(str(path)).open_index().searcher() as searcher:
        leaf = _leaf(searcher)
        wrapped = leaf.postings("words", "all")
        matcher = getattr(wrapped, "child", None)
        expect(isinstance(matcher, W3LeafMatcher), "a segment with deletions no longer wraps its W3 matcher as .child")
        expect(isinstance(matcher, PackedLeafMatcher) == (kind == "packed"), "the codec's postings_reader is not used")
        for name in ("_atend", "_lastblock", "_nextoffset", "_data", "_byteids"):
            expect(hasattr(matcher, name), f"W3LeafMatcher has no {name}")
        matcher.reset()  # back to the first block (the deletions' filter has read it)
        expect(matcher._data is None, "W3LeafMatcher._data is read before it is asked for")
        expect(matcher._atend is False and matcher._lastblock is False, "_atend/_lastblock on a first block of five")
        expect(not matcher._byteids, "W3LeafMatcher._byteids is set on document postings")
        matcher._read_data()
        data = matcher._data
        expect(isinstance(data, tuple) and len(data) >= 1, f"W3LeafMatcher._data is a {type(data).__name__}")
        ids = data[0]
        if kind == "packed":
            expect(is_packed(ids), "a packed block's ids are not the string PackedPostingsWriter._mini_ids wrote")
        else:
            expect(
                isinstance(ids, tuple | list | array) and list(ids) == [0] + [1] * (BLOCK - 1),
                f"a W3 block's ids are not gaps: {ids!r}",
            )
        following = matcher._nextoffset
        expect(isinstance(following, int) and following > 0, "W3LeafMatcher._nextoffset is not a file offset")
        matcher._goto(following)
        expect(matcher._data is None, "W3LeafMatcher._goto does not reset _data for the next block")

        blocks = [list(map(int, block)) for block in leaf_ids(leaf.postings("words", "all"))]
        expect(len(blocks) == DOCS // BLOCK, f"{len(blocks)} blocks read for {DOCS} postings of {BLOCK}")
        expect(
            [n for block in blocks for n in block] == list(range(DOCS)),
            "the blocks read whole are not the term's documents",
        )
        public = list(leaf.postings("words", "even").child.all_ids())  # Whoosh's walk, posting by posting
        walked = [int(n) for block in leaf_ids(leaf.postings("words", "even")) for n in block]
        expect(walked == public == list(range(0, DOCS, 2)), "the blocks read whole differ from Whoosh's own walk")
        inlined = [list(block) for block in leaf_ids(leaf.postings("words", "only5"))]
        expect(inlined == [[5]], f"a term of one document read as {inlined}")


def test_a_term_is_read_with_its_deleted_documents_and_no_block_read_first(tiny: tuple[str, Path]) -> None:
    _, path = tiny
    with MappedStorage(str(path)).open_index().searcher() as searcher:
        leaf = _leaf(searcher)
        expect(leaf.has_deletions(), "the tiny index lost its deletion")
        for name in ("_terms", "schema", "is_closed"):
            expect(hasattr(leaf, name), f"SegmentReader has no {name}")
        matcher = term_postings(leaf, "words", "all")
        expect(isinstance(matcher, W3LeafMatcher), f"a term's own matcher is a {type(matcher).__name__}")
        expect(matcher._ids is None and matcher._data is None, "the term's first block is read before it is asked for")
        found = [int(n) for block in leaf_ids(matcher) for n in block]
        expect(found == list(range(DOCS)), "the deleted document is not among the term's postings")
        filtered = [int(n) for block in leaf_ids(leaf.postings("words", "all")) for n in block]
        expect(DELETED in filtered, "leaf_ids of Whoosh's filtered matcher no longer reads its child whole")
        inlined = [list(block) for block in leaf_ids(term_postings(leaf, "words", "only5"))]
        expect(inlined == [[5]], f"a term of one document read as {inlined}")
        for field, text in (("words", "nowhere"), ("nofield", "all")):
            with pytest.raises(TermNotFound):
                term_postings(leaf, field, text)


def test_deleted_documents_are_a_set_on_the_segment_reader(tiny: tuple[str, Path]) -> None:
    _, path = tiny
    with MappedStorage(str(path)).open_index().searcher() as searcher:
        leaf = _leaf(searcher)
        expect(isinstance(leaf.deleted_docs_set, frozenset), "SegmentReader.deleted_docs_set is not a set")
        expect(set(deleted_docs(leaf)) == {DELETED}, "SegmentReader.deleted_docs_set does not hold the deletions")


def test_index_files_are_read_through_struct_file_get(tiny: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = tiny
    calls: list[tuple[int, int]] = []
    original = MappedFile.get

    def counting(self: MappedFile, position: int, length: int) -> bytes:
        calls.append((position, length))
        return original(self, position, length)

    monkeypatch.setattr(MappedFile, "get", counting)
    storage = MappedStorage(str(path))
    expect(storage.readonly and Path(storage.folder) == path, "FileStorage keeps no .readonly/.folder")
    with storage.open_index().searcher() as searcher:
        leaf = _leaf(searcher)
        matcher = leaf.postings("words", "all").child
        expect(isinstance(matcher._postfile, MappedFile), "postings are not read from MappedStorage.open_file")
        expect(isinstance(matcher._postfile.file, mmap.mmap), "StructFile.file is not the file object it wraps")
        calls.clear()
        matcher._read_data()
        expect(calls, "W3LeafMatcher._read_data no longer reads through StructFile.get")


def test_codec_attributes_the_packed_codec_reads() -> None:
    codec = W3Codec(blocklimit=5, compression=0, inlinelimit=2)
    found = {name: getattr(codec, name, None) for name in ("_blocklimit", "_compression", "_inlinelimit")}
    expect(found == {"_blocklimit": 5, "_compression": 0, "_inlinelimit": 2}, f"W3Codec keeps {found}")
    expect(isinstance(getattr(Codec, "length_stats", None), bool), "Codec.length_stats is gone")


# -- the writers a parallel rebuild drives ----------------------------------------------


def test_writer_attributes(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), _schema())
    single = ix.writer(codec=PackedCodec(), compound=False)
    try:
        expect(type(single) is SegmentWriter, f"Index.writer() gives a {type(single).__name__}")
        for name in ("pool", "codec", "docnum", "perdocwriter", "fieldwriter", "_added", "storage", "indexname"):
            expect(hasattr(single, name), f"SegmentWriter has no {name}")
        expect(hasattr(single.pool, "add") and hasattr(single.pool, "iter_postings"), "SegmentWriter.pool changed")
    finally:
        single.cancel()
    parallel = ix.writer(procs=2, multisegment=True, codec=PackedCodec(), compound=False)
    try:
        expect(type(parallel) is MpWriter, f"Index.writer(procs=2) gives a {type(parallel).__name__}")
        expect(parallel.tasks == [], "MpWriter.tasks is not an empty list before documents come")
        for name in ("jobqueue", "resultqueue", "docbuffer", "procs", "batchsize", "subargs", "multisegment"):
            expect(hasattr(parallel, name), f"MpWriter has no {name}")
        task = SubWriterTask(ix.storage, ix.indexname, parallel.jobqueue, parallel.resultqueue, {}, True)
        expect(isinstance(task, multiprocessing.Process), "SubWriterTask is not a Process")
        for name in ("storage", "indexname", "jobqueue", "resultqueue", "kwargs", "multisegment", "running"):
            expect(hasattr(task, name), f"SubWriterTask has no {name}")
        expect(task.jobqueue is parallel.jobqueue, "SubWriterTask does not keep the job queue it is given")
    finally:
        parallel.cancel()


@pytest.mark.parametrize("multisegment", [False, True], ids=["merged", "multisegment"])
def test_a_parallel_build_indexes_every_document(tmp_path: Path, multisegment: bool) -> None:
    """Whoosh's own parallel writer, with the packed codec: sub-writer segments kept, or their
    posting runs merged by the parent (``_read_and_renumber_run``)."""
    codec = PackedCodec(blocklimit=BLOCK, compression=0)
    _build(tmp_path / "ix", codec, procs=2, batchsize=5, multisegment=multisegment)
    with MappedStorage(str(tmp_path / "ix")).open_index().searcher() as searcher:
        expect(searcher.doc_count() == DOCS, f"a parallel build kept {searcher.doc_count()} of {DOCS} documents")
        found: list[int] = []
        for leaf, offset in searcher.reader().leaf_readers():
            try:  # a sub-writer that was given no documents leaves an empty segment
                postings = leaf.postings("words", "all")
            except TermNotFound:
                continue
            found += [offset + int(n) for block in leaf_ids(postings) for n in block]
        found.sort()
        expect(found == list(range(DOCS)), "a parallel build's postings are not one per document")
        ids = {fields["id"] for fields in searcher.all_stored_fields()}
        expect(ids == {str(n) for n in range(DOCS)}, "a parallel build lost stored fields")
