"""The synthetic demo corpus: deterministic, well-formed, and hard enough on search to be worth indexing."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from opennews.demo import generate
from opennews.vietnamese import place_tones

KEYS = {"url", "source", "category", "title", "sapo", "body", "author", "published", "images", "tags"}
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, object]]:
    return list(generate(2000, seed=0))


def _text(record: dict[str, object]) -> str:
    """What an outlet wrote in its own style (title, sapo, body, captions), composed to NFC."""
    captions = " ".join(str(i["caption"]) for i in record["images"])  # type: ignore[attr-defined]
    return unicodedata.normalize("NFC", f"{record['title']}\n{record['sapo']}\n{record['body']}\n{captions}")


def test_same_seed_gives_the_same_corpus() -> None:
    assert list(generate(300, seed=7)) == list(generate(300, seed=7))


def test_different_seeds_give_different_corpora() -> None:
    a, b = list(generate(200, seed=1)), list(generate(200, seed=2))
    assert sum(x["title"] != y["title"] for x, y in zip(a, b, strict=True)) > 150


def test_more_articles_extend_fewer() -> None:
    assert list(generate(120, seed=3))[:50] == list(generate(50, seed=3))


@pytest.mark.parametrize("n", [0, 1, 37])
def test_count(n: int) -> None:
    assert len(list(generate(n, seed=5))) == n


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        generate(-1)


def test_record_shape(corpus: list[dict[str, object]]) -> None:
    for r in corpus:
        assert set(r) == KEYS
        for key in ("url", "source", "category", "title", "sapo", "body", "published"):
            assert isinstance(r[key], str) and r[key], key
        assert r["author"] is None or (isinstance(r["author"], str) and r["author"].strip())
        assert isinstance(r["images"], list) and len(r["images"]) <= 3
        for image in r["images"]:
            assert set(image) == {"url", "caption"} and image["caption"]
        tags = r["tags"]
        assert isinstance(tags, list) and 1 <= len(tags) <= 5 and len(set(tags)) == len(tags) and all(tags)
        assert "\n" not in r["title"] and not r["title"].endswith(".") and not r["title"][0].islower()


def test_sapo_and_body_structure(corpus: list[dict[str, object]]) -> None:
    for r in corpus:
        assert 1 <= len(SENTENCE_END.findall(str(r["sapo"]))) <= 2
        paragraphs = str(r["body"]).split("\n\n")
        assert 4 <= len(paragraphs) <= 12
        for p in paragraphs:
            assert p.strip() == p and "\n" not in p
            assert 2 <= len(SENTENCE_END.findall(p)) <= 5, p


def test_urls_are_unique_absolute_and_on_the_outlet(corpus: list[dict[str, object]]) -> None:
    assert len({r["url"] for r in corpus}) == len(corpus)
    for r in corpus:
        parts = urlsplit(str(r["url"]))
        assert parts.scheme == "https" and parts.hostname == r["source"]
        assert str(r["source"]).endswith(".example")
        assert re.fullmatch(r"/[a-z-]+/[a-z0-9-]+-\d+\.html", parts.path), parts.path
        for image in r["images"]:  # type: ignore[attr-defined]
            img = urlsplit(image["url"])
            assert img.scheme == "https" and img.hostname == r["source"]


def test_outlets_and_sections_vary() -> None:
    sample = list(generate(500, seed=11))
    assert len({r["source"] for r in sample}) >= 6
    assert len({r["category"] for r in sample}) >= 10
    assert {"Thời sự", "Kinh doanh", "Thể thao", "Giáo dục", "Sức khỏe", "Thế giới"} <= {r["category"] for r in sample}


def test_published_dates(corpus: list[dict[str, object]]) -> None:
    low = datetime.fromisoformat("2015-01-01T00:00:00+07:00")
    high = datetime.fromisoformat("2025-12-31T23:59:59+07:00")
    years = set()
    for r in corpus:
        published = str(r["published"])
        when = datetime.fromisoformat(published)
        assert published.endswith("+07:00") and when.utcoffset() == timedelta(hours=7)
        assert low <= when <= high
        years.add(when.year)
    assert years == set(range(2015, 2026))


def test_tone_style_is_per_outlet_and_both_appear(corpus: list[dict[str, object]]) -> None:
    by_source: dict[str, list[str]] = defaultdict(list)
    for r in corpus:
        by_source[str(r["source"])].append(_text(r).lower())
    second = {s for s, texts in by_source.items() if any(place_tones(t, "first") != t for t in texts)}
    first = set(by_source) - second
    assert len(first) >= 3 and len(second) >= 3 and abs(len(first) - len(second)) <= 2
    for source, texts in by_source.items():
        joined = "\n".join(texts)
        words = set(re.findall(r"\w+", joined))
        if source in second:  # consistently "hoà, thuỷ, khoẻ": nothing left in the other style
            assert place_tones(joined, "second") == joined
            assert words & {"hoà", "thuỷ", "khoẻ"} and not words & {"hòa", "thủy", "khỏe"}
        else:
            assert words & {"hòa", "thủy", "khỏe"} and not words & {"hoà", "thuỷ", "khoẻ"}


def test_scraped_noise_is_present_but_rare(corpus: list[dict[str, object]]) -> None:
    n = len(corpus)
    nfd = sum(unicodedata.normalize("NFC", str(r["body"])) != r["body"] for r in corpus)
    odd_spaces = sum("\u00a0" in str(r["body"]) or "\u200b" in str(r["body"]) for r in corpus)
    bare = sum(r["author"] is None and not r["images"] for r in corpus)
    no_author = sum(r["author"] is None for r in corpus)
    assert 0.01 * n <= nfd <= 0.06 * n
    assert 0.01 * n <= odd_spaces <= 0.06 * n
    assert 0.015 * n <= bare <= 0.08 * n
    assert 0.08 * n <= no_author <= 0.25 * n
    for r in corpus:  # only the body is ever decomposed
        for key in ("title", "sapo"):
            assert unicodedata.is_normalized("NFC", str(r[key]))


def test_titles_are_mostly_distinct(corpus: list[dict[str, object]]) -> None:
    assert len({r["title"] for r in corpus}) >= 0.9 * len(corpus)


def test_text_exercises_vietnamese_search(corpus: list[dict[str, object]]) -> None:
    text = "\n".join(_text(r) for r in corpus)
    words = set(re.findall(r"\w+", text.lower()))
    # Words that fold to the same letters, and oa/oe/uy words in either style.
    assert {"bán", "bạn", "bàn", "bản", "đường", "dương", "đầu"} <= words
    for first, second in [
        ("hòa", "hoà"),
        ("hóa", "hoá"),
        ("khỏe", "khoẻ"),
        ("thủy", "thuỷ"),
        ("tùy", "tuỳ"),
        ("họa", "hoạ"),
        ("lũy", "luỹ"),
        ("thụy", "thuỵ"),
    ]:
        assert first in words and second in words, first
    assert "UBND" in text and "TP.HCM" in text and "Đ" in text
    assert re.search(r"\b\d{1,3}(?:\.\d{3})+\b", text)  # 24.000
    assert not re.search(r"\b\d{1,3},\d{3}\b", text)  # never 24,000
    assert re.search(r"ngày \d{1,2}/\d{1,2}\b", text)


def test_records_are_accepted_by_the_archive() -> None:
    from opennews.article import make_article

    for r in generate(300, seed=4):
        article = make_article(r)
        assert article.url == r["url"] and article.source == r["source"]
        assert "\u200b" not in article.body and "\u00a0" not in article.body
