"""An outlet simulator: a real HTTP server on 127.0.0.1 serving a small Vietnamese news site.

Tests of fetching and following run against it instead of mocks, so what they assert
(a 304 on the second poll, the delay between two requests, nothing robots.txt disallows
ever asked for) is what a real server saw: every request is logged with its method,
path, headers and arrival time (``time.monotonic``).

    with Outlet() as outlet:
        feed = fetcher.get(outlet.url("/rss.xml"))
        outlet.edit("gia-lua", paragraphs=[...])   # the next poll sees a new version
        assert outlet.paths() == ["/robots.txt", "/rss.xml"]

Every path the site answers is in :data:`ROUTES` (exact paths) and :data:`PREFIXES`
(article pages). The articles are written for these tests (synthetic, not real news).
Feeds, sitemaps and article pages carry an ETag and a Last-Modified and answer 304 to
a conditional request that matches; bodies over 1 KiB are gzipped for a client that
accepts it.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["ARTICLES", "FIRST", "LATER", "PREFIXES", "ROUTES", "Article", "Outlet", "Reply", "Request", "gzip_bomb"]

NAME = "Tin Nhanh Thử Nghiệm"
ROBOTS = "User-agent: *\nDisallow: /rieng/\nDisallow: /nhap/\n\nSitemap: {base}/sitemap.xml\n"
FIRST = "gia-lua-dong-bang-song-cuu-long"  # where /chuyen-huong and /ra-ngoai lead
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@dataclass
class Article:
    """One article of the outlet. ``jsonld``: its page embeds a schema.org NewsArticle;
    otherwise the page has only Open Graph meta and an ``<article>`` element."""

    slug: str
    title: str
    lead: str
    paragraphs: list[str]
    author: str
    section: str
    published: datetime
    modified: datetime | None = None
    jsonld: bool = True
    folder: str = "bai"  # /rieng/ is disallowed by robots.txt
    gone: int | None = None  # 404 or 410 once removed

    @property
    def path(self) -> str:
        return f"/{self.folder}/{self.slug}.html"

    @property
    def updated(self) -> datetime:
        return self.modified or self.published


ARTICLES: tuple[Article, ...] = (
    Article(
        slug="gia-lua-dong-bang-song-cuu-long",
        title="Giá lúa ở Đồng bằng sông Cửu Long tăng nhẹ đầu vụ đông xuân",
        lead="Thương lái đến tận ruộng đặt cọc, giá lúa tươi nhích thêm 200 đồng mỗi ký so với tuần trước.",
        paragraphs=[
            "Tại nhiều huyện của tỉnh An Giang và Đồng Tháp, nông dân bắt đầu xuống giống vụ đông xuân "
            "trong tâm trạng phấn khởi khi giá lúa tươi được thương lái trả cao hơn vụ trước.",
            "Ông Nguyễn Văn Phước, một nông dân ở xã Vĩnh Hòa, cho biết gia đình ông đã ký hợp đồng bao tiêu "
            "với một doanh nghiệp xuất khẩu gạo, nhờ vậy yên tâm đầu tư phân bón và giống chất lượng cao.",
            "Theo Sở Nông nghiệp, diện tích gieo sạ năm nay ước đạt hơn 230 nghìn héc-ta, trong đó phần lớn "
            "là các giống lúa thơm đang được thị trường ưa chuộng.",
            "Các chuyên gia khuyến cáo bà con theo dõi lịch thời vụ, tránh xuống giống ồ ạt khi mực nước "
            "trên kênh rạch còn cao, để hạn chế thiệt hại do sâu bệnh và ngập úng.",
        ],
        author="Trần Minh Khoa",
        section="Kinh tế",
        published=T0,
    ),
    Article(
        slug="ha-noi-mo-them-tuyen-xe-buyt-dien",
        title="Hà Nội mở thêm ba tuyến xe buýt điện nối trung tâm với ngoại thành",
        lead="Ba tuyến mới chạy từ sáng thứ hai, giá vé không đổi, mỗi chuyến cách nhau mười lăm phút.",
        paragraphs=[
            "Sở Giao thông vận tải Hà Nội vừa công bố đưa vào khai thác ba tuyến xe buýt điện mới, "
            "kết nối khu vực phố cổ với các huyện Đông Anh, Gia Lâm và Hoài Đức.",
            "Mỗi tuyến có mười hai xe, hoạt động từ năm giờ sáng đến mười giờ tối; hành khách có thể "
            "thanh toán bằng thẻ từ hoặc mã QR trên điện thoại.",
            "Bà Lê Thị Hương, sống ở quận Hoàn Kiếm, nói rằng xe mới êm, sạch và không còn mùi khói "
            "như trước, nên chị sẽ để xe máy ở nhà vào những ngày đi làm.",
            "Thành phố đặt mục tiêu đến năm 2030 toàn bộ xe buýt sử dụng năng lượng xanh, góp phần giảm "
            "ô nhiễm không khí và ùn tắc giao thông.",
        ],
        author="Phạm Thu Trang",
        section="Thời sự",
        published=T0 + timedelta(hours=2),
        jsonld=False,
    ),
    Article(
        slug="doi-tuyen-bong-chuyen-nu-gianh-huy-chuong",
        title="Đội tuyển bóng chuyền nữ giành huy chương bạc sau trận chung kết kịch tính",
        lead="Thua sát nút ở séc quyết định, các cô gái vẫn nhận được tràng pháo tay dài của khán giả.",
        paragraphs=[
            "Trận chung kết diễn ra tối qua tại nhà thi đấu Quần Ngựa với hơn năm nghìn khán giả, "
            "phần lớn mặc áo đỏ cổ vũ đội nhà suốt gần ba giờ đồng hồ.",
            "Sau khi dẫn trước hai séc, đội tuyển để đối thủ lội ngược dòng và chỉ chịu thua 13-15 "
            "ở séc thứ năm, khi chủ công số mười bị chấn thương cổ chân.",
            "Huấn luyện viên trưởng cho biết ông tự hào về tinh thần thi đấu của các học trò và tin "
            "rằng lứa cầu thủ trẻ sẽ còn tiến xa trong những giải đấu tới.",
        ],
        author="Đỗ Quang Huy",
        section="Thể thao",
        published=T0 + timedelta(hours=5),
    ),
    Article(
        slug="hoi-sach-mua-dong-tai-thanh-pho-hue",
        title="Hội sách mùa đông thu hút đông đảo bạn trẻ ở thành phố Huế",
        lead="Hơn một trăm gian hàng, nhiều buổi giao lưu với tác giả và góc đọc sách miễn phí cho thiếu nhi.",
        paragraphs=[
            "Hội sách năm nay được tổ chức bên bờ sông Hương, kéo dài một tuần với chủ đề “Đọc để hiểu quê hương”.",
            "Nhiều nhà xuất bản mang đến những đầu sách về lịch sử, ẩm thực và kiến trúc cố đô, "
            "trong đó có cả những ấn phẩm song ngữ dành cho du khách nước ngoài.",
            "Em Hoàng Bảo Ngọc, học sinh lớp chín, chia sẻ rằng em đã dành dụm tiền tiêu vặt cả tháng "
            "để mua bộ truyện mình yêu thích và xin chữ ký của tác giả.",
            "Ban tổ chức dự kiến đón khoảng bốn mươi nghìn lượt khách, tăng gần gấp đôi so với năm ngoái.",
        ],
        author="Võ Ngọc Lan",
        section="Văn hóa",
        published=T0 + timedelta(hours=7),
        jsonld=False,
    ),
    Article(
        slug="ban-tin-noi-bo-toa-soan",
        title="Bản tin nội bộ của tòa soạn",
        lead="Trang này chỉ dành cho phóng viên; robots.txt không cho máy đọc vào.",
        paragraphs=[
            "Lịch trực tuần tới đã được cập nhật, đề nghị các phóng viên kiểm tra và xác nhận trước thứ sáu.",
            "Phòng biên tập nhắc lại quy định ghi rõ nguồn ảnh trong mọi bài viết đăng trên trang.",
        ],
        author="Ban biên tập",
        section="Nội bộ",
        published=T0 + timedelta(hours=8),
        folder="rieng",
    ),
)


#: Not served at first: ``outlet.add(LATER)`` publishes it between two polls.
LATER = Article(
    slug="mua-lon-keo-dai-o-mien-trung",
    title="Mưa lớn kéo dài ở miền Trung, nhiều tuyến đường bị chia cắt",
    lead="Nước sông dâng nhanh trong đêm, chính quyền địa phương di dời hàng trăm hộ dân đến nơi an toàn.",
    paragraphs=[
        "Từ chiều hôm qua, các tỉnh Quảng Nam, Quảng Ngãi và Bình Định có mưa to đến rất to, "
        "lượng mưa phổ biến từ 200 đến 350 mi-li-mét.",
        "Tại huyện Đại Lộc, nước lũ tràn qua tỉnh lộ khiến giao thông bị chia cắt; lực lượng biên phòng "
        "dùng ca nô đưa người già và trẻ nhỏ đến các điểm sơ tán.",
        "Trung tâm Dự báo khí tượng thủy văn cảnh báo mưa còn kéo dài đến hết ngày mai, "
        "nguy cơ sạt lở đất ở vùng núi là rất cao.",
    ],
    author="Nguyễn Hải Đăng",
    section="Thời sự",
    published=T0 + timedelta(hours=10),
)


@dataclass(frozen=True)
class Request:
    """One request as the outlet received it; header names are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    time: float  # time.monotonic() when it arrived
    client: tuple[str, int]  # the client's address and port: one port for many requests is keep-alive


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    updated: datetime | None = None  # gives Last-Modified; with a bytes body, an ETag too
    compress: bool = True  # gzip when the client accepts it


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


_BOMB: dict[int, bytes] = {}


def gzip_bomb(decoded_bytes: int = 32 << 20) -> bytes:
    """gzip of ``decoded_bytes`` zeros (32 MiB make 32 KiB), made once per size in memory, by chunks."""
    if decoded_bytes not in _BOMB:
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)
        zeros, parts, left = bytes(1 << 20), [], decoded_bytes
        while left:
            parts.append(packer.compress(zeros[: min(left, len(zeros))]))
            left -= min(left, len(zeros))
        parts.append(packer.flush())
        _BOMB[decoded_bytes] = b"".join(parts)
    return _BOMB[decoded_bytes]


# ---------------------------------------------------------------------------------------------------------------
# The site's documents


def _x(text: str) -> str:
    return escape(text)


def _rss(o: Outlet, items: list[Article]) -> str:
    entries = "".join(
        f"<item><title>{_x(a.title)}</title><link>{o.url(a.path)}</link>"
        f'<guid isPermaLink="true">{o.url(a.path)}</guid><pubDate>{http_date(a.published)}</pubDate>'
        f"<category>{_x(a.section)}</category><author>{_x(a.author)}</author>"
        f"<description>{_x(a.lead)}</description></item>\n"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{_x(NAME)}</title><link>{o.url('/')}</link><description>Tin tức thử nghiệm</description>"
        f"<language>vi</language>\n{entries}</channel></rss>\n"
    )


def _atom(o: Outlet, items: list[Article]) -> str:
    updated = max((a.updated for a in items), default=T0).isoformat()
    entries = "".join(
        f'<entry><title>{_x(a.title)}</title><link rel="alternate" href="{o.url(a.path)}"/>'
        f"<id>{o.url(a.path)}</id><published>{a.published.isoformat()}</published>"
        f"<updated>{a.updated.isoformat()}</updated><author><name>{_x(a.author)}</name></author>"
        f'<category term="{_x(a.section)}"/><summary>{_x(a.lead)}</summary></entry>\n'
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">'
        f"<title>{_x(NAME)}</title><id>{o.url('/')}</id><updated>{updated}</updated>"
        f'<link rel="self" href="{o.url("/atom.xml")}"/>\n{entries}</feed>\n'
    )


def _jsonfeed(o: Outlet, items: list[Article]) -> str:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": NAME,
        "home_page_url": o.url("/"),
        "feed_url": o.url("/feed.json"),
        "language": "vi",
        "items": [
            {
                "id": o.url(a.path),
                "url": o.url(a.path),
                "title": a.title,
                "summary": a.lead,
                "content_html": "".join(f"<p>{html.escape(p)}</p>" for p in a.paragraphs),
                "date_published": a.published.isoformat(),
                "date_modified": a.updated.isoformat(),
                "authors": [{"name": a.author}],
                "tags": [a.section],
            }
            for a in items
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


def _news_sitemap(o: Outlet, items: list[Article]) -> str:
    urls = "".join(
        f"<url><loc>{o.url(a.path)}</loc><lastmod>{a.updated.isoformat()}</lastmod><news:news>"
        f"<news:publication><news:name>{_x(NAME)}</news:name><news:language>vi</news:language></news:publication>"
        f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
        f"<news:title>{_x(a.title)}</news:title></news:news></url>\n"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>\n'
    )


def _pages_sitemap(o: Outlet, items: list[Article]) -> str:
    urls = "".join(f"<url><loc>{o.url(a.path)}</loc><lastmod>{a.updated.isoformat()}</lastmod></url>\n" for a in items)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'


def _sitemap_index(o: Outlet) -> str:
    maps = "".join(f"<sitemap><loc>{o.url(p)}</loc></sitemap>" for p in ("/sitemap-news.xml", "/sitemap-pages.xml"))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>\n'


def _home(o: Outlet, items: list[Article]) -> str:
    links = "".join(f'<li><a href="{a.path}">{html.escape(a.title)}</a></li>' for a in items)
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(NAME)}</title>'
        f'<link rel="alternate" type="application/rss+xml" title="Tin mới" href="/rss.xml">'
        f'<link rel="alternate" type="application/atom+xml" title="Tin mới (Atom)" href="{o.url("/atom.xml")}">'
        f'<link rel="alternate" type="application/feed+json" title="Tin mới (JSON)" href="/feed.json">'
        f"</head><body><h1>{html.escape(NAME)}</h1><ul>{links}</ul></body></html>\n"
    )


def _page(o: Outlet, a: Article) -> str:
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in a.paragraphs)
    head = (
        f'<meta property="og:type" content="article"><meta property="og:title" content="{e(a.title)}">'
        f'<meta property="og:description" content="{e(a.lead)}"><meta property="og:url" content="{o.url(a.path)}">'
        f'<meta property="article:published_time" content="{a.published.isoformat()}">'
        f'<meta property="article:section" content="{e(a.section)}">'
    )
    if a.jsonld:
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": a.title,
            "description": a.lead,
            "datePublished": a.published.isoformat(),
            "dateModified": a.updated.isoformat(),
            "author": {"@type": "Person", "name": a.author},
            "articleSection": a.section,
            "inLanguage": "vi",
            "mainEntityOfPage": o.url(a.path),
            "publisher": {"@type": "Organization", "name": NAME},
        }
        head += f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{e(a.title)}</title>{head}</head>'
        f'<body><nav><a href="/">Trang chủ</a> › {e(a.section)}</nav><article><h1>{e(a.title)}</h1>'
        f'<p class="sapo">{e(a.lead)}</p>{body}<p class="author">{e(a.author)}</p></article>'
        f"<footer>© {e(NAME)}. Chia sẻ: Facebook, Zalo.</footer></body></html>\n"
    )


# ---------------------------------------------------------------------------------------------------------------
# Routes: each takes the outlet and answers a Reply. Articles are at PREFIXES.


def _doc(render: Callable[[Outlet, list[Article]], str], content_type: str) -> Callable[[Outlet], Reply]:
    def route(o: Outlet) -> Reply:
        items = o.listed()
        return Reply(
            body=render(o, items).encode(),
            content_type=content_type,
            updated=max((a.updated for a in items), default=T0),
        )

    return route


def _redirect(to: Callable[[Outlet], str], status: int = 301) -> Callable[[Outlet], Reply]:
    return lambda o: Reply(status=status, headers={"Location": to(o)}, body=b"")


def _slow(o: Outlet) -> Reply:
    o.closing.wait(o.slow_seconds)
    return Reply(body="<p>Trang chậm, cuối cùng cũng tới.</p>".encode())


def _oversized(o: Outlet, *, length: bool) -> Reply:
    chunk = ("<p>" + "Đoạn văn rất dài lặp lại mãi. " * 30 + "</p>\n").encode()
    count = o.oversized_bytes // len(chunk) + 1
    headers = {"Content-Length": str(count * len(chunk))} if length else {}
    return Reply(body=(chunk for _ in range(count)), headers=headers, compress=False)


def _bomb(o: Outlet) -> Reply:
    return Reply(body=gzip_bomb(o.bomb_bytes), headers={"Content-Encoding": "gzip"}, compress=False)


def _retry_date(o: Outlet) -> str:
    return http_date(datetime.now(UTC) + timedelta(seconds=o.retry_after))


BROKEN_XML = "<?xml version='1.0'?><rss version='2.0'><channel><title>Tin & tức</title><item><title>Giá lúa"
XML, RSS, ATOM = "application/xml; charset=utf-8", "application/rss+xml; charset=utf-8", "application/atom+xml"

ROUTES: dict[str, Callable[[Outlet], Reply]] = {
    "/": _doc(_home, "text/html; charset=utf-8"),
    "/robots.txt": lambda o: Reply(
        status=o.robots_status, body=o.robots.format(base=o.base_url).encode(), content_type="text/plain"
    ),
    "/rss.xml": _doc(_rss, RSS),
    "/atom.xml": _doc(_atom, ATOM + "; charset=utf-8"),
    "/feed.json": _doc(_jsonfeed, "application/feed+json; charset=utf-8"),
    "/sitemap-news.xml": _doc(_news_sitemap, XML),
    "/sitemap-pages.xml": _doc(_pages_sitemap, XML),
    "/sitemap.xml": lambda o: Reply(body=_sitemap_index(o).encode(), content_type=XML),
    # broken XML: an unescaped "&" and the channel never closed
    "/hong.xml": lambda o: Reply(body=BROKEN_XML.encode(), content_type=RSS),
    "/chuyen-huong": _redirect(lambda o: o.article(FIRST).path),  # relative Location
    "/chuyen-huong-2": _redirect(lambda o: o.url("/chuyen-huong"), 302),  # two hops
    "/vong-lap-a": _redirect(lambda o: "/vong-lap-b", 302),
    "/vong-lap-b": _redirect(lambda o: "/vong-lap-a", 302),
    # the same server under another name, a host no source names
    "/ra-ngoai": _redirect(lambda o: f"http://localhost:{o.port}{o.article(FIRST).path}", 302),
    "/vao-rieng": _redirect(lambda o: "/rieng/ban-tin-noi-bo-toa-soan.html", 302),  # into a robots-disallowed path
    "/qua-tai": lambda o: Reply(status=429, headers={"Retry-After": f"{o.retry_after:g}"}, body=b"Too many"),
    "/qua-tai-ngay": lambda o: Reply(status=429, headers={"Retry-After": _retry_date(o)}, body=b"Too many"),
    "/loi": lambda o: Reply(status=500, body=b"Internal error"),
    "/bao-tri": lambda o: Reply(status=503, headers={"Retry-After": f"{o.retry_after:g}"}, body=b"Maintenance"),
    "/cham": _slow,
    "/qua-lon.html": lambda o: _oversized(o, length=True),
    "/qua-lon-khong-do-dai.html": lambda o: _oversized(o, length=False),
    "/bom.html": _bomb,
    "/da-xoa": lambda o: Reply(status=410, body=b"Gone"),
}


def _article_route(o: Outlet, path: str) -> Reply | None:
    a = o.article_at(path)
    if a is None:
        return None
    if a.gone:
        return Reply(status=a.gone, body=b"Not here")
    return Reply(body=_page(o, a).encode(), updated=a.updated)


PREFIXES: dict[str, Callable[[Outlet, str], Reply | None]] = {"/bai/": _article_route, "/rieng/": _article_route}


# ---------------------------------------------------------------------------------------------------------------
# The server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the fetcher uses it
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, 40 ms a request
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet under pytest
        pass

    def do_GET(self) -> None:
        outlet = self.server.outlet
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        outlet._log(Request("GET", path, headers, time.monotonic(), self.client_address[:2]))
        reply = outlet.answer(path)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (a cap, a timeout)
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        body, headers = reply.body, dict(reply.headers)
        if isinstance(body, bytes) and reply.status == 200:
            if reply.updated is not None:
                headers["Last-Modified"] = http_date(reply.updated)
            headers.setdefault("ETag", '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
            if self._not_modified(headers):
                reply, body = Reply(status=304, headers=headers), b""
            elif reply.compress and len(body) > 1024 and "gzip" in self.headers.get("Accept-Encoding", ""):
                body, headers["Content-Encoding"] = gzip.compress(body, 6), "gzip"
                headers["Vary"] = "Accept-Encoding"
        self.send_response(reply.status)
        if reply.status != 304:
            self.send_header("Content-Type", reply.content_type)
        for name, value in headers.items():
            if name != "Content-Length":
                self.send_header(name, value)
        if isinstance(body, bytes):
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif "Content-Length" in headers:
            self.send_header("Content-Length", headers["Content-Length"])
            self.end_headers()
            for chunk in body:
                self.wfile.write(chunk)
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in body:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")

    def _not_modified(self, headers: dict[str, str]) -> bool:
        if (tags := self.headers.get("If-None-Match")) is not None:
            return headers["ETag"] in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        since, modified = self.headers.get("If-Modified-Since"), headers.get("Last-Modified")
        if since and modified:
            try:
                return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    outlet: Outlet


class Outlet:
    """The simulated outlet, serving while the ``with`` block runs.

    ``slow_seconds``: how long ``/cham`` takes to answer; ``retry_after``: the seconds
    ``/qua-tai`` and ``/bao-tri`` ask for; ``oversized_bytes``: the size of ``/qua-lon*.html``;
    ``bomb_bytes``: what ``/bom.html`` (a gzip of zeros) decodes to; ``robots``: the text of
    ``/robots.txt`` (``{base}`` is the site's address) and ``robots_status`` its status.
    """

    def __init__(
        self,
        articles: Iterable[Article] = ARTICLES,
        *,
        slow_seconds: float = 2.0,
        retry_after: float = 3.0,
        oversized_bytes: int = (8 << 20) + (1 << 20),
        bomb_bytes: int = 32 << 20,
        robots: str = ROBOTS,
        robots_status: int = 200,
    ) -> None:
        self.articles: list[Article] = [replace(a, paragraphs=list(a.paragraphs)) for a in articles]
        self.slow_seconds, self.retry_after = slow_seconds, retry_after
        self.oversized_bytes, self.bomb_bytes = oversized_bytes, bomb_bytes
        self.robots, self.robots_status = robots, robots_status
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._failing: dict[str, Reply] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life
    def __enter__(self) -> Outlet:
        gzip_bomb(self.bomb_bytes)  # made before serving (0.25 s for 32 MiB, once a run), so /bom.html answers at once
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.outlet = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def port(self) -> int:
        assert self._server is not None, "the outlet serves inside its with block"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- what it received
    def _log(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[Request]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._requests)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- what it serves
    def answer(self, path: str) -> Reply:
        with self._lock:
            failing = self._failing.get(path)
        if failing is not None:
            return failing
        if path in ROUTES:
            return ROUTES[path](self)
        for prefix, route in PREFIXES.items():
            if path.startswith(prefix) and (reply := route(self, path)) is not None:
                return reply
        return Reply(status=404, body="<p>Không tìm thấy trang.</p>".encode())

    def listed(self) -> list[Article]:
        """Articles in the feeds and sitemaps, newest first (removed ones are left out)."""
        with self._lock:
            return sorted((a for a in self.articles if not a.gone), key=lambda a: a.published, reverse=True)

    def article_at(self, path: str) -> Article | None:
        with self._lock:
            return next((a for a in self.articles if a.path == path), None)

    def article(self, slug: str) -> Article:
        found = next((a for a in self.articles if a.slug == slug or a.slug.startswith(slug)), None)
        if found is None:
            raise KeyError(slug)
        return found

    def add(self, article: Article) -> Article:
        """Publish another article (a copy of it): it appears in every feed and sitemap from the next request."""
        article = replace(article, paragraphs=list(article.paragraphs))
        with self._lock:
            self.articles.append(article)
        return article

    def edit(
        self, slug: str, *, title: str | None = None, paragraphs: list[str] | None = None, lead: str | None = None
    ) -> Article:
        """Change an article's text (a slug's prefix is enough); its modified time moves on by a minute
        at least, so its ETag, Last-Modified and the feeds' dates change."""
        with self._lock:
            a = self.article(slug)
            a.title, a.lead = title or a.title, lead or a.lead
            a.paragraphs = list(paragraphs) if paragraphs is not None else a.paragraphs
            a.modified = max(datetime.now(UTC).replace(microsecond=0), a.updated + timedelta(minutes=1))
            return a

    def fail(self, path: str, status: int | None, *, retry_after: float | None = None) -> None:
        """From the next request on, ``path`` answers ``status`` (429, 500, 503…) with a
        Retry-After when given, as a feed whose server is in trouble; None: as usual again."""
        with self._lock:
            if status is None:
                self._failing.pop(path, None)
            else:
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                self._failing[path] = Reply(status=status, headers=headers, body=b"Trouble")

    def remove(self, slug: str, status: int = 410) -> Article:
        """Take an article down: its page answers ``status`` (404 or 410) and the feeds leave it out."""
        with self._lock:
            a = self.article(slug)
            a.gone = status
            return a
