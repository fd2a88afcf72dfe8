"""The index document's terms, worked out once per article from its cuts, are exactly the
terms the fields' analyzers make of the same text (which queries and any other caller
still go through)."""

from __future__ import annotations

import gzip
import itertools

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, needs_shared
from opennews.demo import generate
from opennews.search.schema import StoredText, build_schema, document_for
from opennews.vietnamese import fold

SCHEMA = build_schema()
TERM_FIELDS = ("all_f", "all_bi", "title", "title_f", "title_bi", "sapo_f", "sapo_bi", "front_xbi")


def analysed(record: dict) -> dict[str, set[str]]:
    """What the analyzers make of the article's text, laid out as before terms were worked
    out from cuts: the parts joined by blank lines, the headline and lead together for the
    written pairs."""
    title, sapo, body = record.get("title") or "", record.get("sapo") or "", record.get("body") or ""
    if sapo and body.startswith(sapo):
        body = body[len(sapo) :].lstrip()
    texts = {
        "all_f": "\n\n".join(x for x in (title, sapo, body) if x),
        "title": title,
        "sapo": sapo,
        "front": "\n\n".join(x for x in (title, sapo) if x),
    }
    source = {"all_f": "all_f", "all_bi": "all_f", "front_xbi": "front"}
    source |= {f: "title" for f in ("title", "title_f", "title_bi")} | {"sapo_f": "sapo", "sapo_bi": "sapo"}
    out = {}
    for field in TERM_FIELDS:
        analyzer = SCHEMA[field].analyzer
        out[field] = {t.text for t in analyzer(texts[source[field]])} if texts[source[field]] else set()
    return out


def given_terms(record: dict) -> dict[str, set[str]]:
    doc = document_for({"id": "x", "content_hash": "h", "source": "s", **record})
    return {field: set(doc.get(field, set())) for field in TERM_FIELDS}


def record(title: str, sapo: str, body: str) -> dict:
    return {"title": title, "sapo": sapo, "body": body, "published": "2024-01-02"}


def test_terms_from_cuts_are_the_analyzers_terms_on_demo_articles() -> None:
    for rec in generate(300, seed=11):
        assert given_terms(rec) == analysed(rec), rec["title"]


def test_the_edges_pairs_and_breaks_give_the_same_terms() -> None:
    cases = [
        record("Hà Nội", "Mưa lớn", "Mưa lớn kéo dài.\n\nHà Nội ngập"),  # lead repeated as the body's start
        record("", "", "một\n\n\nhai ba"),
        record("Thuỷ điện Hoà Bình", "", "Hòa  Bình\t—  thủy điện, 2024: 3 tổ máy"),  # old tone places, numbers
        record("Tiếng Việt có dấu", "Tie\u0302\u0301ng Vie\u0323\u0302t", "NFD và NFC"),
        record("x", "y", ""),
    ]
    for rec in cases:
        assert given_terms(rec) == analysed(rec), rec


text = st.text(
    alphabet=st.sampled_from(
        list("aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọờớởỡợùúủũụừứửữựỳýỷỹỵ0123 \n.,-")
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(text, text, text)
def test_any_text_gives_the_same_terms_both_ways(title: str, sapo: str, body: str) -> None:
    rec = record(title, sapo, body)
    assert given_terms(rec) == analysed(rec)


@needs_shared(CORPUS)
def test_real_articles_give_the_same_terms_both_ways() -> None:
    with gzip.open(CORPUS, "rb") as f:
        for line in itertools.islice(f, 0, 90_000, 300):
            rec = orjson.loads(line)
            assert given_terms(rec) == analysed(rec), rec.get("url")
            text = StoredText.decode(document_for({**rec, "id": "x", "content_hash": "x"})["text"])
            assert text.folded == [" " + fold(p[1:-1]) + " " for p in text.exact], rec.get("url")
