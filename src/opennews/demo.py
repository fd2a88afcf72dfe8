"""A synthetic Vietnamese news corpus, so a fresh install has something to search.

Every word here was composed for this module: templates with slots (places, people,
organisations, numbers, dates) filled from a seeded ``random.Random``, so a seed always
gives the same corpus and nothing is copied from real outlets. The corpus is meant to
*exercise* Vietnamese-aware search: folded forms that collide (bán/bạn/bàn/bản,
đường/dương), oa/oe/uy words whose tone mark moves (half the outlets write "hoà, khoẻ,
thuỷ"), đ/Đ, TP.HCM and UBND, "24.000" and "ngày 5/3", and a small deterministic share
of scraped-text noise (NFD bodies, no-break and zero-width spaces, missing bylines).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import cache
from itertools import accumulate
from typing import NamedTuple

from .vietnamese import place_tones

__all__ = ["generate"]

_KEYS = ("url", "source", "category", "title", "sapo", "body", "author", "published", "images", "tags")

_VN = timezone(timedelta(hours=7))
_START = datetime(2015, 1, 1, tzinfo=_VN)
_MINUTES = int((datetime(2026, 1, 1, tzinfo=_VN) - _START).total_seconds()) // 60


def _t(text: str) -> tuple[str, ...]:
    """Word lists are written as "a | b | c" text: compact to read, easy to extend, short to keep."""
    return tuple(s for s in (s.strip() for s in text.replace("\n", " ").split("|")) if s)


class _Cat(NamedTuple):
    """A news section: label, URL path, the local Sở that covers it, and its own vocabulary."""

    label: str
    slug: str
    dept: str
    orgs: tuple[str, ...]
    topics: tuple[str, ...]
    titles: tuple[str, ...]
    sentences: tuple[str, ...]
    tags: tuple[str, ...]
    captions: tuple[str, ...]


def _sections(text: str) -> tuple[_Cat, ...]:
    """Parse the section blocks: "= label | path | Sở", then "field: a | b" lines; indented lines continue a field."""
    cats = []
    for block in text.split("\n= ")[1:]:
        head, *lines = block.split("\n")
        fields: dict[str, str] = {}
        key = ""
        for line in lines:
            if line.startswith(" "):
                fields[key] += line
            elif line:
                key, _, first = line.partition(":")
                fields[key] = first
        cats.append(_Cat(*_t(head), *(_t(fields[name]) for name in _Cat._fields[3:])))
    return tuple(cats)


# Half the outlets put the tone mark on the second vowel (hoà, thuỷ), as real ones do.
_OUTLETS = _t("songhong|phuongnam|cuulong|taynguyen|duyenhai|thudo|bachdang|truongson")
_SECOND_STYLE = frozenset(_t("phuongnam|taynguyen|thudo|bachdang"))
_PLACES = _t(
    "Hà Nội|TP.HCM|Đà Nẵng|Huế|Cần Thơ|Hải Phòng|Quảng Ninh|Thanh Hóa|Nghệ An|Khánh Hòa|Lâm Đồng|Hòa Bình|Thái Bình|"
    "Phú Thọ|Thừa Thiên Huế|Bình Dương|Đồng Nai|Bắc Ninh|Quảng Nam|Kiên Giang|Đắk Lắk|Gia Lai|An Giang|Bình Định|"
    "Hà Tĩnh|Quảng Bình|Sóc Trăng|Cà Mau|Lào Cai|Điện Biên|Ninh Bình|Vĩnh Long"
)
_CITIES = frozenset(_t("Hà Nội|Đà Nẵng|Huế|Cần Thơ|Hải Phòng"))
_COUNTRIES = _t(
    "Nhật Bản|Hàn Quốc|Thụy Điển|Thụy Sĩ|Đức|Pháp|Mỹ|Australia|Ấn Độ|Indonesia|Thái Lan|Singapore|Brazil|Canada|"
    "Ai Cập|Phần Lan|Na Uy|Argentina|Kenya|Malaysia|Philippines|Lào|Campuchia|Anh|Italy|Tây Ban Nha|Mexico"
)
_FAMILY = _t("Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|Lý|Đinh|Trịnh|Mai|Lương|Tạ")
_MALE_MID = _t("Văn|Minh|Quang|Đức|Hữu|Xuân|Thanh|Hoàng|Bảo|Công|Tiến|Mạnh|Đình|Gia")
_MALE = _t("Hùng|Dũng|Tuấn|Nam|Long|Đạt|Huy|Tùng|Khoa|Hòa|Thụy|Quý|Cường|Thắng|Sơn|Hải|Phong|Thành|Vinh|Khải|Đông")
_FEMALE_MID = _t("Thị|Thu|Ngọc|Thùy|Khánh|Minh|Thanh|Bảo|Mỹ|Phương|Hồng|Kim|Diệu")
_FEMALE = _t("Hà|Lan|Hương|Trang|Thủy|Loan|Phương|Yến|Hạnh|Thúy|Mai|Linh|Huyền|Hoa|Nhung|Thảo|Vy|Ngân|Hòa|Anh")
_AGENCIES = _t("TTXVN|VOV|VTV|Reuters|AFP")
_ROLES = _t("giám đốc|phó giám đốc|chánh văn phòng|trưởng phòng nghiệp vụ|người phát ngôn")
_APPS = _t("Sen Pay|Bản Đồ Việt|Đường Về|Lotus Chat|Thủy Mặc|Hòa Nhịp|Ví Đồng Xu|Khỏe Mỗi Ngày")
_NUMBERS = (  # numeric slots, smallest and largest value: "{num}" is 10 to 999
    "small 2 9|num 10 999|age 19 79|minute 3 90|pts 5 60|squad 23 30|band 18 28|hour 1 23|month 1 12|future 2026 2045"
    "|round 1 26"
)
_RANGES = {k: (int(lo), int(hi)) for k, lo, hi in (x.split() for x in _t(_NUMBERS))}
# Sentences any section may use.
_GENERIC = _t("""
  | Theo {person}, việc này cần triển khai đồng bộ nhưng tùy điều kiện thực tế của từng địa phương.
  | Trước đó, ngày {day}, nhiều người dân đã phản ánh vấn đề này qua đường dây nóng của {ubnd}.
  | Bạn đọc có thể gửi ý kiến, hình ảnh liên quan về hộp thư của tòa soạn.
  | Số liệu lũy kế từ đầu năm {year} cho thấy xu hướng này chưa có dấu hiệu dừng lại.
  | Đây là lần thứ {small} trong năm nay sự việc tương tự được ghi nhận tại {place2}.
  | {so} cho biết sẽ tiếp tục theo dõi và báo cáo {ubnd} trước ngày {day}.
  | Nhiều ý kiến cho rằng cần sự phối hợp chặt chẽ hơn giữa các sở, ngành và chính quyền cơ sở.
  | Buổi làm việc có sự tham dự của khoảng {num} đại biểu đến từ các cơ quan, đơn vị liên quan.
  | Ghi nhận của phóng viên sáng {date} cho thấy không khí tại {place} khá sôi động.
  | Trao đổi với phóng viên, {person2} nói mọi việc cần được bàn bạc kỹ trước khi thực hiện.
  | Thông tin chi tiết được đăng tải trên cổng thông tin điện tử của {org}.
  | Dự kiến kết quả chính thức sẽ được công bố vào cuối quý {quarter} năm nay.
""")
# Written in the first-vowel style (hòa, khỏe, thủy); second-style outlets get them converted.
_CATEGORIES = _sections("""
= Thời sự | thoi-su | Giao thông vận tải
orgs: Bộ Giao thông vận tải | Bộ Xây dựng | Ban Chỉ đạo phòng chống thiên tai | Trung tâm Dự báo khí tượng thủy văn
topics: dự án mở rộng đường vành đai | tuyến đường sắt đô thị | công trình thủy lợi | kế hoạch giải phóng mặt bằng
  | dự án nhà ở xã hội | hệ thống thoát nước | cầu vượt sông | việc sắp xếp đơn vị hành chính | tuyến đê biển
titles: {place} khởi công {topic} trị giá {money} | {ubnd} họp khẩn về {topic}
  | Người dân {place} mong chờ {topic} suốt {small} năm | Bàn giao {topic} ở {place} sau {num} ngày thi công
  | Mưa lớn kéo dài, {big} hộ dân ở {place} bị ảnh hưởng | Chủ tịch {ubnd} yêu cầu đẩy nhanh {topic}
  | Thủy điện xả lũ, {place} sơ tán {big} người | {place}: hòa giải thành công {num} vụ tranh chấp liên quan {topic}
sentences: Theo kế hoạch, {topic} dài khoảng {pts} km, đi qua {small} quận, huyện của {place}.
  | {ubnd} đã bàn giao {pct} mặt bằng cho nhà thầu, phần còn lại dự kiến xong trước ngày {day}.
  | Mực nước các sông đang lên nhanh, cơ quan khí tượng thủy văn cảnh báo nguy cơ lũ quét và sạt lở đất.
  | Lực lượng chức năng đã sơ tán {big} người dân khỏi vùng nguy hiểm, tùy tình hình sẽ cho về nhà.
  | Tổng mức đầu tư của công trình là {money}, sử dụng vốn ngân sách và vốn xã hội hóa.
  | Nhiều tuyến đường ở trung tâm {place} ngập sâu 30-50 cm sau trận mưa chiều {date}.
  | Chính quyền cam kết hỗ trợ các hộ bị thu hồi đất sớm ổn định cuộc sống.
  | Đoàn công tác của {org} đã kiểm tra thực địa và yêu cầu bảo đảm chất lượng công trình.
  | Hồ thủy điện phía thượng nguồn đang xả tràn với lưu lượng {big} m3/giây.
tags: Giao thông | Mưa lũ | Quy hoạch | Hạ tầng | Thủy điện | Giải phóng mặt bằng
captions: Công nhân thi công {topic} tại {place}. | Lực lượng cứu hộ giúp người dân {place} di chuyển đồ đạc.
  | Phối cảnh {topic} sau khi hoàn thành.
= Kinh doanh | kinh-doanh | Công Thương
orgs: Ngân hàng Nhà nước | Tổng cục Thống kê | Bộ Tài chính | Hiệp hội Doanh nghiệp nhỏ và vừa
topics: giá vàng | giá xăng dầu | thị trường bất động sản | lãi suất huy động | xuất khẩu thủy sản | giá cà phê
  | thị trường chứng khoán | tỷ giá USD | xuất khẩu gạo | giá sầu riêng | giá thép
titles: {topic} tăng mạnh phiên {date}, doanh nghiệp {place} lo ngại | Doanh nghiệp {place} lãi {money} nhờ {topic}
  | {topic} quý {quarter}/{year}: cơ hội và thách thức với {place} | Vì sao {topic} giảm {small} tuần liên tiếp?
  | Bán hàng online giúp hộ kinh doanh {place} tăng doanh thu {pct}
  | Chuyên gia dự báo {topic} nửa cuối năm {year}, {place} chủ động nguồn hàng
  | Tiểu thương {place} chỉ mong hòa vốn vì {topic} biến động
sentences: Kết thúc phiên ngày {date}, chỉ số VN-Index tăng {small},{small} điểm, thanh khoản đạt {big} tỷ đồng.
  | Theo Tổng cục Thống kê, xuất khẩu thủy sản {small} tháng đầu năm đạt {money}, tăng {pct} so với cùng kỳ.
  | Nhiều cửa hàng tại {place} bán chạy gấp đôi tháng trước, chủ yếu nhờ đơn hàng trực tuyến.
  | Ngân hàng Nhà nước cho biết tỷ giá trung tâm được điều chỉnh nhẹ, thị trường ngoại tệ cơ bản ổn định.
  | Từ ngày {day}, hộ kinh doanh phải chuyển sang dùng hóa đơn điện tử có mã của cơ quan thuế.
  | Theo {person}, đại diện một doanh nghiệp địa ốc, thị trường đang hồi phục nhưng chưa đồng đều.
  | Lãi suất huy động kỳ hạn 12 tháng phổ biến quanh mức {small},{small}%/năm.
  | Giá cà phê nhân xô tại Tây Nguyên quanh mức {big} đồng/kg, tùy từng địa phương.
  | Sau nhiều tháng thua lỗ, không ít hộ kinh doanh chỉ mong hòa vốn trước khi tính chuyện mở rộng.
  | Bản báo cáo tài chính quý {quarter} cho thấy lợi nhuận sau thuế của doanh nghiệp đạt {money}.
tags: Giá vàng | Chứng khoán | Bất động sản | Xuất khẩu | Ngân hàng | Doanh nghiệp | Tiêu dùng
captions: Khách hàng giao dịch tại một ngân hàng ở {place}. | Tiểu thương bán hàng tại chợ đầu mối {place}.
  | Container hàng hóa tại cảng Hải Phòng.
= Thể thao | the-thao | Văn hóa, Thể thao và Du lịch
orgs: Liên đoàn Bóng đá Việt Nam | Cục Thể dục thể thao | Ban tổ chức giải | Ủy ban Olympic Việt Nam
topics: SEA Games | AFF Cup | vòng loại World Cup | giải U23 châu Á | Asian Cup | giải vô địch quốc gia
  | giải bóng chuyền nữ quốc tế | giải cầu lông mở rộng | Đại hội Thể thao toàn quốc | giải vô địch điền kinh
titles: {team} hòa {team2} {draw} ở vòng {round} V-League | {team} thắng {team2} {score}, áp sát nhóm dẫn đầu
  | Đội tuyển Việt Nam chốt danh sách {squad} vận động viên dự {topic} {year}
  | Vận động viên {place} giành {small} huy chương vàng tại {topic}
  | Hơn {big} người chạy vì sức khỏe cộng đồng ở {place} | HLV {name} chia tay {team} sau {small} mùa giải
  | {place} đăng cai {topic} {future}
sentences: Bàn thắng duy nhất của hiệp một đến ở phút {minute} sau một pha phối hợp đẹp mắt bên cánh trái.
  | Với kết quả này, {team} tạm xếp thứ {small} trên bảng xếp hạng với {pts} điểm.
  | Sân vận động chật kín khán giả, nhiều cổ động viên đến từ sáng sớm để chờ mua vé.
  | Theo {person}, đội đã chuẩn bị kỹ về thể lực nhưng vẫn mắc lỗi ở khâu dứt điểm.
  | Trận đấu bị tạm dừng {small} phút vì mưa lớn, mặt sân đọng nhiều nước.
  | Giải năm nay thu hút {num} vận động viên đến từ {pts} câu lạc bộ, đơn vị trên cả nước.
  | Tiền vệ {name} dính chấn thương đùi và phải nghỉ thi đấu khoảng {small} tuần.
  | Đường chạy dài 42 km đi qua nhiều tuyến phố trung tâm và bờ sông của {place}.
  | Trọng tài đã xem lại VAR trước khi quyết định cho đội khách hưởng quả phạt đền.
tags: Bóng đá | V-League | Đội tuyển Việt Nam | Marathon | SEA Games | Cầu lông | Bóng chuyền
captions: Cầu thủ hai đội tranh chấp bóng trong trận đấu tối {date}. | Các vận động viên xuất phát tại {place}.
  | Cổ động viên {place} cổ vũ trên khán đài.
= Giáo dục | giao-duc | Giáo dục và Đào tạo
orgs: Bộ Giáo dục và Đào tạo | Đại học Quốc gia Hà Nội | Đại học Quốc gia TP.HCM | Trường Đại học Bách khoa
topics: kỳ thi tốt nghiệp THPT | tuyển sinh lớp 10 | học phí đại học | chương trình giáo dục phổ thông mới
  | sách giáo khoa | học bạ số | điểm chuẩn đại học | chế độ cho giáo viên | dạy thêm, học thêm | khóa học kỹ năng sống
titles: {place} công bố điểm chuẩn lớp 10 năm {year}, cao nhất {band} điểm
  | Hơn {big} thí sinh {place} bước vào kỳ thi tốt nghiệp THPT năm {year}
  | Bộ Giáo dục đề xuất thay đổi {topic} từ năm {future} | Phụ huynh {place} lo lắng về {topic}
  | Học sinh {place} giành {small} huy chương tại kỳ thi Olympic quốc tế năm {year}
  | Giáo viên vùng cao {place} vượt {pts} km đến lớp | {so} hướng dẫn {topic}
sentences: Năm nay, {place} có khoảng {big} thí sinh đăng ký dự thi, tăng {pct} so với năm trước.
  | Theo {person}, {role} {so}, các điểm thi đều có camera giám sát và lực lượng hỗ trợ.
  | Nhiều phụ huynh bày tỏ lo ngại vì học phí tăng trong khi thu nhập chưa phục hồi.
  | Bộ Giáo dục và Đào tạo yêu cầu các trường không thu thêm khoản phí ngoài quy định.
  | Điểm chuẩn ngành Công nghệ thông tin dao động từ {band} đến 29 điểm, tùy từng trường.
  | Học sinh được làm quen với bộ sách giáo khoa mới từ đầu năm học {year}-{next}.
  | Khóa học kéo dài {small} tuần, kết hợp lý thuyết với thực hành tại phòng thí nghiệm.
  | Giáo viên {name} cho biết nhiều em phải đi bộ hàng giờ qua đường rừng để đến trường.
  | Bàn ghế, thiết bị dạy học ở nhiều điểm trường đã xuống cấp nhưng chưa được thay mới.
  | Kết quả thi được công bố vào ngày {day}, thí sinh tra cứu bằng số báo danh.
tags: Tuyển sinh | Thi tốt nghiệp THPT | Học phí | Giáo viên | Đại học | Học sinh
captions: Thí sinh làm thủ tục dự thi tại một điểm thi ở {place}. | Giờ học của học sinh tiểu học tại {place}.
  | Phụ huynh chờ con bên ngoài điểm thi.
= Sức khỏe | suc-khoe | Y tế
orgs: Bộ Y tế | Bệnh viện Bạch Mai | Bệnh viện Chợ Rẫy | Viện Pasteur TP.HCM | Viện Vệ sinh dịch tễ Trung ương
topics: sốt xuất huyết | tay chân miệng | đột quỵ | ngộ độc thực phẩm | cúm mùa | đái tháo đường | tăng huyết áp | sởi
  | viêm gan B | ung thư phổi | suy thận
titles: {place} ghi nhận {big} ca {topic} từ đầu năm {year} | Bác sĩ {place} cảnh báo nguy cơ {topic} khi chuyển mùa
  | Cứu sống bệnh nhân {age} tuổi ở {place} bị {topic} nặng
  | Giữ gìn sức khỏe thế nào để phòng {topic}? Bác sĩ {name} giải đáp | {org} họp bàn phòng chống {topic} tại {place}
  | {place}: {num} người nhập viện vì {topic} | Người bệnh {topic} được bảo hiểm y tế chi trả {pct} chi phí
sentences: Bệnh nhân {age} tuổi, trú tại {place}, nhập viện trong tình trạng sốt cao, mệt mỏi kéo dài.
  | Theo {person}, {role} {so}, số ca mắc tăng {pct} so với cùng kỳ năm ngoái.
  | Các bác sĩ khuyến cáo người dân không tự ý mua thuốc kháng sinh về điều trị tại nhà.
  | Sau {small} ngày điều trị tích cực, sức khỏe bệnh nhân đã ổn định và được xuất viện.
  | Ngành y tế đã phun hóa chất diệt muỗi tại {num} khu dân cư có nguy cơ cao.
  | Người cao tuổi và người có bệnh nền nên khám sức khỏe định kỳ để phát hiện bệnh sớm.
  | Kết quả xét nghiệm cho thấy mẫu bệnh phẩm dương tính với vi rút, bệnh nhân được cách ly.
  | {org} đã bàn giao {num} thiết bị y tế mới cho các bệnh viện tuyến huyện.
  | Ăn nhiều rau xanh, hạn chế muối và đường giúp giảm nguy cơ mắc bệnh tim mạch.
tags: Y tế | Sức khỏe | Bệnh viện | Dịch bệnh | Dinh dưỡng | Bảo hiểm y tế
captions: Bác sĩ thăm khám cho bệnh nhân tại {org}. | Nhân viên y tế phun hóa chất diệt muỗi tại {place}.
  | Người dân xếp hàng chờ tiêm chủng ở {place}.
= Công nghệ | cong-nghe | Khoa học và Công nghệ
orgs: Bộ Thông tin và Truyền thông | Cục An toàn thông tin | Trung tâm Đổi mới sáng tạo quốc gia | Bộ Khoa học
topics: trí tuệ nhân tạo | mạng 5G | thanh toán không tiền mặt | chữ ký số | xe điện | điện toán đám mây | chuyển đổi số
  | định danh điện tử | chip bán dẫn | nhà thông minh
titles: Doanh nghiệp {place} đầu tư {money} vào {topic} | {topic} thay đổi cách người dân {place} làm việc
  | Ra mắt phiên bản {small}.0 của ứng dụng {app} hỗ trợ {topic} | Startup {place} gọi vốn {money} cho {topic}
  | Những điều bạn cần biết về {topic} năm {year} | Việt Nam đặt mục tiêu làm chủ {topic} vào năm {future}
  | {big} người dùng ở {place} bị lừa qua đường link giả mạo {app}
sentences: Theo Cục An toàn thông tin, {small} tháng qua có hơn {big} cuộc tấn công mạng nhắm vào hệ thống trong nước.
  | Phiên bản mới của ứng dụng {app} cho phép người dùng xác thực bằng sinh trắc học.
  | Người dùng không nên bấm vào đường link lạ hay cung cấp mã OTP cho bất kỳ ai, kể cả người tự xưng là bạn bè.
  | Tốc độ tải xuống trung bình của mạng 5G đạt khoảng {num} Mbps trong giai đoạn thử nghiệm.
  | {person} cho rằng chuyển đổi số không chỉ là mua phần mềm mà phải thay đổi cách vận hành.
  | Nhóm kỹ sư trẻ tại {place} đã phát triển mô hình trí tuệ nhân tạo hiểu cả tiếng Việt có dấu và không dấu.
  | Dịch vụ miễn phí trong năm đầu, sau đó tùy gói cước người dùng lựa chọn.
  | Bản cập nhật vá {small} lỗ hổng bảo mật nghiêm trọng, người dùng nên cài đặt ngay.
  | Số giao dịch thanh toán qua mã QR tăng {pct} so với năm {prev}.
tags: Chuyển đổi số | AI | An ninh mạng | Ứng dụng | Viễn thông | Khởi nghiệp
captions: Giao diện phiên bản mới của ứng dụng {app}. | Kỹ sư kiểm tra thiết bị tại một trung tâm dữ liệu ở {place}.
  | Người dân thanh toán bằng mã QR tại {place}.
= Thế giới | the-gioi | Ngoại vụ
orgs: Liên Hợp Quốc | Tổ chức Y tế Thế giới | ASEAN | Ngân hàng Thế giới | Quỹ Tiền tệ Quốc tế
topics: biến đổi khí hậu | bầu cử | hội nghị thượng đỉnh | động đất | lạm phát | hiệp định thương mại | cháy rừng
  | giá năng lượng | bão lớn | khủng hoảng nước sạch
titles: {country} đối mặt với {topic} năm {year} | {country} và {country2} ký thỏa thuận về {topic}
  | {org} kêu gọi hành động về {topic} tại {country} | Thế giới tuần qua: {topic} ở {country}, {country2}
  | Động đất mạnh {small},{small} độ rung chuyển {country} | Chuyên gia {country}: {topic} sẽ tác động tới châu Á
  | Thảm họa ở {country}: ít nhất {num} người thiệt mạng
sentences: Theo truyền thông địa phương, trận động đất xảy ra lúc {hour} giờ, tâm chấn ở độ sâu {pts} km.
  | Chính phủ {country} cho biết sẽ hỗ trợ khẩn cấp cho {big} người mất nhà cửa.
  | Các bên đã đạt được thỏa thuận sau {small} vòng đàm phán kéo dài.
  | Lạm phát tại {country} giảm còn {small},{small}% trong tháng trước, mức thấp nhất kể từ năm {prev}.
  | Đại sứ quán Việt Nam tại {country} khuyến cáo công dân theo dõi thông tin và tránh khu vực nguy hiểm.
  | Giới phân tích cho rằng tùy diễn biến giá năng lượng, kinh tế có thể phục hồi chậm hơn dự báo.
  | Thảm họa đã khiến ít nhất {num} người thiệt mạng và hàng nghìn người phải sơ tán.
  | Thủ tướng {country} dự kiến thăm chính thức {country2} vào tuần tới.
  | Các nhà khoa học cảnh báo mực nước đại dương dâng cao đe dọa nhiều thành phố ven biển.
tags: Thế giới | Biến đổi khí hậu | Kinh tế thế giới | Ngoại giao | Thiên tai
captions: Quang cảnh phiên họp tại trụ sở {org}. | Lực lượng cứu hộ tìm kiếm người mất tích tại {country}.
  | Người dân {country} tuần hành kêu gọi chống biến đổi khí hậu.
= Văn hóa | van-hoa | Văn hóa, Thể thao và Du lịch
orgs: Bộ Văn hóa, Thể thao và Du lịch | Bảo tàng Mỹ thuật Việt Nam | Hội Nhà văn Việt Nam | Nhà hát Lớn
topics: hát xoan | ca trù | đờn ca tài tử | tranh Đông Hồ | múa rối nước | nghề gốm | nghề dệt thổ cẩm | hát quan họ
  | nghệ thuật bài chòi | nghề làm nón lá | áo dài
titles: Độc đáo {topic} ở {place} | Họa sĩ {name} mở triển lãm cá nhân tại {place}
  | Gìn giữ {topic} trong đời sống hiện đại ở {place} | {place} tổ chức tuần lễ {topic} lần thứ {small}
  | Nghệ nhân {name}: {age} tuổi vẫn miệt mài với {topic}
  | Hàng nghìn du khách đổ về {place} dự lễ hội đầu xuân năm {year}
sentences: Triển lãm giới thiệu {num} tác phẩm hội họa, điêu khắc của các tác giả trẻ.
  | Theo {person}, bảo tồn {topic} cần gắn với phát triển du lịch và sinh kế của người dân.
  | Nghệ nhân {name} đã dành hơn {pts} năm truyền nghề cho lớp trẻ trong làng.
  | Lễ hội diễn ra trong {small} ngày với rước kiệu, đấu vật, kéo co và hát đối đáp.
  | Bản nhạc được phối mới trên chất liệu dân gian, vừa quen vừa lạ.
  | Nhiều hiện vật quý được trưng bày lần đầu, thu hút đông đảo khách tham quan.
  | Chương trình nghệ thuật hòa quyện âm nhạc truyền thống với ánh sáng hiện đại.
  | Làng nghề nằm nép mình sau lũy tre xanh, cách trung tâm {place} khoảng {pts} km.
  | Ban tổ chức cho biết vé được bán hết chỉ sau {small} giờ mở bán.
tags: Văn hóa | Di sản | Lễ hội | Nghệ thuật | Âm nhạc | Hội họa
captions: Một buổi trình diễn {topic} tại {place}. | Du khách tham quan triển lãm.
  | Nghệ nhân {name} bên tác phẩm của mình.
= Du lịch | du-lich | Du lịch
orgs: Cục Du lịch Quốc gia | Hiệp hội Du lịch Việt Nam | Cảng hàng không Tân Sơn Nhất | Hiệp hội Khách sạn
topics: du lịch cộng đồng | homestay | tour đêm | du lịch sinh thái | ẩm thực đường phố | trekking | mùa hoa dã quỳ
  | du lịch biển | khu nghỉ dưỡng | mùa lúa chín
titles: Khám phá {topic} ở {place} | {place} đón {big} lượt khách dịp nghỉ lễ năm {year}
  | Giá phòng khách sạn ở {place} tăng {pct} mùa cao điểm | Kinh nghiệm {topic} {place} cho người đi lần đầu
  | Bạn đã thử {topic} ở {place} chưa? | Du khách mê mẩn {topic} tại {place}
sentences: Trong {small} ngày nghỉ lễ, {place} đón khoảng {big} lượt khách, doanh thu du lịch ước đạt {money}.
  | Từ trung tâm thành phố, du khách đi thêm khoảng {pts} km đường đèo là tới nơi.
  | Giá vé tham quan quanh mức {big} đồng mỗi người, tùy thời điểm trong tuần.
  | Nhiều homestay dựng bằng tre, gỗ, hòa vào cảnh sắc núi rừng.
  | Theo {person}, du lịch cộng đồng giúp người dân có thêm thu nhập mà vẫn giữ được bản sắc.
  | Đặc sản nên thử gồm bánh đa, cá kho và các món nướng bán ở chợ đêm.
  | Thời điểm đẹp nhất là khoảng tháng {month}, khi thời tiết mát mẻ và ít mưa.
  | Du khách nên đặt phòng trước vì khách sạn thường kín chỗ vào cuối tuần.
  | Bản đồ các điểm tham quan được đặt ở cổng khu du lịch, kèm số điện thoại hỗ trợ.
  | Biển ở đây nước trong, sóng êm, hợp với gia đình có trẻ nhỏ.
tags: Du lịch | Điểm đến | Ẩm thực | Khách sạn | Trải nghiệm | Kỳ nghỉ
captions: Du khách chụp ảnh tại {place}. | Một góc {topic} ở {place}. | Khu chợ đêm đông khách vào cuối tuần.
= Pháp luật | phap-luat | Tư pháp
orgs: Bộ Công an | Viện Kiểm sát nhân dân tối cao | Tòa án nhân dân tối cao | Bộ Tư pháp
topics: lừa đảo chiếm đoạt tài sản | buôn lậu xăng dầu | đánh bạc qua mạng | trốn thuế | sản xuất hàng giả
  | cho vay nặng lãi | khai thác cát trái phép | đua xe trái phép | làm giả giấy tờ | mua bán hóa đơn trái phép
titles: Công an {place} triệt phá đường dây {topic}, thu giữ {money} | Khởi tố {small} bị can ở {place} về tội {topic}
  | Tòa tuyên {small} năm tù với bị cáo {name} vì {topic} | Cảnh giác thủ đoạn {topic} mới ở {place}
  | Bắt nghi phạm {topic} liên quan số tiền {money} | {place}: xét xử vụ {topic} gây thiệt hại {money}
sentences: Cơ quan điều tra Công an {place} đã khởi tố vụ án, khởi tố bị can đối với {name} ({age} tuổi).
  | Theo cáo trạng, từ năm {prev} các bị can đã chiếm đoạt tổng cộng khoảng {money}.
  | Tại phiên tòa, bị cáo thừa nhận hành vi và xin được hưởng mức án nhẹ.
  | Hội đồng xét xử đánh giá hành vi của bị cáo gây nguy hiểm cho xã hội, cần xử lý nghiêm.
  | Luật sư {name2} cho rằng hai bên có thể hòa giải nếu bị cáo khắc phục hậu quả.
  | Người dân nhận cuộc gọi lạ tự xưng là cán bộ công an nên báo ngay cho cơ quan chức năng.
  | Lực lượng chức năng thu giữ {num} điện thoại, {small} ô tô cùng nhiều giấy tờ liên quan.
  | Vụ án đang được mở rộng điều tra, tùy tính chất các đối tượng có thể bị xử lý hình sự.
  | Tòa án nhân dân {tp} sẽ mở phiên xét xử sơ thẩm vào ngày {day}.
tags: Pháp luật | Hình sự | Lừa đảo | Tòa án | An ninh trật tự | Điều tra
captions: Các bị cáo tại phiên tòa. | Tang vật vụ án bị công an {place} thu giữ.
  | Cảnh sát kiểm tra nồng độ cồn tài xế trên đường phố {place}.
""")
_CAT_CW = tuple(accumulate((14, 12, 12, 9, 10, 9, 11, 8, 7, 8)))  # Thời sự most, Du lịch least
_PARAS, _PARAS_CW = tuple(range(4, 13)), tuple(accumulate((10, 16, 18, 16, 12, 9, 7, 5, 4)))
_SENTS, _SENTS_CW = (2, 3, 4, 5), tuple(accumulate((40, 33, 17, 10)))


def _thousands(n: int) -> str:
    """Vietnamese groups thousands with a dot: 24.000, not 24,000."""
    return f"{n:,}".replace(",", ".")


def _full_name(rng: random.Random, male: bool) -> str:
    mids, givens = (_MALE_MID, _MALE) if male else (_FEMALE_MID, _FEMALE)
    return f"{rng.choice(_FAMILY)} {rng.choice(mids)} {rng.choice(givens)}"


def _person(rng: random.Random) -> str:
    male = rng.random() < 0.55
    return ("ông " if male else "bà ") + _full_name(rng, male)


def _short_name(rng: random.Random) -> str:
    """How reporters sign: middle and given name, like "Thu Hà"."""
    return _full_name(rng, rng.random() < 0.5).split(" ", 1)[1]


def _money(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return f"{rng.randint(1, 99)},{rng.randint(1, 9)} tỷ đồng"
    if r < 0.6:
        return f"{_thousands(rng.randint(100, 9_800))} tỷ đồng"
    return f"{rng.randint(100, 950)} triệu đồng" if r < 0.85 else f"{rng.randint(2, 900)} triệu USD"


def _big(rng: random.Random) -> str:
    n = rng.randint(1_000, 250_000)
    return _thousands(n if rng.random() < 0.3 else n // 100 * 100)


_DRAW: dict[str, Callable[[random.Random], str]] = {
    "place": lambda r: r.choice(_PLACES),
    "country": lambda r: r.choice(_COUNTRIES),
    "person": _person,
    "name": lambda r: _full_name(r, r.random() < 0.6),
    "team": lambda r: "CLB " + r.choice(_PLACES),
    "app": lambda r: r.choice(_APPS),
    "role": lambda r: r.choice(_ROLES),
    "big": _big,
    "money": _money,
    "pct": lambda r: f"{r.randint(1, 45)},{r.randint(1, 9)}%" if r.random() < 0.5 else f"{r.randint(2, 80)}%",
    "day": lambda r: f"{r.randint(1, 28)}/{r.randint(1, 12)}",
    "quarter": lambda r: r.choice(("I", "II", "III", "IV")),
    "score": lambda r: r.choice(("1-0", "2-0", "2-1", "3-1", "3-0", "4-2", "3-2", "4-1")),
    "draw": lambda r: r.choice(("0-0", "1-1", "2-2", "3-3")),
}
_FIXED = _t("place|tp|ubnd|so|person|org|topic|date|year|prev|next")  # set once per article
_STICKY = frozenset(("name", "country", "team", "app"))  # the same accused, country or club all article long
_WORDY = frozenset(("place", "country", "person", "name", "team", "app"))  # may hold hòa, Thụy, Thủy...


@cache
def _second(text: str) -> str:
    """Second-vowel style, cached: templates and names recur, so each is converted once, not per article."""
    return place_tones(text, "second")


class _Slots(dict[str, str]):
    """One article's slot values for ``str.format_map``, already in the outlet's tone style.

    Article-wide values (place, person, topic, date...) are set up front; anything else
    is drawn on demand and fresh each time, so every "{num}" differs. A "2" suffix
    ("{person2}", "{team2}") draws a second value, different from the first.
    """

    def __init__(self, rng: random.Random, second: bool, cat: _Cat, place: str, topic: str, when: datetime) -> None:
        tp = place if place == "TP.HCM" else f"TP {place}" if place in _CITIES else f"tỉnh {place}"
        local = (place, tp, f"UBND {tp}", f"Sở {cat.dept} {place}", _person(rng), rng.choice(cat.orgs), topic)
        dates = (f"{when.day}/{when.month}", str(when.year), str(when.year - 1), str(when.year + 1))
        fixed = dict(zip(_FIXED, local + dates, strict=True))
        super().__init__({k: _second(v) for k, v in fixed.items()} if second else fixed)
        self.rng, self.second = rng, second

    def __missing__(self, key: str) -> str:
        base = key.rstrip("2")
        if base in _RANGES:  # the hot path: random() is much cheaper than randint()
            lo, hi = _RANGES[base]
            return str(lo + int(self.rng.random() * (hi - lo + 1)))
        value = _DRAW[base](self.rng)
        if self.second and base in _WORDY:
            value = _second(value)
        if base != key and value == self[base]:
            return self.__missing__(key)
        if base in _STICKY:
            self[key] = value
        return value

    def fill(self, template: str) -> str:
        """The template with its slots filled, first letter capitalised, in the outlet's style."""
        text = (_second(template) if self.second else template).format_map(self)
        return text[0].upper() + text[1:] if template[0] == "{" else text


def _slug(title: str) -> str:
    """ASCII URL slug, as Vietnamese sites make them: accents dropped, đ to d, words joined by hyphens."""
    ascii_ = unicodedata.normalize("NFD", title.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.decode().lower()).strip("-")
    return slug if len(slug) <= 80 else slug[:81].rsplit("-", 1)[0]


def _byline(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return _full_name(rng, rng.random() < 0.5)
    if r < 0.75:
        return _short_name(rng)
    if r < 0.9:
        return f"{_short_name(rng)} (Theo {rng.choice(_AGENCIES)})"
    return f"{_short_name(rng)} - {_short_name(rng)}"


def _article(rng: random.Random, index: int) -> dict[str, object]:
    outlet = rng.choice(_OUTLETS)
    domain = f"{outlet}.example"
    cat = rng.choices(_CATEGORIES, cum_weights=_CAT_CW)[0]
    when = _START + timedelta(minutes=rng.randrange(_MINUTES))
    place, topic = rng.choice(_PLACES), rng.choice(cat.topics)
    slots = _Slots(rng, outlet in _SECOND_STYLE, cat, place, topic, when)
    template = rng.choice(cat.titles)
    title = slots.fill(template)
    # The sapo's templates are kept out of the body, and the body walks a shuffle of the
    # rest, so a template rarely repeats within one article.
    own = list(cat.sentences)
    rng.shuffle(own)
    lead = rng.randint(1, 2)
    sapo = " ".join(slots.fill(s) for s in own[:lead])
    order = own[lead:] + list(_GENERIC)
    rng.shuffle(order)
    paragraphs, k = [], 0
    for count in rng.choices(_SENTS, cum_weights=_SENTS_CW, k=rng.choices(_PARAS, cum_weights=_PARAS_CW)[0]):
        paragraphs.append(" ".join(slots.fill(order[(k + j) % len(order)]) for j in range(count)))
        k += count
    body = "\n\n".join(paragraphs)

    number = 1_000_000 + index * 7 + rng.randrange(7)  # increasing, hence unique within one corpus
    images = []
    for n in range(rng.choices((0, 1, 2, 3), (15, 45, 25, 15))[0]):
        caption = slots.fill(rng.choice(cat.captions))
        if rng.random() < 0.5:
            caption += " Ảnh: " + (_second(_short_name(rng)) if slots.second else _short_name(rng))
        images.append(
            {"url": f"https://{domain}/images/{when.year}/{when.month:02d}/{number}-{n + 1}.jpg", "caption": caption}
        )
    where = slots["country"] if cat.slug == "the-gioi" else place
    # Tag the topic only when the headline names it; then the place (or country), then the section's tags.
    tags = [topic[:1].upper() + topic[1:]] if "{topic}" in template else []
    tags = list(dict.fromkeys([*tags, where, *rng.sample(cat.tags, 3)]))[: rng.randint(1, 5)]
    author: str | None = _byline(rng)

    # Scraped-text noise, in a small deterministic share: what real feeds send us.
    noise = rng.random()
    if noise < 0.03:
        body = unicodedata.normalize("NFD", body)
    elif noise < 0.06:
        pos = body.find(" ", rng.randrange(len(body)))
        pos = pos if pos >= 0 else body.find(" ")
        # A no-break space replaces a space; a zero-width space sticks to the next word.
        body = body[:pos] + ("\u00a0" if rng.random() < 0.5 else " \u200b") + body[pos + 1 :]
    if 0.06 <= noise < 0.08:
        author, images = None, []
    elif rng.random() < 0.14:
        author = None
    url = f"https://{domain}/{cat.slug}/{_slug(title)}-{number}.html"
    published = when.isoformat()
    return dict(zip(_KEYS, (url, domain, cat.label, title, sapo, body, author, published, images, tags), strict=True))


def generate(n: int, *, seed: int = 0) -> Iterator[dict[str, object]]:
    """Yield n article records.

    Deterministic: the same seed gives the same records, and a larger ``n`` only
    extends a smaller one (no record depends on ``n``). Records have the keys url,
    source, category, title, sapo, body, author, published, images and tags, in the
    shape :func:`opennews.article.make_article` takes.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    rng = random.Random(seed)
    return (_article(rng, i) for i in range(n))
