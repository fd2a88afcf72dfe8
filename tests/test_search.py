"""Vietnamese-aware search, end to end on a small archive written for the purpose."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennews.archive import Archive
from opennews.article import make_article
from opennews.search import Indexer, Searcher, SearchRequest
from opennews.search.analysis import bigram_analyzer, exact_analyzer, folded_analyzer
from opennews.search.highlight import Highlighter
from opennews.search.query import parse_query

ARTICLES = [
    (
        "hn",
        "Hà Nội mở rộng tuyến phố đi bộ quanh hồ Hoàn Kiếm",
        "Thủ đô thí điểm thêm hai tuyến phố.",
        "Từ tháng sau, người dân Hà Nội có thêm không gian đi bộ vào cuối tuần.",
        "thudo.example",
        "Thời sự",
        "2021-03-01T08:00:00+07:00",
        "Minh Anh",
    ),
    (
        "ban1",
        "Giá bán xăng giảm mạnh",
        "Liên bộ điều chỉnh giá bán lẻ.",
        "Giá bán mỗi lít xăng giảm 800 đồng.",
        "songhong.example",
        "Kinh doanh",
        "2022-05-01T15:00:00+07:00",
        None,
    ),
    (
        "ban2",
        "Người bạn bốn chân của lính biên phòng",
        "Chú chó đồng hành cùng bộ đội.",
        "Người bạn nhỏ theo chân tổ tuần tra suốt mười năm.",
        "songhong.example",
        "Xã hội",
        "2020-01-01T09:00:00+07:00",
        None,
    ),
    (
        "ban3",
        "Bàn giao nhà tái định cư cho người dân",
        "Hơn 100 hộ nhận nhà mới.",
        "Lễ bàn giao diễn ra sáng nay tại phường.",
        "phuongnam.example",
        "Thời sự",
        "2019-07-07",
        None,
    ),
    (
        "tone_old",
        "Thủy điện Hòa Bình xả lũ lần thứ hai",
        "Hồ chứa đón lũ lớn.",
        "Nhà máy thủy điện mở thêm cửa xả đáy.",
        "phuongnam.example",
        "Thời sự",
        "2018-07-20T07:00:00+07:00",
        "Thu Hà",
    ),
    (
        "tone_new",
        "Khoẻ mạnh nhờ đi bộ mỗi ngày ở Hoà Bình",
        "Bác sĩ khuyên người cao tuổi vận động.",
        "Ở tỉnh Hoà Bình, quanh hồ thuỷ điện, nhiều câu lạc bộ đi bộ được thành lập.",
        "cuulong.example",
        "Sức khỏe",
        "2023-02-02T10:00:00+07:00",
        None,
    ),
    (
        "dn",
        "Ðà Nẵng đón khách quốc tế",
        "Sân bay tấp nập.",
        "Ngành du lịch Đà Nẵng phục hồi.",
        "duyenhai.example",
        "Du lịch",
        "2022-12-12T12:00:00+07:00",
        None,
    ),
    (
        "tnnt",
        "Tai nạn giao thông giảm trong dịp Tết",
        "Số vụ tai nạn giao thông giảm 10%.",
        "Cảnh sát giao thông tăng cường tuần tra trên quốc lộ. Tai nạn giao thông vẫn là nỗi lo lớn.",
        "thudo.example",
        "Thời sự",
        "2024-02-15T08:00:00+07:00",
        None,
    ),
    (
        "vn",
        "Việt Nam xuất khẩu gạo sang châu Phi",
        "Kim ngạch tăng mạnh.",
        "Gạo Việt Nam được ưa chuộng tại nhiều nước châu Phi.",
        "songhong.example",
        "Kinh doanh",
        "2021-11-11T11:00:00+07:00",
        None,
    ),
    (
        "split",
        "Giao lưu văn hóa tại nhà thông tin",
        "Buổi giao lưu sôi nổi.",
        "Nhà văn hóa mở cửa cho người dân. Thông tin về lịch hoạt động được niêm yết.",
        "cuulong.example",
        "Văn hóa",
        "2020-06-06",
        None,
    ),
]


def _record(key, title, sapo, body, source, category, published, author):
    return make_article(
        {
            "id": f"t-{key}",
            "title": title,
            "sapo": sapo,
            "body": body,
            "source": source,
            "category": category,
            "published": published,
            "author": author,
        }
    )


@pytest.fixture(scope="module")
def search_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("search")
    with Archive.open(home / "opennews.sqlite3") as archive:
        archive.upsert_batch([_record(*a) for a in ARTICLES])
        Indexer(home / "index", archive).rebuild()
    return home


@pytest.fixture
def searcher(search_home: Path):
    archive = Archive.open(search_home / "opennews.sqlite3", readonly=True)
    with Searcher(search_home / "index", archive) as s:
        yield s
    archive.close()


def ids(searcher: Searcher, q: str, **kw) -> list[str]:
    return [h.id for h in searcher.search(SearchRequest(q=q, **kw)).hits]


# -- analysis ---------------------------------------------------------------------------


def test_analyzers_are_vietnamese_pipelines() -> None:
    text = "Thuỷ điện HOÀ Bình ở Ðà Nẵng"
    assert [t.text for t in exact_analyzer()(text)] == ["thủy", "điện", "hòa", "bình", "ở", "đà", "nẵng"]
    assert [t.text for t in folded_analyzer()(text)] == ["thuy", "dien", "hoa", "binh", "o", "da", "nang"]
    assert [t.text for t in bigram_analyzer()("Hà Nội mưa")] == ["ha_noi", "noi_mua"]
    nfd = unicodedata.normalize("NFD", text)
    assert [t.text for t in exact_analyzer()(nfd)] == [t.text for t in exact_analyzer()(text)]


def test_positions_leave_a_gap_between_paragraphs() -> None:
    positions = [t.pos for t in exact_analyzer()("một hai\n\nba", positions=True)]
    assert positions[1] - positions[0] == 1 and positions[2] - positions[1] > 2


# -- query language ------------------------------------------------------------------------


def test_query_language_parses() -> None:
    p = parse_query(
        'hà nội "giao thông" OR xe -tai title:mưa source:a.example category:"Thể thao" '
        "author:'x' from:2020-01-01 to:31/12/2020"
    )
    words = [[c.words for c in g] for g in p.groups]
    assert words[:3] == [[["hà"]], [["nội"]], [["giao", "thông"], ["xe"]]]
    assert p.negative[0].words == ["tai"]
    assert any(c.title_only and c.words == ["mưa"] for g in p.groups for c in g)
    assert (p.source, p.category) == ("a.example", "Thể thao")
    assert str(p.date_from) == "2020-01-01" and str(p.date_to) == "2020-12-31"
    assert p.notes == []


@pytest.mark.parametrize(
    ("q", "note"),
    [
        ('"unbalanced', "unbalanced"),
        ("OR x", "start"),
        ("x OR", "end"),
        ("foo:bar", "unknown field"),
        ("from:yesterday x", "not a date"),
    ],
)
def test_malformed_queries_fall_back_with_a_note(searcher: Searcher, q: str, note: str) -> None:
    r = searcher.search(SearchRequest(q=q))
    assert any(note in n for n in r.notes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*'ab hà"-:()đ*?~^\\', "OR", "title:", "from:", " "]), max_size=25).map("".join))
def test_no_query_ever_raises(searcher: Searcher, q: str) -> None:
    r = searcher.search(SearchRequest(q=q))
    assert r.total >= 0


# -- matching and ranking ----------------------------------------------------------------------


def test_accents_optional(searcher: Searcher) -> None:
    assert ids(searcher, "ha noi")[0] == "t-hn"
    assert ids(searcher, "Hà Nội")[0] == "t-hn"
    assert ids(searcher, "HÀ NOI")[0] == "t-hn"  # mixed: marks on one word only


def test_marks_make_results_more_precise_never_fewer(searcher: Searcher) -> None:
    folded = set(ids(searcher, "ban"))
    assert {"t-ban1", "t-ban2", "t-ban3"} <= folded
    for word, best in (("bán", "t-ban1"), ("bạn", "t-ban2"), ("bàn", "t-ban3")):
        got = ids(searcher, word)
        assert got[0] == best
        assert {"t-ban1", "t-ban2", "t-ban3"} <= set(got)  # the others still match, lower


def test_nfd_and_tone_placement_give_identical_results(searcher: Searcher) -> None:
    for q in ("thủy điện hòa bình", "khỏe mạnh hòa bình"):
        plain = ids(searcher, q)
        assert plain
        assert ids(searcher, unicodedata.normalize("NFD", q)) == plain
        from opennews.vietnamese import place_tones

        assert ids(searcher, place_tones(q, "second")) == plain
    assert "t-tone_new" in ids(searcher, "hòa bình") and "t-tone_old" in ids(searcher, "hoà bình")


def test_eth_lookalike_and_d_bar(searcher: Searcher) -> None:
    assert ids(searcher, "da nang")[0] == "t-dn"
    assert ids(searcher, "Ðà Nẵng")[0] == "t-dn"


def test_phrases_need_neighbours(searcher: Searcher) -> None:
    assert "t-split" in ids(searcher, "giao thông")  # both words, far apart
    assert "t-split" not in ids(searcher, '"giao thông"')
    assert ids(searcher, '"giao thông"')[0] == "t-tnnt"


def test_unquoted_neighbours_rank_first(searcher: Searcher) -> None:
    assert ids(searcher, "giao thong")[0] == "t-tnnt"


def test_or_exclude_and_field_filters(searcher: Searcher) -> None:
    assert set(ids(searcher, "xăng OR gạo")) == {"t-ban1", "t-vn"}
    assert "t-hn" not in ids(searcher, "đi bộ -hồ")
    assert set(ids(searcher, "title:bộ")) == {"t-tone_new", "t-hn"}
    assert ids(searcher, "tuần") and ids(searcher, "title:tuần") == []
    assert set(ids(searcher, "source:songhong.example")) == {"t-ban1", "t-ban2", "t-vn"}
    assert set(ids(searcher, 'category:"thoi su"')) == {"t-hn", "t-ban3", "t-tone_old", "t-tnnt"}
    assert ids(searcher, 'author:"minh anh"') == ["t-hn"]
    assert set(ids(searcher, "from:2022-01-01 to:2022-12-31")) == {"t-ban1", "t-dn"}
    assert set(ids(searcher, "", source="songhong.example", category="Kinh doanh")) == {"t-ban1", "t-vn"}


def test_sort_newest_and_pagination(searcher: Searcher) -> None:
    newest = ids(searcher, "", sort="newest", per_page=3)
    assert newest == ["t-tnnt", "t-tone_new", "t-dn"]
    assert ids(searcher, "", sort="newest", per_page=3, page=2) == ["t-ban1", "t-vn", "t-hn"]
    r = searcher.search(SearchRequest(q="", per_page=3))
    assert r.total == len(ARTICLES) and r.pages == 4


def test_relaxed_when_nothing_has_every_word(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="xuất khẩu gạo sang châu Phi xyzzyq"))
    assert r.relaxed and r.hits[0].id == "t-vn"
    assert any("most of them" in n for n in r.notes)


def test_highlights_match_folded_queries(searcher: Searcher) -> None:
    hit = searcher.search(SearchRequest(q="ha noi")).hits[0]
    assert "<mark>Hà</mark> <mark>Nội</mark>" in hit.title_html
    assert "<mark>Hà</mark> <mark>Nội</mark>" in hit.snippet


def test_highlights_whole_syllables_only_at_the_right_offsets() -> None:
    marker = Highlighter([], ["ha", "noi"])
    # "nhà" and "tha" end in "ha"; a letter outside the BMP before them must not shift offsets.
    marked = marker.mark("𝔸 HÀ NỘI, nhà tha, hà nối_ha")
    assert marked == "𝔸 <mark>HÀ</mark> <mark>NỘI</mark>, nhà tha, <mark>hà</mark> <mark>nối</mark>_<mark>ha</mark>"
    # The longest word is tried first and a word followed by more letters is none; a stray
    # combining mark after a syllable belongs to it.
    marker = Highlighter([], ["ha", "hanh"])
    assert marker.mark("hạnh hànhx hah ha\u0301.") == "<mark>hạnh</mark> hànhx hah <mark>ha\u0301</mark>."


def test_snippets_escape_html(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        archive.upsert_batch(
            [make_article({"id": "x", "title": "<script>alert(1)</script> Huế", "body": "Tin <b>Huế</b> & mưa"})]
        )
        Indexer(tmp_path / "index", archive).rebuild()
        with Searcher(tmp_path / "index", archive) as s:
            hit = s.search(SearchRequest(q="hue")).hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<b>" not in hit.snippet and "&amp;" in hit.snippet


def test_facets_count_every_match(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q=""))
    assert dict(r.facets["source"])["songhong.example"] == 3
    assert sum(n for _, n in r.facets["category"]) == len(ARTICLES)
    assert dict(r.facets["year"])["2022"] == 2


def test_facet_counts_by_value_number_match_counting_set_by_set(searcher: Searcher) -> None:
    sets = searcher._sets
    assert sets is not None
    for bits in (sets.live, sets.term("all_f", "ha"), sets.term("source", "songhong.example"), 0):
        counts = sets.count_by(["source", "category", "year", "author"], bits)
        for field, found in counts.items():
            expected = {v: n for v, docs in sets.values(field).items() if (n := (bits & docs).bit_count())}
            assert found == expected, field
    assert sets._coded("author") is None  # several words per document: counted set by set


def test_did_you_mean_restores_accents(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="tai nan giao thong"))
    assert r.suggestion == "tai nạn giao thông" and r.suggestion_kind == "accents"
    assert r.hits[0].id == "t-tnnt"  # the query itself still ran


def test_telex_that_finds_nothing_runs_its_reading(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="vieetj nam"))
    assert r.ran == "việt nam" and r.ran_kind == "telex"
    assert r.request.q == "vieetj nam"  # the request is still what was typed
    assert r.hits[0].id == "t-vn" and r.total == len(ids(searcher, "việt nam"))
    assert r.suggestion == "việt nam" and r.suggestion_kind == "telex"


def test_exact_searches_what_was_typed(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="vieetj nam", exact=True))
    assert r.ran is None and r.total == 0 and not r.hits
    assert r.suggestion == "việt nam"  # still offered, as "did you mean"


def test_a_query_that_finds_something_is_never_replaced(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="tai nan giao thong"))
    assert r.total and r.ran is None and r.suggestion == "tai nạn giao thông"


def test_a_reading_runs_without_suggestions_asked_for(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="vieetj nam", suggest=False, facets=False))
    assert r.ran == "việt nam" and r.hits[0].id == "t-vn"
    assert r.suggestion is None


def test_related_articles(searcher: Searcher) -> None:
    related = [h.id for h in searcher.related("t-tone_old")]
    assert "t-tone_old" not in related
    assert related and related[0] == "t-tone_new"


def test_limits_are_enforced(searcher: Searcher) -> None:
    r = searcher.search(SearchRequest(q="", per_page=10_000, page=-3))
    assert r.request.per_page == 100 and r.request.page == 1


def _small_home(tmp_path: Path, rows: list[tuple]) -> Searcher:
    with Archive.open(tmp_path / "opennews.sqlite3") as archive:
        archive.upsert_batch([_record(*row) for row in rows])
        Indexer(tmp_path / "index", archive).rebuild()
    return Searcher(tmp_path / "index", Archive.open(tmp_path / "opennews.sqlite3", readonly=True))


def _row(key: str, title: str, body: str, day: str) -> tuple:
    return (key, title, "", body, "example.vn", None, day, None)


def test_a_query_without_marks_prefers_its_likeliest_reading(tmp_path: Path) -> None:
    rows = [_row(f"td{i}", f"Thủy điện số {i} xả lũ", "Nhà máy thủy điện mở cửa xả.", "2020-01-01") for i in range(4)]
    # The rarer reading, newer, and with the folded words more often: only the marks set them apart.
    rows.append(_row("se", "Thụy Điển: động đất ở Thụy Điển", "Thụy Điển, Thụy Điển và Thụy Điển.", "2024-01-01"))
    with _small_home(tmp_path, rows) as searcher:
        r = searcher.search(SearchRequest(q="thuy dien"))
        assert r.suggestion == "thủy điện"
        assert r.hits[0].id.startswith("t-td") and r.total == 5
        assert searcher.search(SearchRequest(q="thụy điển")).hits[0].id == "t-se"  # typed marks win


def test_telex_suggestion_keeps_names_typed_as_they_are(tmp_path: Path) -> None:
    rows = [_row("ars", "Áo số 9: Podolski và lời nguyền ở Arsenal", "Podolski và lời nguyền.", "2020-01-01")]
    with _small_home(tmp_path, rows) as searcher:
        r = searcher.search(SearchRequest(q="podolski vaf lowif nguyeenf owr arsenal"))
        assert r.suggestion_kind == "telex"
        assert r.suggestion == "podolski và lời nguyền ở arsenal"
        assert searcher.search(SearchRequest(q=r.suggestion)).hits[0].id == "t-ars"


def test_a_reading_the_archive_lacks_is_never_suggested(tmp_path: Path) -> None:
    # Every syllable is known, but no headline or lead has "nguyền ở" or "tin hiểu" side by side.
    rows = [_row("ars", "Lời nguyền áo số 9 ở Arsenal", "Podolski và lời nguyền.", "2020-01-01")]
    rows.append(_row("tin", "Đến với tin vui", "Vui.", "2020-01-02"))
    rows.append(_row("hieu", "Hiểu thông minh là gì", "Là gì.", "2020-01-03"))
    with _small_home(tmp_path, rows) as searcher:
        r = searcher.search(SearchRequest(q="podolski vaf lowif nguyeenf owr arsenal"))
        assert r.suggestion is None
        assert searcher._vocab is not None and searcher._vocab.restore(["tin", "hieu"]) == ["tin", "hiểu"]
        assert searcher.search(SearchRequest(q="tin hieu")).suggestion is None
        assert searcher.search(SearchRequest(q="den voi tin")).suggestion == "đến với tin"  # its pairs exist


def test_a_minus_before_a_number_is_part_of_it_not_an_exclusion() -> None:
    parsed = parse_query("Nga chuyển tên lửa S -300 đến Syria -Iran")
    assert [c.words for c in parsed.negative] == [["iran"]]
    assert ["300"] in [c.words for g in parsed.positive for c in g]


def test_undated_articles_come_last_when_sorting_by_newest(tmp_path: Path) -> None:
    rows = [_row("old", "Mưa lớn ở Huế", "Mưa.", "2019-01-01"), _row("new", "Mưa lớn ở Huế", "Mưa.", "2024-01-01")]
    rows.append(_row("undated", "Mưa lớn ở Huế", "Mưa.", None))
    with _small_home(tmp_path, rows) as searcher:
        assert ids(searcher, "mưa", sort="newest") == ["t-new", "t-old", "t-undated"]
        assert ids(searcher, "mưa", sort="oldest") == ["t-undated", "t-old", "t-new"]
        assert searcher.matching_ids(SearchRequest(q="mưa")) == ["t-new", "t-old", "t-undated"]
        assert ids(searcher, "mưa from:2020-01-01") == ["t-new"]  # no date is not a recent date


# -- the reading a query means, and true phrases --------------------------------------------


def test_no_pair_runs_across_a_headline_lead_or_paragraph_boundary() -> None:
    text = "Đêm ở Hà Nội\n\nMưa lớn kéo dài\nHai ngày"
    assert "noi_mua" not in [t.text for t in bigram_analyzer()(text)]
    assert "dai_hai" not in [t.text for t in bigram_analyzer()(text)]
    assert [t.text for t in bigram_analyzer()(text)].count("ha_noi") == 1


def test_a_quoted_phrase_matches_its_words_in_sequence_in_one_part(tmp_path: Path) -> None:
    rows = [
        # The headline ends "Hà Nội", the lead starts "Mưa": no phrase.
        ("edge", "Đêm giao thừa ở Hà Nội", "Mưa phùn kéo dài suốt đêm.", "Đường phố vắng.", "2024-01-01"),
        # Every pair of "hà nội mưa" somewhere, the three words nowhere in sequence.
        ("pairs", "Hà Nội đón khách", "Nội mưa đã tạnh.", "Trời hửng nắng.", "2024-01-02"),
        # A paragraph ends "Hà Nội", the next starts "mưa".
        ("para", "Tin thời tiết", "Bản tin sáng.", "Gió mùa về Hà Nội\nMưa rét kéo dài.", "2024-01-03"),
        ("phrase", "Thời tiết hôm nay", "Hôm nay Hà Nội mưa to.", "Người dân mang áo mưa.", "2020-01-01"),
    ]
    records = [(k, t, s, b, "example.vn", None, d, None) for k, t, s, b, d in rows]
    with _small_home(tmp_path, records) as searcher:
        assert ids(searcher, '"hà nội mưa"') == ["t-phrase"]
        assert ids(searcher, '"ha noi mua"') == ["t-phrase"]
        unquoted = ids(searcher, "hà nội mưa")  # the phrase before words that only meet across a boundary
        assert unquoted.index("t-phrase") < min(unquoted.index("t-edge"), unquoted.index("t-para"))
        assert searcher.search(SearchRequest(q='"hà nội mưa"')).total == 1
        assert searcher.matching_ids(SearchRequest(q='"ha noi mua"')) == ["t-phrase"]
        # Excluding the phrase leaves the articles that only hold its pairs apart.
        assert sorted(ids(searcher, 'thời -"hà nội mưa"')) == ["t-para"]


def test_a_marked_minority_reading_ranks_first_whatever_its_score(tmp_path: Path) -> None:
    # "khoa học" (science) fills the archive, in headlines, repeated; "khóa học" (a course) is
    # rare and weaker on every other count: only the typed marks tell the reader's meaning.
    rows = [
        _row(f"sci{i}", f"Khoa học: khoa học vũ trụ số {i}", "Khoa học và học khoa học mỗi ngày.", "2024-01-01")
        for i in range(12)
    ]
    rows += [
        _row(f"course{i}", f"Tin giáo dục số {i}", f"Mở khóa học tiếng Anh thứ {i}.", "2019-01-01") for i in range(3)
    ]
    with _small_home(tmp_path, rows) as searcher:
        marked = ids(searcher, "khóa học")
        assert set(marked[:3]) == {"t-course0", "t-course1", "t-course2"}
        assert (
            len(marked) == 10 and searcher.search(SearchRequest(q="khóa học")).total == 15
        )  # marks never lose results
        assert all(i.startswith("t-sci") for i in ids(searcher, "khoa học")[:10])
        assert all(i.startswith("t-sci") for i in ids(searcher, "khoa hoc")[:10])  # the likely reading
        folded = searcher.search(SearchRequest(q="khoa hoc", per_page=20))
        assert {h.id for h in folded.hits} >= {"t-course0", "t-course1", "t-course2"}  # still found


def test_a_marked_single_syllable_in_the_headline_ranks_first(tmp_path: Path) -> None:
    rows = [
        _row(f"ban{i}", f"Bàn tròn bàn về bạn đọc {i}", "Bạn đọc bàn luận, bạn đọc hỏi.", "2024-01-01")
        for i in range(5)
    ]
    rows.append(_row("sell", "Giá bán lẻ", "Điều chỉnh.", "2010-01-01"))
    with _small_home(tmp_path, rows) as searcher:
        assert ids(searcher, "bán")[0] == "t-sell"


def test_highlights_follow_the_reading_matched(tmp_path: Path) -> None:
    body = "Dự án trùng tu đình làng hoàn thành. Ông Tư nói về trưng bày và án tử."
    rows = [_row("tt", "Trùng tu đình làng", body, "2024-01-01")]
    rows.append(_row("td", "Nhà máy thủy điện", "Thủy điện xả lũ. Đoàn khách từ Thụy Điển tham quan.", "2024-01-02"))
    with _small_home(tmp_path, rows) as searcher:
        hit = searcher.search(SearchRequest(q="trùng tu")).hits[0]
        assert hit.title_html == "<mark>Trùng</mark> <mark>tu</mark> đình làng"
        assert "<mark>trùng</mark> <mark>tu</mark>" in hit.snippet
        for other in ("Tư", "trưng", "tử"):
            assert f"<mark>{other}</mark>" not in hit.snippet
        hit = searcher.search(SearchRequest(q="thuy dien")).hits[0]
        assert hit.id == "t-td" and "<mark>thủy</mark> <mark>điện</mark>" in hit.title_html.lower()
        assert "<mark>Thụy</mark>" not in hit.snippet and "Thụy Điển" in hit.snippet


def test_an_unmarked_word_of_a_marked_query_is_highlighted_as_typed(tmp_path: Path) -> None:
    body = "Đàn chó dữ từng tấn công cả bò. Người dân cho biết như vậy."
    rows = [_row("dog", "Chuyện ở làng", body, "2024-01-01")]
    with _small_home(tmp_path, rows) as searcher:
        hit = searcher.search(SearchRequest(q='"người dân cho biết"')).hits[0]
        assert "<mark>cho</mark>" in hit.snippet and "<mark>chó</mark>" not in hit.snippet


def test_the_likely_reading_is_the_one_articles_use_not_the_one_headlines_use(tmp_path: Path) -> None:
    # Headlines say "phu nhân" (the wife of) more often; the articles' text says "phủ nhận"
    # (to deny) far more: a reader typing "phu nhan" most likely means the latter.
    denial = "Bộ phủ nhận thông tin. Công ty phủ nhận. Ông phủ nhận mọi cáo buộc và tiếp tục phủ nhận."
    rows = [_row(f"wife{i}", f"Phu nhân đại sứ thăm trường {i}", "Phu nhân đến thăm.", "2024-01-01") for i in range(3)]
    rows += [_row(f"deny{i}", f"Tin chiều số {i}", denial, "2019-01-01") for i in range(2)]
    rows.append(_row("deny2", "Bộ phủ nhận tin đồn", "Tin đồn sai.", "2018-01-01"))
    with _small_home(tmp_path, rows) as searcher:
        r = searcher.search(SearchRequest(q="phu nhan"))
        assert r.suggestion == "phủ nhận"
        assert {h.id for h in r.hits[:3]} == {"t-deny0", "t-deny1", "t-deny2"} and r.total == 6


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for each article the counting of a pair's forms reads."""
    from opennews.search import searcher as searcher_module

    reads: list[int] = []
    count = searcher_module._count_forms

    def counted(stored, needle, used):  # type: ignore[no-untyped-def]
        reads.append(1)
        return count(stored, needle, used)

    monkeypatch.setattr(searcher_module, "_count_forms", counted)
    return reads


def test_the_forms_of_a_pair_are_counted_in_rounds_until_one_leads(tmp_path: Path, monkeypatch) -> None:
    from opennews.search import searcher as searcher_module

    monkeypatch.setattr(searcher_module, "USE_SAMPLE", 2)
    monkeypatch.setattr(searcher_module, "USE_ROUNDS", 4)
    monkeypatch.setattr(searcher_module, "USE_EVIDENCE", 5)
    # Every article uses both forms alike: no round gives a lead, so the whole evenly spread
    # sample is read (8 of the 22 holders, the first among them), its counts scaled to all.
    # A form rare in headlines is counted too, and uses side by side each count.
    rows = [_row("x", "Phủ nhấn một lần", "Phủ nhấn phủ nhấn.", "2019-01-01")]
    rows += [_row(f"b{i}", f"Phu nhân phủ nhận tin {i}", "Phu nhân phủ nhận.", "2024-01-01") for i in range(21)]
    with _small_home(tmp_path, rows) as searcher:
        reads = _counting_reads(monkeypatch)
        use = searcher._pair_use("phu nhan")
        assert len(reads) == 8 and use["phu nhân"] == use["phủ nhận"] == 2 * 7 * 22 // 8
        assert use["phủ nhấn"] == 3 * 22 // 8
    # One form used far more: the first round (two of the eight holders) settles it.
    rows = [_row(f"d{i}", f"Bộ phủ nhận tin {i}", "Ông phủ nhận. Bà phủ nhận.", "2019-01-01") for i in range(6)]
    rows += [_row(f"w{i}", f"Phu nhân thăm trường {i}", "Tin ngắn.", "2024-01-01") for i in range(2)]
    with _small_home(tmp_path / "lead", rows) as searcher:
        reads = _counting_reads(monkeypatch)
        use = searcher._pair_use("phu nhan")
        assert len(reads) == 2 and use["phủ nhận"] > 1.5 * use["phu nhân"]
        # ... unless it has too few uses to tell: then every round is read.
        searcher._uses.clear()
        monkeypatch.setattr(searcher_module, "USE_EVIDENCE", 100)
        reads.clear()
        searcher._pair_use("phu nhan")
        assert len(reads) == 8


def test_a_reading_rare_in_headlines_but_used_in_articles_is_counted(tmp_path: Path) -> None:
    # "bác bỏ" is in more headlines than "bắc bộ" here, and fewer than 1/20 of them say
    # "bác bộ" (a made-up form, so that only the counts decide); the article holding it
    # says it most: its count is read from the articles, not taken as none.
    rows = [_row(f"h{i}", f"Bộ bác bỏ tin {i}", "Tin.", "2024-01-01") for i in range(25)]
    rows += [_row(f"b{i}", f"Bắc bộ số {i}", "Tin.", "2024-01-01") for i in range(20)]
    rows.append(_row("x", "Bác bộ lạ", "Bác bộ. Bác bộ. Bác bộ. " * 30, "2024-01-01"))
    with _small_home(tmp_path, rows) as searcher:
        use = searcher._pair_use("bac bo")
        assert use["bác bộ"] == 91 and use["bác bỏ"] == 25 and use["bắc bộ"] == 20
