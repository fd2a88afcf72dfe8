"""Completing a query while it is typed, on a vocabulary built here from a few headlines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opennews.search.completion import complete
from opennews.search.vocabulary import Vocabulary

HEADLINES = [
    *["Tai nạn giao thông ở Hà Nội"] * 3,
    "Tai nạn giao thông trên cao tốc",
    "Giao thông Hà Nội ùn tắc",
    "Hà Nam có tai nạn lao động",
    "Tài năng trẻ của Hà Nội",
    "Hòa bình ở Trung Đông",
    "Hoàn thành cao tốc",
    "Đến với tin vui",
    "Hiểu thông minh là gì",
]


@pytest.fixture
def vocab(tmp_path: Path) -> Iterator[Vocabulary]:
    built = Vocabulary(tmp_path / "vocabulary.sqlite3")
    for headline in HEADLINES:
        built.add_text(headline)
    built.flush()
    yield built
    built.close()


def test_the_partial_syllable_is_completed_after_the_reading_of_the_whole_ones(vocab: Vocabulary) -> None:
    assert complete(vocab, "ha no")[0] == "hà nội"
    assert complete(vocab, "ha n") == ["hà nội", "hà nam"]  # three times "hà nội", once "hà nam"
    assert complete(vocab, "tai nan g")[0] == "tai nạn giao thông"  # "giao" is always followed by "thông"
    assert complete(vocab, "tai nan gi")[:2] == ["tai nạn giao thông", "tai nạn giao"]
    assert complete(vocab, "hà nội ") == []  # nothing partial: the next word is not guessed


def test_marks_typed_are_kept(vocab: Vocabulary) -> None:
    assert complete(vocab, "hà n")[0] == "hà nội"
    assert complete(vocab, "hà nộ") == ["hà nội"]  # not "hà nam": the ộ was typed
    assert complete(vocab, "tài n") == ["tài năng"]  # never "tai nạn"; seen once, so not extended
    assert sorted(complete(vocab, "hò")) == ["hoàn", "hòa"]  # the tone may sit elsewhere once the syllable grows
    assert sorted(complete(vocab, "hoà")) == ["hoàn", "hòa"]
    assert complete(vocab, "hoà b")[0] == "hòa bình"  # hoà = hòa


def test_no_completion_for_a_reading_the_archive_lacks(vocab: Vocabulary) -> None:
    assert vocab.restore(["den", "tin", "hieu"]) == ["đến", "tin", "hiểu"]
    assert not vocab.supports(["đến", "tin", "hiểu"])  # "tin hiểu" is no pair of any headline
    assert complete(vocab, "den tin hieu th") == []
    assert complete(vocab, "qua") == [] and complete(vocab, "ha xy") == []
    assert complete(vocab, "") == [] and complete(vocab, "   ") == []
