"""The project's real inputs: the seed page, the raw samples, and the whole shared corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from conftest import CORPUS, RAW_SAMPLES, SEEDS, needs_shared
from opennews.archive import Archive

Cli = Callable[..., tuple[int, str, str]]


def records(home: Path) -> list[dict]:
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        return [orjson.loads(r) for r in archive.iter_json()]


@needs_shared(SEEDS)
def test_seed_page_is_one_clean_article(cli: Cli, home: Path) -> None:
    code, out, _ = cli("ingest", "--quiet", str(SEEDS))
    assert code == 0 and "rejected 0" in out
    [a] = records(home)
    assert a["title"] == "Ông Nguyễn Bá Luân tái đắc cử Bí thư Đảng bộ cơ sở Sở Thông tin và Truyền thông Long An"
    assert a["sapo"].startswith("Với khẩu hiệu hành động")
    assert a["published"] == "2020-06-01T09:29:00+07:00"
    assert a["author"] == "Hùng Cường"
    assert a["images"][0]["caption"].startswith("Ban Chấp hành Đảng bộ cơ sở")
    body = a["body"]
    assert body.startswith("Nhiệm kỳ qua") and body.endswith("lần thứ XI./.")
    for chrome in ("Chia sẻ", "Tiếng Việt", "English", "Hùng Cường", "ra mắt Đại hội\n"):
        assert chrome not in body


@needs_shared(RAW_SAMPLES)
def test_every_raw_sample_format_is_read(cli: Cli, home: Path) -> None:
    code, out, _ = cli("ingest", "--json", "--quiet", str(RAW_SAMPLES))
    summary = orjson.loads(out)
    assert code == 0 and summary["rejected"] == 0
    assert summary["added"] == 27  # 30 files, 27 articles (3 body/info pairs)
    formats = {i["format"] for i in summary["inputs"]}
    assert formats == {"text", "keyvalue", "headers", "json"}
    for rec in records(home):
        assert rec["title"] and rec["body"]
        assert "_" not in rec["title"], "word segmentation undone"


@pytest.mark.slow
@needs_shared(CORPUS)
def test_whole_corpus_ingests_then_is_unchanged(cli: Cli, home: Path) -> None:
    code, out, _ = cli("ingest", "--json", "--quiet", "--no-index", "--no-dumps", str(CORPUS))
    first = orjson.loads(out)
    assert code == 0
    assert first["added"] + first["rejected"] == 90_159
    assert first["rejected"] == 0, first["rejects"][:5]
    code, out, _ = cli("ingest", "--json", "--quiet", "--no-index", "--no-dumps", str(CORPUS))
    second = orjson.loads(out)
    assert second["unchanged"] == first["added"] and second["added"] == second["updated"] == 0
