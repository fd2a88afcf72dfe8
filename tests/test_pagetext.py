"""Page text in the layouts real copied pages come in: one fixture per layout, one table.

Each fixture under ``fixtures/pagetext/`` is our own invented article laid out as a
different outlet's page copies: with and without a language switch, date lines in
several orders and words, bylines before and after the share and comment footers,
footers in several wordings, one file in NFD, one with CRLF line ends, one with
photo captions. The whole directory goes through a real ingest once; every row then
checks what the archive holds for its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
import pytest

from conftest import FIXTURES
from opennews.archive import Archive
from opennews.cli import main
from opennews.ingest.readers.pagelines import byline, caption, chrome, date_line, footer, label_lines
from opennews.ingest.readers.pagetext import read_pagetext
from opennews.ingest.records import Document
from opennews.vietnamese import VN_TZ

LAYOUTS = FIXTURES / "pagetext"


@dataclass(frozen=True)
class Layout:
    """What a fixture's page says, as a reader of the page would tell it."""

    file: str
    title: str
    lead: str  # its start
    published: str
    author: str | None
    first: str  # start of the body's first paragraph
    last: str  # end of its last paragraph
    paragraphs: int
    boilerplate: tuple[str, ...]  # lines of the page that must not reach the body
    captions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: str | None = None


TABLE = [
    Layout(
        "01_seed_layout.txt",
        title="Quảng Trị đưa vào vận hành trạm quan trắc nước sông Thạch Hãn",
        lead="Chiều nay, Sở Tài nguyên và Môi trường tỉnh Quảng Trị",
        published="2021-09-22T16:40:00+07:00",
        author="Phan Thanh Tùng",
        first="Trạm đo liên tục 12 chỉ tiêu",
        last="trên sông Hiếu và sông Bến Hải./.",
        paragraphs=3,
        boilerplate=("Tiếng Việt | English", "22/09/2021 - 16:40", "Phan Thanh Tùng", "Chia sẻ bài viết"),
        captions=("Cán bộ kỹ thuật kiểm tra thiết bị đo tại trạm quan trắc đặt bên bờ sông Thạch Hãn",),
    ),
    Layout(
        "02_time_first_nfd.txt",
        title="Đà Nẵng mở thêm tuyến xe buýt ra bán đảo Sơn Trà",
        lead="Từ ngày 15/2, thành phố đưa vào khai thác tuyến buýt số 12",
        published="2022-02-03T09:15:00+07:00",
        author="Trần Thị Mai",
        first="Tuyến dài 18 km, đi qua cầu Rồng",
        last="tại các điểm du lịch trên bán đảo.",
        paragraphs=2,
        boilerplate=("09:15 ngày 03/02/2022", "Trần Thị Mai", "Chia sẻ bài viết"),
    ),
    Layout(
        "03_weekday_after_title.txt",
        title="Nghệ An cấp thẻ bảo hiểm y tế miễn phí cho 12.000 học sinh vùng cao",
        lead="Học sinh các huyện miền núi Kỳ Sơn",
        published="2022-02-03T09:15:00+07:00",
        author="Nguyễn Văn Hậu",
        first="Kinh phí khoảng 9 tỷ đồng",
        last="để cơ quan bảo hiểm xã hội kịp in thẻ.",
        paragraphs=3,  # "Bình luận về chính sách này, …" is a paragraph, not the comments footer
        boilerplate=(
            "Thứ năm, 3/2/2022 - 09:15",
            "Theo Nguyễn Văn Hậu",
            "Chia sẻ",
            "Bình luận (0)",
            "Tin liên quan",
            "Nghệ An tuyển thêm 300 giáo viên cho vùng khó khăn",
            "Học sinh miền núi được hỗ trợ tiền ăn trưa",
        ),
    ),
    Layout(
        "04_crlf_gmt.txt",
        title="Giá thanh long ruột đỏ tăng gấp đôi sau Tết",
        lead="Thương lái ở Bình Thuận đang thu mua",
        published="2022-02-03T09:15:00+07:00",
        author="PV",  # after the share footer
        first="Nguyên nhân là các cửa khẩu phía Bắc",
        last="để tránh dư thừa khi giá giảm trở lại.",
        paragraphs=3,
        boilerplate=("Trang chủ > Kinh tế > Nông nghiệp", "03/02/2022 09:15 GMT+7", "Share", "PV", "Ý kiến bạn đọc"),
        category="Nông nghiệp",
    ),
    Layout(
        "05_photo_captions.txt",
        title="Phố cổ Hội An thả đèn hoa đăng đón khách đầu xuân",
        lead="Đêm mùng ba Tết, hàng nghìn du khách",
        published="2022-02-03T09:15:00+07:00",
        author="Nhóm phóng viên",
        first="Theo Trung tâm Quản lý bảo tồn di sản văn hóa Hội An",
        last="với nhiều hoạt động trải nghiệm cho khách.",
        paragraphs=3,
        boilerplate=(
            "Thứ Năm, ngày 03/02/2022 09:15 (GMT+7)",
            "Ảnh: Trần Nam",
            "Nhóm phóng viên",
            "Gửi bình luận",
            "Tags: Hội An, lễ hội, du lịch",
        ),
        captions=(
            "Du khách thả đèn hoa đăng trên sông Hoài tối mùng ba Tết (Ảnh: Hoàng Long)",
            "Nghệ nhân hát bài chòi biểu diễn trên sân khấu ngoài trời bên chợ Hội An (Ảnh: Trần Nam)",
            "Người dân bán hàng rong quanh chùa Cầu. Ảnh: Hoàng Long",
        ),
        tags=("Hội An", "lễ hội", "du lịch"),
    ),
    Layout(
        "06_updated_label.txt",
        title="Cần Thơ khánh thành bến phà mới ra cồn Sơn",
        lead="Bến phà cồn Sơn trên sông Hậu",
        published="2022-02-03T09:15:00+07:00",  # the page's only time, labelled "Cập nhật"
        author="Hoàng Lan, TTXVN",
        first="Công trình gồm hai bến đón",
        last="miễn phí cho học sinh đi học.",
        paragraphs=3,
        boilerplate=(
            "Tiếng Việt | English | 中文",
            "Cập nhật: 03/02/2022 09:15",
            "Hoàng Lan",
            "(Theo TTXVN)",
            "Xem thêm",
            "Bài viết liên quan",
            "Cần Thơ phát triển du lịch cộng đồng ở cồn Sơn",
            "Miền Tây đón lượng khách kỷ lục dịp Tết",
        ),
    ),
    Layout(
        "07_pm_source_credit.txt",
        title="Gạo Việt Nam trúng thầu lô hàng 50.000 tấn sang Philippines",
        lead="Một doanh nghiệp ở Long An vừa trúng thầu",
        published="2022-02-03T21:15:00+07:00",
        author="Báo Nông Thôn Mẫu",
        first="Giá trúng thầu khoảng 450 USD",
        last="nếu giá cước vận tải biển ổn định.",
        paragraphs=2,
        boilerplate=(
            "3/2/2022 9:15 PM",
            "Nguồn: Báo Nông Thôn Mẫu",
            "Từ khóa: lúa gạo, xuất khẩu, Philippines",
            "Tin cùng chuyên mục",
            "Giá phân bón giảm nhẹ sau Tết",
            "Long An mở rộng vùng lúa chất lượng cao",
        ),
        tags=("lúa gạo", "xuất khẩu", "Philippines"),
    ),
    Layout(
        "08_byline_after_comments.txt",
        title="Hà Giang mở lại chợ phiên Đồng Văn sau hai năm tạm dừng",
        lead="Chợ phiên Đồng Văn họp lại",
        published="2022-02-03T14:30:00+07:00",
        author="Lê Minh Khoa",  # after the share and comment footers
        first="Người bán chủ yếu là đồng bào Mông",
        last="chủ yếu là khách tự lái xe máy.",
        paragraphs=3,
        boilerplate=(
            "Thứ 5, 03/02/2022, 14:30 (GMT+7)",
            "Chia sẻ bài viết",
            "Bình luận",
            "Lê Minh Khoa",
            "Tin liên quan",
            "Cao nguyên đá rực rỡ mùa hoa tam giác mạch",
            "Đường lên Mã Pí Lèng được sửa xong trước Tết",
        ),
    ),
    Layout(
        "09_abroad_offset.txt",
        title="Cộng đồng người Việt ở Leipzig mở lớp tiếng Việt cuối tuần",
        lead="(Báo Mẫu Hải Ngoại) - Hội người Việt tại Leipzig",
        published="2021-11-12T14:40:00+07:00",  # 08:40 GMT+1, in Vietnam time
        author="Đỗ Quang Vinh",  # not the reader who commented below
        first="Lớp học được đặt tại nhà văn hóa",
        last="nếu đủ người đăng ký.",
        paragraphs=3,
        boilerplate=(
            "VN | EN",
            "Thứ Sáu, 12/11/2021 - 08:40 (GMT+1)",
            "Bài và ảnh: Đỗ Quang Vinh",
            "Chia sẻ Facebook Zalo",
            "Ý kiến bạn đọc",
            "Nguyễn Thị Hoa",
            "Lớp học rất ý nghĩa, mong hội duy trì lâu dài.",
            "Gửi bình luận",
        ),
    ),
    Layout(
        "10_top_share_bar.txt",
        title="Cà Mau thả 2 triệu con giống tôm sú xuống vùng rừng ngập mặn",
        lead="Ngành thủy sản Cà Mau vừa thả 2 triệu con",
        published="2023-12-28T07:05:00+07:00",
        author="báo Đất Mũi Mẫu",
        first="Đây là lần thả giống lớn nhất trong năm",
        last="vào mùa mưa năm sau.",
        paragraphs=3,  # "Chia sẻ với phóng viên, …" is a paragraph, not the share footer
        boilerplate=(
            "Đăng lúc 07:05 ngày 28/12/2023",
            "Chia sẻ",
            "Facebook",
            "Zalo",
            "Theo báo Đất Mũi Mẫu",
            "Share",
            "Chủ đề: Cà Mau",
        ),
        tags=("Cà Mau",),
    ),
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every layout ingested once, by the real CLI; records by title."""
    home = tmp_path_factory.mktemp("pagetext-home")
    assert main(["--home", str(home), "ingest", "--quiet", "--no-index", "--no-dumps", str(LAYOUTS)]) == 0
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        rows = [orjson.loads(r) for r in archive.iter_json()]
    return {r["title"]: r for r in rows}


def test_every_layout_has_a_row() -> None:
    assert sorted(p.name for p in LAYOUTS.iterdir()) == sorted(row.file for row in TABLE)
    assert len(TABLE) >= 9


@pytest.mark.parametrize("row", TABLE, ids=[row.file for row in TABLE])
def test_layout_is_read(row: Layout, stored: dict[str, dict]) -> None:
    assert row.title in stored, f"{row.file}: title not read as {row.title!r}; got {sorted(stored)}"
    a = stored[row.title]
    assert a["sapo"].startswith(row.lead)
    assert a["published"] == row.published
    assert a["author"] == row.author
    paragraphs = a["body"].split("\n\n")
    assert paragraphs[0].startswith(row.first)
    assert paragraphs[-1].endswith(row.last)
    assert len(paragraphs) == row.paragraphs, paragraphs
    for line in row.boilerplate:
        assert line not in paragraphs, f"{line!r} is in the body"
    assert a["title"] not in paragraphs and a["sapo"] not in paragraphs
    assert [i["caption"] for i in a["images"]] == list(row.captions)
    assert [i["url"] for i in a["images"]] == [None] * len(row.captions)
    for text in row.captions:
        assert text not in paragraphs
    assert a["tags"] == list(row.tags)
    assert a["category"] == row.category


@pytest.mark.parametrize("row", TABLE, ids=[row.file for row in TABLE])
def test_layout_time_is_vietnam_time(row: Layout) -> None:
    """The reader's own value carries the Asia/Ho_Chi_Minh zone, given or not on the page."""
    data = (LAYOUTS / row.file).read_bytes().decode("utf-8")
    [found] = read_pagetext(Document(row.file, data))
    assert found.fields is not None
    when = found.fields["published"]
    assert isinstance(when, datetime) and when.tzinfo == VN_TZ
    assert when.isoformat() == row.published


def test_fixture_files_are_what_they_say() -> None:
    """The NFD and CRLF layouts really are, so the tests above test that."""
    import unicodedata

    nfd = (LAYOUTS / "02_time_first_nfd.txt").read_text("utf-8")
    assert not unicodedata.is_normalized("NFC", nfd)
    assert b"\r\n" in (LAYOUTS / "04_crlf_gmt.txt").read_bytes()
    assert b"\r\n" not in (LAYOUTS / "01_seed_layout.txt").read_bytes()


# -- the line functions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "role", "iso"),
    [
        ("01/06/2020 - 09:29", "published", "2020-06-01T09:29:00+07:00"),
        ("09:15 ngày 03/02/2022", "published", "2022-02-03T09:15:00+07:00"),
        ("Thứ năm, 3/2/2022 - 09:15", "published", "2022-02-03T09:15:00+07:00"),
        ("03/02/2022 09:15 GMT+7", "published", "2022-02-03T09:15:00+07:00"),
        ("Thứ Năm, ngày 03/02/2022 09:15 (GMT+7)", "published", "2022-02-03T09:15:00+07:00"),
        ("3/2/2022 9:15 AM", "published", "2022-02-03T09:15:00+07:00"),
        ("3/2/2022 9:15 PM", "published", "2022-02-03T21:15:00+07:00"),
        ("Cập nhật: 03/02/2022 09:15", "updated", "2022-02-03T09:15:00+07:00"),
        ("Cập nhật lúc 10:40 ngày 03/02/2022", "updated", "2022-02-03T10:40:00+07:00"),
        ("Ngày đăng: 03/02/2022", "published", "2022-02-03"),
        ("Đăng lúc 07:05 ngày 28/12/2023", "published", "2023-12-28T07:05:00+07:00"),
        ("Thứ Sáu, 12/11/2021 - 08:40 (GMT+1)", "published", "2021-11-12T14:40:00+07:00"),
    ],
)
def test_date_line(line: str, role: str, iso: str) -> None:
    found = date_line(line)
    assert found is not None
    assert found[0] == role and found[1].isoformat() == iso


@pytest.mark.parametrize(
    "line",
    [
        "Kết quả xổ số điện toán Vietlott ngày 6/2/2017",
        "Đăng ký trước 03/02/2022 để được giảm giá",
        "Từ ngày 15/2, thành phố đưa vào khai thác tuyến buýt số 12.",
        "Cập nhật thông tin mới nhất về bão số 5",
    ],
)
def test_not_a_date_line(line: str) -> None:
    assert date_line(line) is None


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Chia sẻ bài viết", "share"),
        ("Chia sẻ", "share"),
        ("Chia sẻ:", "share"),
        ("Chia sẻ Facebook Zalo", "share"),
        ("Share", "share"),
        ("Facebook", "share"),
        ("In bài", "share"),
        ("Bình luận", "comments"),
        ("Bình luận (12)", "comments"),
        ("Ý kiến bạn đọc", "comments"),
        ("Gửi bình luận", "comments"),
        ("Tin liên quan", "related"),
        ("Tin liên quan: Hà Nội tuyển sinh lớp 10", "related"),
        ("Xem thêm", "related"),
        ("Xem thêm >>", "related"),
        ("Bài viết liên quan", "related"),
        ("Tin cùng chuyên mục", "related"),
        ("Tags: Hội An, lễ hội", "tags"),
        ("Từ khóa: lúa gạo", "tags"),
        ("Từ khoá: lúa gạo", "tags"),
        ("Chủ đề: Cà Mau", "tags"),
        ("Lên đầu trang", "nav"),
        ("Tiếng Việt | English", "nav"),
        ("© 2023 Báo Mẫu. Ghi rõ nguồn khi phát hành lại.", "copyright"),
    ],
)
def test_footer(line: str, kind: str) -> None:
    assert footer(line) == kind


@pytest.mark.parametrize(
    "line",
    [
        "Chia sẻ với phóng viên, một cán bộ chi cục thủy sản cho biết tôm giống đã được kiểm dịch.",
        "Bình luận về chính sách này, nhiều phụ huynh cho rằng đây là sự hỗ trợ thiết thực.",
        "Chủ đề của hội thảo năm nay là chuyển đổi số trong nông nghiệp.",
        "Facebook vừa xóa hơn 1.000 tài khoản giả mạo cơ quan nhà nước.",
        "Xem thêm các hình ảnh của lễ hội trong video dưới đây.",
    ],
)
def test_a_sentence_starting_like_a_footer_is_text(line: str) -> None:
    assert footer(line) is None


@pytest.mark.parametrize(
    ("line", "who"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("Theo Nguyễn Văn An", "Nguyễn Văn An"),
        ("(Theo TTXVN)", "TTXVN"),
        ("Theo báo Đất Mũi Mẫu", "báo Đất Mũi Mẫu"),
        ("PV", "PV"),
        ("Nhóm phóng viên", "Nhóm phóng viên"),
        ("Nguồn: Báo Nông Thôn Mẫu", "Báo Nông Thôn Mẫu"),
        ("Bài và ảnh: Đỗ Quang Vinh", "Đỗ Quang Vinh"),
        ("Tác giả: Lê Hà", "Lê Hà"),
        ("Hoàng Lan - Minh Thư", "Hoàng Lan - Minh Thư"),
        ("Trần Nam (TTXVN)", "Trần Nam (TTXVN)"),
    ],
)
def test_byline(line: str, who: str) -> None:
    assert byline(line) == who


@pytest.mark.parametrize(
    "line",
    [
        "Theo kế hoạch, tỉnh sẽ thả thêm cua và cá chẽm giống vào mùa mưa năm sau.",
        "Theo Hiệp hội Cà phê Ca cao Việt Nam, giá cà phê nhân xuất khẩu tăng gần 12%.",
        "Phà chạy từ 5h đến 21h mỗi ngày.",
        "Nguồn: https://baomau.example/bai-goc",
        "Chia sẻ bài viết",
        "Huế chuẩn bị cho Festival 2024",
    ],
)
def test_not_a_byline(line: str) -> None:
    assert byline(line) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Ảnh: Trần Nam", True),
        ("Du khách thả đèn hoa đăng trên sông Hoài (Ảnh: Hoàng Long)", True),
        ("Hành khách ùn tắc ở sân bay (Ảnh: Nguyễn Quang).", True),
        ("Người dân bán hàng rong quanh chùa Cầu. Ảnh: Hoàng Long", True),
        ("Cán bộ kỹ thuật kiểm tra thiết bị đo tại trạm quan trắc đặt bên bờ sông", True),
        ("Phà chạy từ 5h đến 21h mỗi ngày, miễn phí cho học sinh đi học.", False),
        ("Kết luận", False),
    ],
)
def test_caption(line: str, expected: bool) -> None:
    assert caption(line) is expected


def test_chrome() -> None:
    assert chrome("Tiếng Việt | English") == "lang"
    assert chrome("VN | EN") == "lang"
    assert chrome("Trang chủ > Kinh tế > Nông nghiệp") == "crumbs"
    assert chrome("Trang chủ / Thời sự") == "crumbs"
    assert chrome("Thời sự » Giao thông") == "crumbs"
    assert chrome("Giá vàng > 70 triệu đồng") is None
    assert chrome("Sở GTVT/UBND tỉnh họp bàn") is None


def test_zero_width_space_does_not_hide_a_footer() -> None:
    lines = ["Tiêu đề bài", "Lời dẫn của bài.", "Đoạn một của bài.", "Lê Hà", "\u200bChia sẻ bài viết"]
    kinds = [(x.kind, x.text) for x in label_lines(lines)]
    assert kinds[-2:] == [("byline", "Lê Hà"), ("footer", "Chia sẻ bài viết")]


def test_chrome_and_date_below_the_title() -> None:
    lines = [
        "Tiêu đề của bài",
        "Thời sự > Giao thông",
        "03/02/2022 09:15",
        "Lời dẫn của bài.",
        "Đoạn một.",
        "Đoạn hai.",
    ]
    assert [x.kind for x in label_lines(lines)] == ["title", "chrome", "date", "lead", "body", "body"]


def test_long_hostile_lines_are_read_in_linear_time() -> None:
    """Each pattern searched in a line of any length, fed the line that made it quadratic:
    a megabyte each, so a quadratic search comes back as a test that hangs for minutes
    (0.4 s for 40 KB of "(ảnh " and 23 s for 40,000 blanks before the bounds)."""
    from opennews.ingest.readers.pagelines import _crumbs, strip_inline_footer
    from opennews.ingest.readers.pagetext import read_headers, read_keyvalue

    n = 200_000
    assert not caption("(ảnh " * n + "x.")
    assert caption("Bến Nhà Rồng buổi sáng (ảnh: Lê Hà).")  # the bounded form still finds a credit
    assert strip_inline_footer("Đoạn cuối" + " " * n + "bài.") == "Đoạn cuối" + " " * n + "bài."
    assert strip_inline_footer("Đoạn cuối." + " " * n + "© 2024 Báo") == "Đoạn cuối."
    assert _crumbs("Thời sự" + " " * n + "x") == ["Thời sự" + " " * n + "x"]
    assert _crumbs("Thời sự  »  Giao thông") == ["Thời sự", "Giao thông"]
    headers = "# a" + " " * n + "b\n# title = Tiêu đề\nDòng thân bài một.\n"
    [found] = read_headers(Document("h.txt", headers, "utf-8"))
    assert found.fields["title"] == "Tiêu đề"
    kv = "Title: Tin" + " " * n + "x - VnExpress\nSource: VnExpress\nContent: a\n"
    [found] = read_keyvalue(Document("k.txt", kv, "utf-8"))
    assert found.fields["title"] == "Tin" + " " * n + "x"


def test_blank_runs_in_page_text_cost_no_memory_per_line() -> None:
    """4 Mi blank lines were two lists of 4 Mi strings (16 MiB of newlines: +298 MiB RSS)."""
    import tracemalloc

    from opennews.ingest.readers.pagetext import read_headers

    page = "Tiêu đề bài\n" + "\n \t\r\n\u2028" * (1 << 20) + "Lời dẫn của bài.\n\n\n  Đoạn một.  \n" + "\n" * (1 << 20)
    expected = {"title": "Tiêu đề bài", "sapo": "Lời dẫn của bài.", "body": "Đoạn một."}
    for reader, text in ((read_pagetext, page), (read_headers, "# title = Tiêu đề bài\n" + page.split("\n", 1)[1])):
        doc = Document("p.txt", text, "utf-8")
        tracemalloc.start()
        try:
            [found] = reader(doc)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert {k: found.fields.get(k) for k in expected} == expected
        assert peak < len(text) // 2, f"{reader.__name__}: peak {peak / 2**20:.1f} MiB"
