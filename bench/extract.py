"""Article text extraction on Vietnamese news pages: the project's page reader against trafilatura.

    python bench/extract.py          # needs the bench extra: pip install -e '.[bench]'

Five pages written for this benchmark, each a layout Vietnamese outlets use: a JSON-LD
``articleBody``; no JSON-LD, the text in ``<article>``; heavy chrome (menus, related
links, comments, share buttons) around a ``div`` of text; photos with captions inside
the text; the lead in a ``sapo`` element. The true text of each is its lead and body
paragraphs (not the headline, captions, bylines or chrome). For each extractor, per page
and overall: the share of the true text's words recovered, the words it adds that the
true text does not have, and the time per page (median of repeated runs).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from opennews.ingest.readers.webpage import read_webpage
from opennews.ingest.records import Document, Found

LEAD = [
    "Chiều qua, Ủy ban nhân dân tỉnh công bố kế hoạch nạo vét kênh rạch trước mùa mưa, với tổng kinh phí hơn "
    "ba trăm tỷ đồng từ ngân sách địa phương.",
    "Giá cà phê nhân xô tại Tây Nguyên sáng nay tăng thêm hai nghìn đồng mỗi ký, lên mức cao nhất từ đầu năm.",
    "Đội tuyển bóng đá nữ quốc gia hội quân tại Hà Nội, chuẩn bị cho vòng loại giải châu Á diễn ra vào tháng sau.",
    "Bệnh viện tuyến tỉnh vừa đưa vào sử dụng hệ thống đặt lịch khám qua điện thoại, giúp người bệnh bớt phải xếp "
    "hàng từ sáng sớm.",
    "Hội chợ sách mùa thu mở cửa tại công viên ven sông với hơn một trăm gian hàng của các nhà xuất bản trong nước.",
]
BODIES = [
    [
        "Theo kế hoạch, hai mươi bốn tuyến kênh trong nội thành sẽ được nạo vét, tổng chiều dài khoảng sáu mươi cây "
        "số. Bùn sau khi nạo vét được đưa về bãi tập kết ở huyện ngoại thành để xử lý.",
        "Giám đốc Sở Nông nghiệp cho biết nhiều đoạn kênh đã bồi lắng nặng, dòng chảy chậm, mỗi khi triều cường kết "
        "hợp mưa lớn là nước tràn vào khu dân cư.",
        "Người dân sống ven kênh được khuyến cáo không xả rác xuống lòng kênh và phối hợp với chính quyền phường khi "
        "đơn vị thi công tập kết máy móc.",
        "Dự kiến công trình hoàn thành trước tháng chín, kịp đón đợt mưa lớn nhất trong năm.",
    ],
    [
        "Các thương lái cho biết lượng hàng về kho ít do nông dân găm hàng chờ giá, trong khi nhu cầu của doanh "
        "nghiệp xuất khẩu vẫn ổn định.",
        "Trên sàn giao dịch London, giá cà phê Robusta giao tháng tới cũng tăng gần ba phần trăm so với phiên trước, "
        "nhờ lo ngại thời tiết khô hạn kéo dài ở các vùng trồng lớn.",
        "Hiệp hội cà phê khuyến nghị nông dân bán rải rác theo nhu cầu tài chính, tránh dồn hàng vào một thời điểm "
        "dễ bị ép giá khi thị trường đảo chiều.",
    ],
    [
        "Ban huấn luyện triệu tập hai mươi sáu cầu thủ, trong đó có ba gương mặt mới từ các câu lạc bộ phía Nam "
        "được đánh giá cao sau mùa giải vừa qua.",
        "Huấn luyện viên trưởng cho biết toàn đội sẽ tập trung cải thiện thể lực và khả năng chuyển trạng thái, "
        "hai điểm yếu lộ rõ trong các trận giao hữu gần đây.",
        "Sau mười ngày tập tại Hà Nội, đội sẽ bay sang nước bạn đá hai trận giao hữu trước khi bước vào vòng loại.",
        "Mục tiêu của đội là giành vé dự vòng chung kết, tiếp tục duy trì vị thế trong nhóm dẫn đầu khu vực.",
    ],
    [
        "Người bệnh gọi tổng đài, chọn chuyên khoa và khung giờ, sau đó nhận tin nhắn xác nhận kèm số thứ tự; đến "
        "bệnh viện chỉ cần xuất trình tin nhắn tại quầy tiếp đón.",
        "Trong tuần đầu thử nghiệm, gần hai nghìn lượt người bệnh đã đặt lịch thành công, thời gian chờ trung bình "
        "giảm từ hai giờ xuống còn khoảng bốn mươi phút.",
        "Giám đốc bệnh viện cho biết sắp tới sẽ mở thêm kênh đặt lịch qua ứng dụng, đồng thời bố trí nhân viên hướng "
        "dẫn người cao tuổi chưa quen dùng điện thoại.",
    ],
    [
        "Năm nay ban tổ chức dành riêng một khu cho sách thiếu nhi, có góc đọc miễn phí và các buổi kể chuyện vào "
        "cuối tuần.",
        "Nhiều nhà xuất bản giảm giá từ hai mươi đến năm mươi phần trăm, riêng sách giáo khoa cũ được thu đổi để "
        "tặng học sinh vùng khó khăn.",
        "Hội chợ kéo dài đến hết chủ nhật tuần sau, mở cửa từ tám giờ sáng đến mười giờ tối, vào cửa tự do.",
        "Ban tổ chức kỳ vọng đón khoảng ba trăm nghìn lượt khách, cao hơn năm ngoái nhờ địa điểm rộng và dễ đi lại.",
    ],
]
TITLES = [
    "Nạo vét kênh rạch trước mùa mưa",
    "Giá cà phê lên cao nhất từ đầu năm",
    "Tuyển nữ hội quân chuẩn bị vòng loại",
    "Bệnh viện cho đặt lịch khám qua điện thoại",
    "Hội chợ sách mùa thu mở cửa",
]

MENU = (
    "<nav class='menu'><ul>"
    + "".join(
        f"<li><a href='/{n}'>{n}</a></li>"
        for n in ("Thời sự", "Thế giới", "Kinh doanh", "Giải trí", "Thể thao", "Pháp luật", "Giáo dục", "Sức khỏe")
    )
    + "</ul></nav>"
)
SHARE = "<div class='share'><a>Chia sẻ Facebook</a> <a>Zalo</a> <a>Sao chép liên kết</a> <span>Lưu bài</span></div>"
RELATED = (
    "<div class='related'><h3>Tin liên quan</h3><ul>"
    "<li><a href='/1'>Nhiều tuyến đường ngập sâu sau cơn mưa chiều tối</a></li>"
    "<li><a href='/2'>Giá xăng dầu đồng loạt giảm từ chiều nay</a></li>"
    "<li><a href='/3'>Học sinh được nghỉ học vì bão, phụ huynh cần lưu ý gì</a></li></ul></div>"
)
COMMENTS = (
    "<div id='comments' class='comments'><h3>Ý kiến bạn đọc (3)</h3>"
    "<div class='comment'><b>Nguyễn Văn Hùng</b><p>Bài viết rất hữu ích, mong chính quyền làm nhanh hơn nữa để dân "
    "đỡ khổ mỗi mùa mưa.</p><a>Trả lời</a> <a>Thích</a></div>"
    "<div class='comment'><b>Trần Thị Mai</b><p>Nhà tôi ở gần đó, năm nào cũng ngập, hy vọng năm nay sẽ khác.</p>"
    "<a>Trả lời</a> <a>Thích</a></div></div>"
)
FOOTER = (
    "<footer><p>Cơ quan chủ quản: Công ty cổ phần Báo Thử. Giấy phép số 123/GP-BTTTT.</p>"
    "<p>Địa chỉ: số 1 đường Hai Bà Trưng, Hà Nội. Điện thoại liên hệ quảng cáo: 024 0000 0000.</p></footer>"
)


def _head(n: int, extra: str = "") -> str:
    return (
        f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{TITLES[n]} - Báo Thử</title>"
        f"<meta property='og:title' content='{TITLES[n]}'>"
        f"<meta property='article:published_time' content='2026-03-0{n + 1}T08:00:00+07:00'>{extra}</head>"
    )


def page_jsonld(n: int) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": TITLES[n],
        "description": LEAD[n],
        "articleBody": "\n\n".join(BODIES[n]),
        "datePublished": "2026-03-01T08:00:00+07:00",
        "author": {"@type": "Person", "name": "Thanh Tùng"},
    }
    script = f"<script type='application/ld+json'>{json.dumps(data, ensure_ascii=False)}</script>"
    paras = "".join(f"<p>{p}</p>" for p in BODIES[n])
    return (
        _head(n, script) + f"<body>{MENU}<div class='main'><h1>{TITLES[n]}</h1><p class='lead'>{LEAD[n]}</p>"
        f"<div class='content'>{paras}</div>{SHARE}{RELATED}</div>{FOOTER}</body></html>"
    )


def page_article(n: int) -> str:
    paras = "".join(f"<p>{p}</p>" for p in [LEAD[n], *BODIES[n]])
    return (
        _head(n) + f"<body>{MENU}<main><article><h1>{TITLES[n]}</h1><p class='date'>Thứ hai, 2/3/2026 08:00</p>"
        f"{paras}<p class='author'>Lan Hương</p></article>{RELATED}</main>{FOOTER}</body></html>"
    )


def page_chrome(n: int) -> str:
    paras = "".join(f"<p>{p}</p>" for p in [LEAD[n], *BODIES[n]])
    trending = (
        "<aside><h3>Đọc nhiều</h3><ol>"
        + "".join(f"<li><a href='/t{i}'>{t}</a></li>" for i, t in enumerate(TITLES) if i != n)
        + "</ol></aside>"
    )
    return (
        _head(n) + f"<body><div class='top'>{MENU}<div class='weather'>Hà Nội 24°C</div><div class='login'>"
        f"Đăng nhập</div></div><div class='breadcrumb'><a>Trang chủ</a> › <a>Thời sự</a></div>"
        f"<div class='detail'><h1 class='title'>{TITLES[n]}</h1>{SHARE}<div class='detail-content'>{paras}</div>"
        f"<p class='author'>Minh Châu</p>{SHARE}<div class='tags'>Từ khóa: <a>thời sự</a> <a>đời sống</a></div>"
        f"{RELATED}{COMMENTS}</div>{trending}{FOOTER}</body></html>"
    )


def page_captions(n: int) -> str:
    body = BODIES[n]
    figure = (
        "<figure class='image'><img src='https://example.vn/anh.jpg' alt=''>"
        "<figcaption>Ảnh minh họa: quang cảnh buổi sáng tại địa phương. Ảnh: Hoàng Nam</figcaption></figure>"
    )
    paras = f"<p>{LEAD[n]}</p>{figure}" + "".join(
        f"<p>{p}</p>" + (figure if i == 1 else "") for i, p in enumerate(body)
    )
    return (
        _head(n) + f"<body>{MENU}<article class='fck_detail'><h1>{TITLES[n]}</h1>{paras}</article>{SHARE}{RELATED}"
        f"{FOOTER}</body></html>"
    )


def page_sapo(n: int) -> str:
    paras = "".join(f"<p>{p}</p>" for p in BODIES[n])
    return (
        _head(n, f"<meta name='description' content='{LEAD[n][:80]}…'>")
        + f"<body>{MENU}<div class='article'><h1>{TITLES[n]}</h1><h2 class='sapo'>{LEAD[n]}</h2>"
        f"<div id='main-detail'>{paras}</div>{SHARE}</div>{RELATED}{COMMENTS}{FOOTER}</body></html>"
    )


LAYOUTS: list[tuple[str, Callable[[int], str]]] = [
    ("JSON-LD articleBody", page_jsonld),
    ("<article>, no JSON-LD", page_article),
    ("heavy chrome", page_chrome),
    ("photos with captions", page_captions),
    ("lead in .sapo", page_sapo),
]

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> Counter[str]:
    return Counter(w.casefold() for w in _WORD.findall(text))


def ours(html: str) -> str:
    for found in read_webpage(Document("page.html", html)):
        if isinstance(found, Found) and found.fields:
            return "\n".join(x for x in (found.fields.get("sapo"), found.fields.get("body")) if x)
    return ""


def trafilatura_text(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=False) or ""


def score(true: str, got: str) -> tuple[float, int]:
    t, g = words(true), words(got)
    recovered = sum((t & g).values()) / max(sum(t.values()), 1)
    extra = sum((g - t).values())
    return recovered, extra


def timed(fn: Callable[[str], str], html: str, repeat: int = 7) -> tuple[str, float]:
    out, times = "", []
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn(html)
        times.append(time.perf_counter() - started)
    return out, statistics.median(times)


def main() -> int:
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        print("trafilatura is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    extractors = [("opennews", ours), ("trafilatura", trafilatura_text)]
    totals = {name: {"true": 0, "found": 0, "extra": 0, "time": 0.0} for name, _ in extractors}
    print(f"{'page':<34} {'extractor':<12} {'recovered':>9} {'extra':>6} {'ms/page':>8}")
    pages = 0
    for layout, make in LAYOUTS:
        for n in range(len(TITLES)):
            html = make(n)
            true = "\n".join([LEAD[n], *BODIES[n]])
            pages += 1
            for name, fn in extractors:
                got, seconds = timed(fn, html)
                recovered, extra = score(true, got)
                t = totals[name]
                t["true"] += sum(words(true).values())
                t["found"] += recovered * sum(words(true).values())
                t["extra"] += extra
                t["time"] += seconds
                if n == 0 or recovered < 0.99 or extra:
                    print(f"{layout + f' #{n + 1}':<34} {name:<12} {recovered:>9.1%} {extra:>6} {seconds * 1000:>8.2f}")
    print()
    print(f"{'overall (' + str(pages) + ' pages)':<34} {'extractor':<12} {'recovered':>9} {'extra':>6} {'ms/page':>8}")
    for name, t in totals.items():
        print(f"{'':<34} {name:<12} {t['found'] / t['true']:>9.1%} {t['extra']:>6} {t['time'] / pages * 1000:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
