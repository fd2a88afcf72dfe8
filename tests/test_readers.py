"""Every reader, on fixtures written by us in the formats news really comes in."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from conftest import FIXTURES
from opennews.archive import Archive
from opennews.ingest.html import parse_page
from opennews.ingest.readers import detect
from opennews.ingest.readers.webpage import repeats_lead

Cli = Callable[..., tuple[int, str, str]]


def ingest_one(cli: Cli, home: Path, path: Path, *extra: str) -> list[dict]:
    code, out, err = cli("ingest", "--quiet", *extra, str(path))
    assert code == 0, out + err
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        return [orjson.loads(r) for r in archive.iter_json()]


def test_page_text_parts_are_told_apart(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "pagetext_hue.txt")
    assert a["title"] == "Huế khánh thành cầu đi bộ mới bắc qua sông Hương"
    assert a["published"] == "2023-03-15T14:05:00+07:00"
    assert a["sapo"].startswith("Sáng nay, UBND tỉnh Thừa Thiên Huế")
    assert a["author"] == "Minh Thủy"
    assert a["images"] == [
        {
            "url": None,
            "caption": "Cây cầu dài 150 mét được thắp sáng bằng hệ thống đèn tiết kiệm năng lượng vào buổi tối",
        }
    ]
    body = a["body"]
    assert body.startswith("Theo ban quản lý dự án")
    assert body.endswith("từ 5h đến 23h hằng ngày.")
    assert len(body.split("\n\n")) == 3
    for chrome in ("Chia sẻ", "Bình luận", "Tin liên quan", "Festival", "English", "Minh Thủy"):
        assert chrome not in body


def test_title_sapo_body_lines(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "lines_magizbox_style.txt")
    assert a["title"] == "Giá cà phê xuất khẩu tăng mạnh trong tháng Hai"
    assert a["sapo"].startswith("Theo Hiệp hội Cà phê")
    assert a["body"].startswith("Tại Đắk Lắk") and a["author"] is None


def test_word_segmented_text_is_desegmented(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "segmented.txt.seg")
    assert a["title"] == "Hà Nội thí điểm xe buýt điện trên tuyến nội đô"
    assert "_" not in a["body"] and "Sở Giao thông Vận tải" in a["body"]
    assert a["body"].count("\n\n") == 1


def test_key_value_file(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "keyvalue.txt")
    assert a["title"] == "Nông dân Đồng Tháp trúng mùa sen"  # outlet suffix dropped
    assert a["url"] == "https://songnuoc.example/kinh-te/nong-dan-dong-thap-trung-mua-sen-1234.html"
    assert a["source"] == "songnuoc.example"
    assert a["published"] == "2023-07-06T08:30:00+07:00"
    assert a["author"] == "Lê Thị Ngọc Hân"
    assert a["tags"] == ["Đồng Tháp", "sen", "nông nghiệp"]
    assert a["body"].split("\n\n")[1].startswith("Mỗi héc-ta")


def test_info_and_body_pair(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "mds")
    assert a["title"] == "Giá vàng giảm nhẹ phiên đầu tuần"
    assert a["published"] == "2013-09-09T10:15:00+07:00"
    assert a["body"].startswith("Sáng 9/9, các doanh nghiệp")
    assert a["source"] == "baomau.example"


def test_header_file(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "headers.txt")
    assert a["url"].endswith("doi-tuyen-tap-trung-20220310.htm")
    assert a["published"] == "2022-03-10"
    assert a["category"] == "sport"
    assert a["title"].startswith("Đội tuyển bóng đá nữ")
    assert a["sapo"].startswith("Ban huấn luyện")


def test_news_please_layouts(cli: Cli, home: Path) -> None:
    rows = ingest_one(cli, home, FIXTURES / "newsplease_new.json")
    new = rows[0]
    assert new["published"] == "2019-05-01"  # midnight means the time is unknown
    assert new["author"] == "Phạm Quang Huy"
    assert new["sapo"] == "Mưa đá kèm lốc xoáy làm tốc mái hàng trăm ngôi nhà ở Lào Cai & Yên Bái."
    assert new["category"] == "thoi-su"
    assert new["images"][0]["url"] == "https://tinmau.example/images/mua-da.jpg"
    old = ingest_one(cli, home, FIXTURES / "newsplease_old.json")
    [o] = [r for r in old if r["id"] != new["id"]]
    assert o["title"] == "Sinh viên Việt Nam vô địch robot 'ABU'"
    assert o["category"] == "Công nghệ" and o["tags"] == ["robot", "sinh viên"]
    assert o["published"] is None


def test_jsonld_news_article(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "jsonld.json")
    assert a["url"] == "https://dtmau.example/xa-hoi/lang-nghe-gom-20200101.htm"
    assert a["published"] == "2020-01-01T07:00:00+07:00"
    assert a["author"] is None  # the outlet's domain is not a byline
    assert a["category"] == "Xã hội" and a["tags"] == ["bat trang"]
    assert a["images"] == [{"url": "https://dtmau.example/img/1.jpg", "caption": None}]


def test_rss_takes_full_content(cli: Cli, home: Path) -> None:
    rows = {r["url"].rsplit("/", 1)[-1]: r for r in ingest_one(cli, home, FIXTURES / "feed_rss.xml")}
    bus = rows["da-nang-buyt-san-bay-1.html"]
    assert bus["sapo"] == "Tuyến buýt số 8 nối trung tâm thành phố với sân bay quốc tế."
    assert bus["body"] == "Từ tháng 4, tuyến buýt số 8 sẽ chạy 15 phút một chuyến.\n\nGiá vé 8.000 đồng mỗi lượt."
    assert bus["published"] == "2023-03-07T08:00:00+07:00"
    assert bus["category"] == "Giao thông"
    urls = [i["url"] for i in bus["images"]]
    assert "https://baomau.example/img/bus-large.jpg" in urls and "https://baomau.example/img/bus.jpg" in urls
    assert {"url": "https://baomau.example/img/bus.jpg", "caption": "Xe buýt mới tại bến"} in bus["images"]
    xang = rows["gia-xang-2.html"]
    assert xang["body"].startswith("Liên bộ Công Thương") and xang["sapo"] is None


def test_atom_feed(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "feed_atom.xml")
    assert a["title"] == "Khánh Hòa đón tàu du lịch quốc tế đầu năm"
    assert a["author"] == "Đỗ Thùy Dương"
    assert a["body"].split("\n\n") == [
        "Sáng 2/1, cảng Nha Trang đón tàu du lịch chở hơn 2.000 khách.",
        "Du khách tham quan tháp Bà Ponagar và chợ Đầm.",
    ]
    assert a["updated"] == "2024-01-02T10:00:00+07:00"


def test_html_page_with_jsonld(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "page.html")
    assert a["title"] == "Cần Thơ xây thêm 12 trường học"  # JSON-LD wins over og:title
    assert a["author"] == "Lâm Bảo Ngọc"
    assert a["url"] == "https://baomau.example/giao-duc/can-tho-truong-hoc-55.html"
    assert "Trang chủ" not in a["body"] and "Chia sẻ" not in a["body"] and "Tin liên quan" not in a["body"]
    assert "quận Cái Răng" in a["body"]
    assert a["body"].startswith("UBND TP Cần Thơ")  # the <h1> is the title, not a paragraph


@pytest.mark.parametrize(
    ("name", "sapo", "first", "paragraphs"),
    [
        # <p class="sapo"> equal to og:description; a date line and a byline in <article> too
        ("sapo_paragraph.html", "Tuyến đường ven biển dài 45 km", "Công trình có tổng vốn", 2),
        # <h2 class="sapo"> equal to the JSON-LD description
        ("sapo_heading_jsonld.html", "Những con đường quanh hồ Xuân Hương", "Hoa nở sớm hơn", 2),
        # <div class="lead"> unlike the meta description: the page's lead is the sapo
        ("lead_div_differs_from_meta.html", "Từ tuần sau, 10 xe buýt điện", "Các xe có 60 chỗ", 2),
        # no marked lead; og:description is the first paragraph cut short with "..."
        ("description_first_paragraph.html", "Tàu du lịch chở gần 2.000 khách", "Du khách chia thành", 2),
        # JSON-LD articleBody that starts with its own description
        ("jsonld_article_body.html", "Giá lúa tươi tại nhiều tỉnh", "Thương lái cho biết", 2),
        # a "description" element wrapping the whole text is not a lead: nothing is lost
        ("description_wraps_body.html", "Thư viện tỉnh kéo dài giờ mở cửa", "Từ tháng Năm, thư viện", 4),
    ],
)
def test_html_lead_is_not_repeated_in_the_body(
    cli: Cli, home: Path, name: str, sapo: str, first: str, paragraphs: int
) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "html" / name)
    body = a["body"].split("\n\n")
    assert a["sapo"].startswith(sapo)
    assert body[0].startswith(first) and len(body) == paragraphs, body
    assert a["sapo"] not in body and a["title"] not in body
    assert not any(p.startswith(sapo) for p in body)


def test_html_paragraph_roles() -> None:
    page = parse_page(
        "<p>Trước bài</p><article><h1>Tiêu đề</h1><div class='lead-image'><p>Ảnh: Lê Hà</p></div>"
        "<p class='sapo_detail'>Sapo</p><h2 class='article__lead'>Dẫn</h2><span itemprop='description'>Mô tả</span>"
        "<div class='content'><p>Đoạn <b>một</b></p></div></article>"
    )
    assert [(b.text, b.role, b.in_article) for b in page.blocks] == [
        ("Trước bài", None, False),
        ("Tiêu đề", "headline", True),
        ("Ảnh: Lê Hà", None, True),
        ("Sapo", "lead", True),
        ("Dẫn", "lead", True),
        ("Mô tả", "lead", True),
        ("Đoạn một", None, True),
    ]


def test_broken_html_with_elements_never_closed_is_read_in_one_pass() -> None:
    """40,000 unclosed <div>s (240 KB) took 119 s when each paragraph scanned the stack of
    open elements for its role, and 40,000 pieces of a title were joined one by one:
    this test hangs for minutes if either comes back (bench/hostile.py times it)."""
    n = 40_000
    page = parse_page("<html><body><div class='sapo'>" + "<div>x" * n + "</div>" * 10 + "<p>sau</p>")
    assert len(page.blocks) == n + 1
    assert {(b.text, b.role) for b in page.blocks[:n]} == {("x", "lead")}  # inherited from the outermost div
    assert page.blocks[-1] == parse_page("<div class='sapo'><p>sau</p>").blocks[0]  # still inside it
    closed = parse_page("<h1>" + "<b>a " * n + "</h1><p>thân bài</p>")  # closing h1 closes all the <b>s
    assert [b.role for b in closed.blocks] == ["headline", None]
    assert parse_page("<title>" + "Tin <i>mới</i> " * n + "</title>").title == ("Tin mới " * n).strip()


def test_repeats_lead() -> None:
    assert repeats_lead("Lời dẫn của bài.", "lời  dẫn của bài")
    assert repeats_lead("Tàu cập cảng Hạ Long sáng nay.", "TTO - Tàu cập cảng Hạ Long sáng nay.")
    cut = "Tàu du lịch chở gần 2.000 khách cập cảng Hạ Long sáng 15/3, đánh dấu..."
    assert repeats_lead(cut, "Tàu du lịch chở gần 2.000 khách cập cảng Hạ Long sáng 15/3, đánh dấu sự trở lại.")
    assert not repeats_lead("Hà Nội", "Hà Nội mưa lớn kéo dài suốt đêm qua khiến nhiều tuyến phố ngập.")
    assert not repeats_lead("Tàu du lịch chở khách", "Tàu du lịch chở khách cập cảng Hạ Long sáng nay.")
    assert not repeats_lead("", "Đoạn một.")


def test_truncated_description_gives_way_to_the_full_lead(cli: Cli, home: Path) -> None:
    [a] = ingest_one(cli, home, FIXTURES / "html" / "description_first_paragraph.html")
    assert a["sapo"].endswith("sự trở lại của du lịch tàu biển sau đại dịch.")
    assert "Thứ tư, 15/03/2023 - 09:00" not in a["body"]


def test_stored_url_has_no_tracking_parameters(cli: Cli, home: Path, tmp_path: Path) -> None:
    """What `export` and `show` print: the URL as the outlet publishes it, minus utm_* and click ids."""
    feed = tmp_path / "feed.xml"
    feed.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Báo Mẫu</title><link>https://baomau.example/</link>
<item><title>Cảng Cái Mép đón tàu lớn</title>
<link>https://baomau.example/kinh-te/cang-cai-mep-3.html?utm_source=rss&amp;utm_medium=feed&amp;utm_campaign=kinh-te</link>
<description>Tàu container lớn nhất từ trước tới nay cập cảng Cái Mép.</description></item>
<item><title>Hội chợ sách mùa thu</title>
<link>https://baomau.example/tin?id=123&amp;gclid=x1&amp;page=2&amp;mc_cid=9</link>
<description>Hội chợ sách mùa thu mở cửa tại công viên Thống Nhất.</description></item>
</channel></rss>""",
        encoding="utf-8",
    )
    for page in ("sapo_paragraph.html", "jsonld_article_body.html", "lead_div_differs_from_meta.html"):
        (tmp_path / page).write_bytes((FIXTURES / "html" / page).read_bytes())
    ingest_one(cli, home, tmp_path)
    code, out, _ = cli("export")
    assert code == 0
    rows = [orjson.loads(line) for line in out.splitlines()]
    assert sorted(r["url"] for r in rows) == [
        "https://baomau.example/do-thi/hai-phong-xe-buyt-dien-55.html?id=55",
        "https://baomau.example/giao-thong/binh-dinh-duong-ven-bien-101.html",
        "https://baomau.example/kinh-te/cang-cai-mep-3.html",
        "https://baomau.example/kinh-te/gia-lua-tang-12.html",
        "https://baomau.example/tin?id=123&page=2",
    ]
    for marker in ("utm_", "fbclid", "gclid", "mc_cid"):
        assert marker not in out
    for row in rows:
        code, shown, _ = cli("show", row["id"])
        assert code == 0 and orjson.loads(shown)["url"] == row["url"]


def test_ndjson_plain_and_gzip_and_json_array_round_trip(cli: Cli, home: Path, tmp_path: Path) -> None:
    records = [
        {
            "id": f"t-{i}",
            "title": f"Tin số {i}",
            "body": f"Nội dung {i}.",
            "source": "tinmau",
            "published": "2020-01-02",
        }
        for i in range(5)
    ]
    plain = tmp_path / "a.ndjson"
    plain.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records[:2]))
    packed = tmp_path / "b.data"  # no telling extension: detected by content
    packed.write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in records[2:4])))
    array = tmp_path / "c.json"
    array.write_text(json.dumps(records[4:], ensure_ascii=False))
    rows = ingest_one(cli, home, tmp_path)
    assert sorted(r["id"] for r in rows) == [f"t-{i}" for i in range(5)]
    _code, out, _ = cli("export")
    again = tmp_path / "again"
    again.mkdir()
    (again / "dump.ndjson").write_text(out)
    from opennews.cli import main

    assert main(["--home", str(tmp_path / "home2"), "ingest", "--quiet", str(again)]) == 0
    with Archive.open(tmp_path / "home2" / "opennews.sqlite3", readonly=True) as second:
        assert "".join(r + "\n" for r in second.iter_json()) == out


def test_detection_by_content() -> None:
    assert detect("x.txt", '{"title": "a"}\n{"title": "b"}\n') == "ndjson"
    assert detect("x", '{\n  "title": "a"\n}') == "json"
    assert detect("x.json", "[{}]") == "json"
    assert detect("x.txt", '<?xml version="1.0"?><rss version="2.0">') == "feed"
    assert detect("x.xml", "<feed xmlns='http://www.w3.org/2005/Atom'>") == "feed"
    assert detect("x.txt", "<!DOCTYPE html><html>") == "html"
    assert detect("x", "# doc_id = a\n# url = b\nTitle") == "headers"
    assert detect("x", "Title: a\nLink: b\nContent: c") == "keyvalue"
    assert detect("x.json", "Tiêu đề\nNội dung") == "text"


@pytest.mark.parametrize("name", ["pagetext_hue.txt", "keyvalue.txt", "feed_rss.xml", "jsonld.json"])
def test_reingesting_a_fixture_is_unchanged(cli: Cli, home: Path, name: str) -> None:
    ingest_one(cli, home, FIXTURES / name)
    code, out, _ = cli("ingest", "--quiet", str(FIXTURES / name))
    assert code == 0 and "added 0 · updated 0" in out and "rejected 0" in out


def test_page_without_article_starts_at_its_headline_and_drops_a_share_bar() -> None:
    """Weather, log-in and breadcrumbs above the <h1>, and a row of share buttons under it,
    are not the lead (bench/extract.py's "heavy chrome" layout)."""
    from opennews.ingest.readers.webpage import read_webpage
    from opennews.ingest.records import Document

    lead = "Chiều qua, tỉnh công bố kế hoạch nạo vét kênh rạch trước mùa mưa với kinh phí ba trăm tỷ đồng."
    body = "Theo kế hoạch, hai mươi bốn tuyến kênh trong nội thành sẽ được nạo vét trước tháng chín năm nay."
    page = (
        "<html><head><title>Nạo vét kênh rạch</title></head><body><div>Hà Nội 24°C</div><div>Đăng nhập</div>"
        "<h1>Nạo vét kênh rạch</h1><div>Chia sẻ Facebook Zalo Sao chép liên kết Lưu bài</div>"
        f"<div class='content'><p>{lead}</p><p>{body}</p></div></body></html>"
    )
    [found] = list(read_webpage(Document("p.html", page)))
    assert found.fields is not None
    assert (found.fields["sapo"], found.fields["body"]) == (lead, body)
