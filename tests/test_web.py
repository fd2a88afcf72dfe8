"""The web app through a real HTTP client (Starlette's TestClient) on a real demo home.

Every ``/api`` response is validated against the app's own ``/api/openapi.json``, and
every page's JSON twin is checked to hold exactly what the page shows.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree

import jsonschema
import nh3
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from opennews.cli import build_parser, main
from opennews.feeds import FeedSpec
from opennews.search.highlight import Highlighter
from opennews.settings import Settings
from opennews.vietnamese import fold, has_marks
from opennews.web import create_app
from opennews.web.i18n import load_languages
from opennews.web.payloads import marked
from tools import within
from webhome import REASON, WebHome

VI_DATE = re.compile(r"(Thứ (hai|ba|tư|năm|sáu|bảy)|Chủ nhật), \d\d/\d\d/\d{4}, \d\d:\d\d \(GMT\+7\)")
EN_DATE = re.compile(r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d \(GMT\+7\)")


@pytest.fixture(autouse=True)
def vietnamese(request: pytest.FixtureRequest) -> None:
    """Each test starts as a first-time reader (no language cookie)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    return doc


def check(openapi: dict[str, Any], path: str, response: Any, status: int | None = None) -> Any:
    """Validate a response body against the schema the OpenAPI document gives for it."""
    status = status or response.status_code
    operation = openapi["paths"][path]["get"]
    content = operation["responses"][str(status)]["content"]
    media_type = next(iter(content))
    assert response.headers["content-type"].startswith(media_type)
    schema = {**content[media_type]["schema"], "components": openapi["components"]}
    body = response.json()
    jsonschema.Draft202012Validator(schema).validate(body)
    return body


def hrefs(html: str, pattern: str) -> list[str]:
    return [unescape(h) for h in re.findall(pattern, html)]


def result_ids(html: str) -> list[str]:
    return re.findall(r'<li class="hit">\s*<article>\s*<h3><a href="/articles/([^"]+)"', html)


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def marked_article(client: TestClient) -> dict[str, Any]:
    """An article whose headline has marks, from the newest ones."""
    results = client.get("/api/search?limit=50").json()["results"]
    return next(r for r in results if has_marks(r["title"]) and len(r["title"].split()) >= 5)


# -- pages -------------------------------------------------------------------------


def test_home_is_vietnamese_accessible_and_lists_the_newest(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="vi">' in html
    assert "Tìm kiếm tin tức tiếng Việt" in html and "Tin mới nhất" in html
    assert '<a class="skip" href="#main">' in html and '<main id="main"' in html
    assert '<label for="q">' in html and 'id="q" name="q"' in html
    assert 'role="search"' in html and "<header" in html and "<footer" in html and "<nav" in html
    for name in ("source", "category", "from", "to", "sort"):
        assert f'<label for="{name}">' in html
    dates = re.findall(r'<time datetime="([^"]+)"', html)
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)


def test_unmarked_query_finds_the_marked_article_first_with_highlights(client: TestClient) -> None:
    article = marked_article(client)
    q = fold(article["title"])
    assert q != article["title"]
    r = client.get("/", params={"q": q})
    assert r.status_code == 200
    first = re.search(r'<li class="hit">.*?</li>', r.text, re.S)
    assert first is not None
    assert text_of(re.search(r"<h3>(.*?)</h3>", first.group(0), re.S).group(1)) == article["title"]
    assert "<mark>" in first.group(0)


def test_page_and_api_show_the_same_results(client: TestClient, openapi: dict[str, Any]) -> None:
    params = {"q": "thuy dien", "sort": "newest", "page": "2"}
    page = client.get("/", params=params)
    api = client.get("/api/search", params=params)
    body = check(openapi, "/api/search", api)
    assert [r["id"] for r in body["results"]] == result_ids(page.text)
    assert body["page"] == 2 and body["results"][0]["rank"] == 11
    assert f"{body['total']} kết quả cho “thuy dien”" in text_of(page.text)
    alternate = re.search(r'<link rel="alternate" type="application/json" title="JSON" href="([^"]+)"', page.text)
    assert alternate and client.get(unescape(alternate.group(1))).json()["results"] == body["results"]


def test_api_search_shape_limit_and_next_page(client: TestClient, openapi: dict[str, Any]) -> None:
    r = client.get("/api/search", params={"q": "thuy dien", "limit": "3"})
    body = check(openapi, "/api/search", r)
    assert body["total"] > 3 and len(body["results"]) == 3
    for item in body["results"]:
        assert {"id", "title", "url", "source", "published", "snippet"} <= item.keys()
    assert body["suggestion"] == "thủy điện" and body["suggestion_kind"] == "accents"
    second = check(openapi, "/api/search", client.get(body["next"]))
    assert second["page"] == 2 and second["results"][0]["rank"] == 4
    assert not {i["id"] for i in second["results"]} & {i["id"] for i in body["results"]}
    assert second["prev"] is not None


def test_source_and_category_filters_and_facet_links(client: TestClient) -> None:
    base = client.get("/api/search", params={"q": "thuy dien"}).json()
    facet = base["facets"]["source"][0]
    r = client.get("/", params={"q": "thuy dien"})
    link = next(h for h in hrefs(r.text, r'href="(/\?[^"]*source=[^"]*)"') if facet["value"] in h)
    filtered = client.get(link)
    assert filtered.status_code == 200
    sources = re.findall(r'<span class="source">([^<]+)</span>', filtered.text)
    assert sources and set(sources) == {facet["value"]}
    api = client.get("/api/search", params={"q": "thuy dien", "source": facet["value"]}).json()
    assert api["total"] == facet["count"] and api["filters"]["source"] == facet["value"]
    assert [f["selected"] for f in api["facets"]["source"]] == [True]
    category = base["facets"]["category"][0]["value"]
    both = client.get("/api/search", params={"q": "thuy dien", "category": category, "limit": "100"}).json()
    assert both["results"] and {h["category"] for h in both["results"]} == {category}


def test_date_range_and_sort(client: TestClient) -> None:
    body = client.get("/api/search", params={"from": "2020-01-01", "to": "2020-12-31", "limit": "100"}).json()
    assert body["total"] > 0 and body["filters"] == {
        "source": None,
        "category": None,
        "from": "2020-01-01",
        "to": "2020-12-31",
    }
    assert all(h["published"].startswith("2020") for h in body["results"])
    assert [f["value"] for f in body["facets"]["year"]] == ["2020"] and body["facets"]["year"][0]["selected"]
    page = client.get("/", params={"from": "2020-01-01", "to": "31/12/2020", "limit": "100"})  # a reader's way
    twin = re.search(r'<link rel="alternate" type="application/json" title="JSON" href="([^"]+)"', page.text)
    assert twin and "to=2020-12-31" in unescape(twin.group(1))
    assert client.get(unescape(twin.group(1))).json()["results"] == body["results"]
    oldest = client.get("/api/search", params={"sort": "oldest", "limit": "20"}).json()["results"]
    assert [h["published"] for h in oldest] == sorted(h["published"] for h in oldest)


def test_pagination_links(client: TestClient) -> None:
    r = client.get("/", params={"q": "thuy dien"})
    nav = re.search(r'<nav class="pagination".*?</nav>', r.text, re.S)
    assert nav and 'aria-current="page"' in nav.group(0)
    nxt = re.search(r'<a rel="next" href="([^"]+)"', nav.group(0))
    assert nxt
    page2 = client.get(unescape(nxt.group(1)))
    assert '<ol class="hits" start="11">' in page2.text
    assert set(result_ids(page2.text)).isdisjoint(result_ids(r.text))


def test_did_you_mean_empty_and_relaxed_states(client: TestClient) -> None:
    r = client.get("/", params={"q": "thuy dien"})
    assert "Có phải bạn muốn tìm" in r.text and "/?q=th%E1%BB%A7y+%C4%91i%E1%BB%87n" in r.text
    empty = client.get("/", params={"q": "zqxwv"})
    assert empty.status_code == 200
    assert "Không có bài viết nào phù hợp." in empty.text and '<ol class="hits"' not in empty.text
    assert "0 kết quả cho “zqxwv”" in text_of(empty.text)
    filtered = client.get("/", params={"q": "zqxwv", "source": "songhong.example"})
    assert "Tìm lại không dùng bộ lọc" in filtered.text


def test_search_notes_are_translated(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": 'thuy dien "hoa'}).json()
    assert body["notes"] == ["unbalanced quote ignored"]
    page = client.get("/", params={"q": 'thuy dien "hoa'})
    assert "Đã bỏ qua dấu ngoặc kép không đóng." in page.text


def test_article_page(client: TestClient, openapi: dict[str, Any]) -> None:
    article_id = marked_article(client)["id"]
    api = check(openapi, "/api/articles/{id}", client.get(f"/api/articles/{article_id}"))
    a = api["article"]
    r = client.get(f"/articles/{article_id}")
    assert r.status_code == 200
    html = r.text
    assert f"<h1>{a['title']}</h1>" in unescape(html)
    assert VI_DATE.search(html), "published date in Vietnamese newspaper style"
    assert f'<p class="sapo">{a["sapo"]}</p>' in unescape(html)
    if a["author"]:
        assert a["author"] in html
    assert f'href="{a["url"]}"' in unescape(html) and "Đọc bài gốc tại" in html
    for image in a["images"]:
        if image.get("caption"):
            assert f"<figcaption>{image['caption']}</figcaption>" in unescape(html)
    first_paragraph = a["body"].split("\n\n")[0].strip()
    assert f"<p>{first_paragraph}</p>" in unescape(html)
    related = re.search(r'<section class="related".*?</section>', html, re.S)
    assert related and api["related"]
    assert re.findall(r'<a href="/articles/([^"]+)"', related.group(0)) == [x["id"] for x in api["related"]]
    assert article_id not in [x["id"] for x in api["related"]]
    assert f'<link rel="canonical" href="http://testserver/articles/{article_id}">' in html
    assert 'type="application/rss+xml"' in html and api["feeds"]["source"].replace("&", "&amp;") in html
    english = client.get(f"/articles/{article_id}?lang=en")
    assert EN_DATE.search(english.text) and "Read the original at" in english.text


def test_missing_and_withdrawn_articles(client: TestClient, web_home: WebHome, openapi: dict[str, Any]) -> None:
    missing = client.get("/articles/0000000000000000")
    assert missing.status_code == 404 and "Không tìm thấy trang" in missing.text
    check(openapi, "/api/articles/{id}", client.get("/api/articles/0000000000000000"))
    gone = client.get(f"/articles/{web_home.withdrawn_id}")
    assert gone.status_code == 410 and REASON in gone.text and "Bài viết này đã bị gỡ" in gone.text
    body = check(openapi, "/api/articles/{id}", client.get(f"/api/articles/{web_home.withdrawn_id}"))
    assert body["withdrawn"]["reason"] == REASON
    assert client.get("/articles/" + quote("<script>", safe="")).status_code == 404


def test_about_page_and_stats_agree(client: TestClient, openapi: dict[str, Any]) -> None:
    stats = check(openapi, "/api/stats", client.get("/api/stats"))
    assert stats["articles"] == 299 and stats["withdrawn"] == 1 and stats["index"]["documents"] == 299
    html = client.get("/about").text
    assert "Giới thiệu kho lưu trữ" in html and "Apache-2.0" in html and "/api/openapi.json" in html
    assert f"<dd>{stats['articles']}</dd>" in html
    for row in stats["top_sources"]:
        assert f'>{row["value"]}</a></th><td class="num">{row["count"]}</td>' in html


def test_suggest(client: TestClient, openapi: dict[str, Any]) -> None:
    r = client.get("/api/suggest", params={"q": "thuy dien"})
    q, completions, descriptions, urls = check(openapi, "/api/suggest", r)
    assert q == "thuy dien" and completions[0] == "thủy điện" and len(completions) >= 3
    assert len(descriptions) == len(urls) == len(completions)
    assert client.get("/api/suggest", params={"q": ""}).json() == ["", [], [], []]


@pytest.mark.parametrize("typed", ["ha no", "hà n", "Hà Nộ"])
def test_suggest_completes_the_syllable_being_typed(client: TestClient, openapi: dict[str, Any], typed: str) -> None:
    q, completions, descriptions, urls = check(openapi, "/api/suggest", client.get("/api/suggest", params={"q": typed}))
    assert q == typed and completions[0] == "hà nội" and urls[0] == "/?q=h%C3%A0+n%E1%BB%99i"
    assert len(completions) == len(set(completions)) <= 8
    assert descriptions[0] == "" and any(descriptions)  # headlines (described by their source) follow


# -- language ----------------------------------------------------------------------


def test_language_switch_persists_in_a_cookie(client: TestClient) -> None:
    client.cookies.clear()
    vi = client.get("/", params={"q": "thuy dien"})
    switch = re.search(r'<a class="lang-switch" href="([^"]+)" hreflang="en" lang="en">English</a>', vi.text)
    assert switch
    en = client.get(unescape(switch.group(1)))
    assert '<html lang="en">' in en.text and "Search Vietnamese news" in en.text
    assert "lang=en" in en.headers["set-cookie"]
    assert re.search(r"\d+ results for “thuy dien”", text_of(en.text))
    later = client.get("/about")
    assert '<html lang="en">' in later.text and "About the archive" in later.text
    back = client.get("/?lang=vi")
    assert '<html lang="vi">' in back.text
    assert '<html lang="vi">' in client.get("/about").text
    client.cookies.clear()


def test_dates_and_numbers_follow_the_locale() -> None:
    languages = load_languages()
    vi, en = languages["vi"], languages["en"]
    assert vi.datetime("2020-06-01T09:29:00+07:00") == "Thứ hai, 01/06/2020, 09:29 (GMT+7)"
    assert vi.datetime("2020-06-01T02:29:00Z") == "Thứ hai, 01/06/2020, 09:29 (GMT+7)"
    assert vi.datetime("2020-06-07") == "Chủ nhật, 07/06/2020"
    assert vi.datetime("2020-06-01", short=True) == "01/06/2020"
    assert en.datetime("2020-06-01T09:29:00+07:00") == "Monday, 1 June 2020, 09:29 (GMT+7)"
    assert en.datetime("2020-06-01", short=True) == "Jun 1, 2020"
    assert vi.datetime("not a date") == "" and vi.datetime(None) == ""
    assert vi.number(1234567) == "1.234.567" and en.number(1234567) == "1,234,567"
    assert vi.ngettext("%(num)s article", "%(num)s articles", 2) == "%(num)s bài viết"
    assert en.ngettext("%(num)s article", "%(num)s articles", 1) == "%(num)s article"


def test_catalogs_cover_every_message() -> None:
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parents[1]
    method_map = [("src/opennews/web/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(root, method_map, options, keywords=keywords)
        if m[0].startswith(("src", "templates"))
    }
    assert len(found) > 80
    languages = load_languages()
    for message in found:
        vi = languages["vi"].gettext(message)
        assert vi != message or message in {"JSON API", "RSS"}, f"no Vietnamese for {message!r}"
        assert re.findall(r"%\(\w+\)s", vi) == re.findall(r"%\(\w+\)s", message) or "%(num)s" in message
        assert languages["en"].gettext(message) == message


# -- discovery ---------------------------------------------------------------------


def test_opensearch_description(client: TestClient) -> None:
    r = client.get("/opensearch.xml")
    assert r.headers["content-type"].startswith("application/opensearchdescription+xml")
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    root = ElementTree.fromstring(r.content)
    urls = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    assert urls["text/html"] == "http://testserver/?q={searchTerms}"
    assert urls["application/x-suggestions+json"] == "http://testserver/api/suggest?q={searchTerms}"
    home = client.get("/").text
    assert '<link rel="search" type="application/opensearchdescription+xml"' in home


def test_robots_and_sitemaps_list_every_article(client: TestClient) -> None:
    robots = client.get("/robots.txt").text
    assert "Sitemap: http://testserver/sitemap.xml" in robots and "Disallow: /api/" in robots
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ElementTree.fromstring(client.get("/sitemap.xml").content)
    files = [e.text or "" for e in index.findall("s:sitemap/s:loc", ns)]
    assert files == ["http://testserver/sitemaps/articles-1.xml"]
    urlset = ElementTree.fromstring(client.get(urlsplit(files[0]).path).content)
    locs = [e.text or "" for e in urlset.findall("s:url/s:loc", ns)]
    assert len(locs) == 299 and len(set(locs)) == 299
    assert client.get(urlsplit(locs[0]).path).status_code == 200
    assert client.get("/sitemaps/articles-2.xml").status_code == 404


def test_feed_autodiscovery_and_canonical(client: TestClient) -> None:
    html = client.get("/?q=thuy+dien&lang=vi").text
    assert '<link rel="canonical" href="http://testserver/?q=thuy+dien">' in html
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Tin mới nhất (RSS)" href="/feeds/latest.rss">' in html
    )
    assert 'href="/feeds/search.rss?q=thuy+dien"' in html


# -- safety ------------------------------------------------------------------------


def test_queries_are_echoed_escaped(client: TestClient) -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    r = client.get("/", params={"q": hostile})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    api = client.get("/api/search", params={"q": hostile}).json()
    assert api["query"] == hostile


def test_no_inline_script_or_style_and_security_headers(client: TestClient, web_home: WebHome) -> None:
    article_id = marked_article(client)["id"]
    for url in ("/", "/?q=thuy+dien", f"/articles/{article_id}", "/about", "/nope", "/?page=x", "/api/search"):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        if r.headers["content-type"].startswith("text/html"):
            assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", r.text), url


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=" + "a" * 501, "quá dài"),
        ("limit=101", "limit phải nằm trong khoảng 1 đến 100"),
        ("per_page=1000", "per_page phải nằm trong khoảng"),
        ("page=101", "page phải nằm trong khoảng 1 đến 100"),
        ("page=-1", "page phải là số nguyên"),
        ("page=1e3", "page phải là số nguyên"),
        ("from=hôm+qua", "from không phải ngày tháng"),
        ("to=2020-13-45", "to không phải ngày tháng"),
        ("q=abc%00def", "ký tự điều khiển"),
        ("source=a%1Bb", "ký tự điều khiển"),
        ("q=%EF%BF%BF", "ký tự điều khiển"),  # U+FFFF: no XML document can hold it
        ("q=%ff%fe", "UTF-8"),
        ("sort=random", "sort chỉ nhận"),
        ("page=%C2%B2", "page phải là số nguyên"),  # "²": str.isdigit says yes, int() says no
        ("limit=" + "9" * 5000, "limit phải nằm trong khoảng 1 đến 100"),
        ("q=" + "x" * 20000, "Địa chỉ quá dài"),  # over MAX_QUERY_STRING
    ],
)
def test_hostile_input_is_a_clear_400(client: TestClient, openapi: dict[str, Any], query: str, message: str) -> None:
    page = client.get("/?" + query)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert message in page.text and "Traceback" not in page.text
    assert "Không thể đáp ứng yêu cầu này" in page.text
    api = client.get("/api/search?" + query)
    body = check(openapi, "/api/search", api, 400)
    assert body["error"]["status"] == 400 and body["error"]["message"]


def test_parameters_that_cannot_go_together_are_a_422(client: TestClient, openapi: dict[str, Any]) -> None:
    query = "from=2021-01-01&to=2020-01-01"
    page = client.get("/?" + query)
    assert page.status_code == 422 and "Ngày bắt đầu nằm sau ngày kết thúc" in page.text
    body = check(openapi, "/api/search", client.get("/api/search?" + query), 422)
    assert body["error"] == {"status": 422, "message": "The start date is after the end date."}


def test_the_api_reads_exactly_what_its_document_allows(client: TestClient, openapi: dict[str, Any]) -> None:
    """Pages read a form (a blank field is no filter; dates as readers write them); the API reads
    what /api/openapi.json promises: an empty value is an error, dates are RFC 3339 full-dates of
    any year Python holds, and a valid q of 500 Vietnamese characters fits the address limit."""
    home = result_ids(client.get("/").text)
    assert home
    for query in ("to=", "page=", "sort=", "limit=", "page=+1"):  # a blank field or a "+" typed: the defaults
        page = client.get("/?" + query)
        assert page.status_code == 200 and result_ids(page.text) == home, query
    for query, shown in (("from=31/12/2020", "2020-12-31"), ("from=+2020-01-01", "2020-01-01")):
        page = client.get("/?" + query)  # as readers write dates: read, and shown back as ISO
        assert page.status_code == 200 and re.search(f'name="from"[^>]*value="{shown}"', page.text), query
    page = client.get("/?to=0000-01-01")  # no year 0 in Python's calendar
    assert page.status_code == 400 and "to không phải ngày tháng" in page.text
    for query in ("to=", "page=", "sort=", "limit=", "from=31/12/2020", "from=+2020-01-01", "page=+1", "to=0000-01-01"):
        api = client.get("/api/search?" + query)
        assert api.status_code == 400, query
        check(openapi, "/api/search", api, 400)
    assert client.get("/?to=&page=&sort=").status_code == 200
    for query in ("to=1578-08-04", "from=0001-01-01&to=9999-12-31", "page=001", "q=" + "ữ" * 500):
        assert client.get("/api/search?" + query).status_code == 200, query
    early = client.get("/api/search?to=1578-08-04").json()
    assert early["total"] == 0 and early["filters"]["to"] == "1578-08-04"


def test_every_route_answers_405_with_allow(client: TestClient, web_home: WebHome) -> None:
    """RFC 9110 §15.5.6: a 405 names the methods the address answers (GET, or POST for the writes)."""
    routes = [(r.path, r.methods) for r in client.app.routes]  # type: ignore[attr-defined]
    assert len(routes) > 20
    for path, allowed in routes:
        url = (
            path.replace("{id}", "x")
            .replace("{n:int}", "1")
            .replace("{fmt}", "rss")
            .replace("{month}", "2020-01")
            .replace("{kind}", "source")
            .replace("{name}", "x")
            .replace("{path:path}", "x")
        )
        for method in sorted({"GET", "POST", "PUT", "DELETE", "PATCH", "TRACE"} - allowed):
            r = client.request(method, url)
            assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == allowed, (method, url)
            if url.startswith("/api/"):
                assert r.json()["error"]["status"] == 405
            else:
                assert "Địa chỉ này chỉ trả lời yêu cầu GET." in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/source/%00.rss",  # NUL would reach the feed's XML writer, which refuses it
        "/articles/%07",
        "/api/articles/a%0Bb",
        "/%ff",
        "/dumps/%c3%28",
        "/feeds/author/%EF%BF%BE.atom",
    ],
)
def test_a_path_that_is_not_text_is_a_400_on_every_route(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400 and "Traceback" not in r.text, path
    assert r.headers["x-content-type-options"] == "nosniff"
    if path.startswith("/api/"):
        assert r.json()["error"] == {"status": 400, "message": "The address contains a control character."}


#: If-Modified-Since values no server would send: a year past datetime's (OverflowError in
#: email.utils, not a ValueError), a zone offset past a C int, a date that does not exist.
ODD_DATES = [
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
    "Mon, 01 Jan 2020 00:00:00 +99999999999999999999",
    "Mon, 01 Jan 10000 00:00:00 GMT",
    "Mon, 31 Feb 2020 00:00:00 GMT",
    "Mon, 01 Jan 2020 00:00:00 -0000",
    "not a date",
    ",",
]
#: Other request headers the app reads, with values at their odd edges: each is ignored or a 4xx.
ODD_HEADERS = (
    [("if-none-match", v) for v in ("", ",", "W/", '"', "*, W/", "x" * 9000)]
    + [("if-range", v) for v in ("", 'W/"x"', ODD_DATES[0], "Mon, 01 Jan 2020 00:00:00 GMT")]
    + [
        ("range", v)
        for v in ("bytes=", "bytes=,", "bytes=-0", "bytes= 1 - 2", "BYTES=0-1", "bytes=0--1", "=", "bytes=0-1," * 500)
    ]
    + [("accept", v) for v in ("", "*/*;q=", "text/html;q=abc", "a/b/c", "*/*;q=1e999")]
    + [("accept-language", v) for v in ("", "*", "en;q=NaN", "vi;q=-1, en;q=2", "xx-" * 3000, ";;,")]
    + [("accept-encoding", v) for v in ("", "gzip;q=", "gzip;q=abc", ";", "gzip;" * 1000)]
    + [("cookie", v) for v in ("", "=", "lang=", "lang=\x7f", "lang=" + "v" * 5000, "; ;", "lang=en; lang=vi")]
    + [("host", v) for v in ("", "[", "a:b:c", ":99999999999", "x" * 5000)]
)


def test_odd_request_headers_are_ignored_or_refused_never_a_500(client: TestClient) -> None:
    """Conditional and negotiation headers arrive from anyone: one the app cannot read is
    ignored (an unreadable If-Modified-Since is as if absent: 200) or a 4xx, on the dump
    files and on feeds, never an exception."""
    source = client.get("/api/search?limit=1").json()["results"][0]["source"]
    urls = ["/dumps/manifest.json", "/feeds/latest.rss", FeedSpec(kind="source", value=source).url("", "atom")]
    for url in urls:
        for date in ODD_DATES:
            r = client.get(url, headers={"if-modified-since": date})
            assert r.status_code == 200 and r.content, (url, date)
        for name, value in ODD_HEADERS:
            r = client.get(url, headers=[(name.encode(), value.encode("latin-1"))])
            assert r.status_code < 500, (url, name, value[:40], r.status_code)
    for name, value in ODD_HEADERS:
        for url in ("/", "/search?q=a", "/api/search?q=a", "/dumps/"):
            assert client.get(url, headers=[(name.encode(), value.encode("latin-1"))]).status_code < 500, (url, name)


def test_failures_never_show_a_traceback(web_home: WebHome, tmp_path: Path) -> None:
    """A corrupt archive file is a real server-side failure: a plain 500, logged, no trace."""
    (tmp_path / "opennews.sqlite3").write_bytes(b"this is not a database" * 100)
    with TestClient(create_app(Settings(tmp_path)), raise_server_exceptions=False) as c:
        page = c.get("/about")
        assert page.status_code == 500 and "Traceback" not in page.text and "Lỗi máy chủ" in page.text
        assert page.headers["x-content-type-options"] == "nosniff"
        api = c.get("/api/stats")
        assert api.status_code == 500 and api.json() == {"error": {"status": 500, "message": "internal error"}}


# -- serving -----------------------------------------------------------------------


def test_missing_index_is_a_503_until_it_is_built_then_updates_are_seen(web_home: WebHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(web_home.path / "opennews.sqlite3", home / "opennews.sqlite3")
    with TestClient(create_app(Settings(home))) as c:
        page = c.get("/", params={"q": "thuy dien"})
        assert page.status_code == 503 and "Chưa thể tìm kiếm" in page.text and "opennews index" in page.text
        assert c.get("/api/search").json()["error"]["status"] == 503
        assert c.get("/healthz").json()["index_documents"] is None
        assert c.get("/about").status_code == 200
        assert main(["--home", str(home), "index", "--quiet"]) == 0

        def searchable() -> bool:
            """the new index answers (the backend looks for one again two seconds after a miss)"""
            return c.get("/api/search", params={"q": "thuy dien"}).json().get("total", 0) > 0

        assert within(5.0, searchable) >= 0
        record = {"title": "Chim cánh cụt xuất hiện ở Vũng Tàu", "body": "Lần đầu tiên chim cánh cụt đến bãi biển."}
        (tmp_path / "new.ndjson").write_bytes(orjson.dumps({**record, "source": "test.example"}) + b"\n")
        assert main(["--home", str(home), "ingest", "--quiet", str(tmp_path / "new.ndjson")]) == 0
        # The server prepares the new generation in a thread, answering from the open one meanwhile.
        answers: list[dict[str, Any]] = []

        def found() -> bool:
            """the new article is found once its generation is swapped in"""
            response = c.get("/api/search", params={"q": "chim canh cut"})
            assert response.status_code == 200
            answers.append(response.json())
            return answers[-1]["total"] == 1

        within(5, found)
        assert answers[-1]["results"][0]["title"] == record["title"]


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {
        "status": "ok",
        "articles": 299,
        "index_documents": 299,
        "worker": os.getpid(),
    }


def test_gzip_and_hashed_static_assets(client: TestClient) -> None:
    r = client.get("/", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    css = re.search(r'<link rel="stylesheet" href="(/static/style\.[0-9a-f]{12}\.css)">', r.text)
    assert css
    asset = client.get(css.group(1))
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/css")
    assert "immutable" in asset.headers["cache-control"] and "max-age=31536000" in asset.headers["cache-control"]
    assert client.get(css.group(1), headers={"if-none-match": asset.headers["etag"]}).status_code == 304
    listed = f'"other", W/{asset.headers["etag"]}'  # a list, compared weakly, as feeds and dumps read it
    assert client.get(css.group(1), headers={"if-none-match": listed}).status_code == 304
    assert client.get(css.group(1), headers={"if-none-match": '"other"'}).status_code == 200
    assert client.get("/static/style.css").status_code == 404
    raw = client.get("/api/search?limit=50", headers={"accept-encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip" and raw.json()["results"]
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_serve_command_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers, args.demo) == ("127.0.0.1", 8000, 1, 0)
    args = build_parser().parse_args(["serve", "--port", "9000", "--workers", "2", "--demo", "500"])
    assert (args.port, args.workers, args.demo) == (9000, 2, 500)


def test_json_twin_links_keep_filters(client: TestClient) -> None:
    html = client.get("/", params={"q": "thuy dien", "source": "songhong.example", "sort": "newest"}).text
    alternate = re.search(r'<link rel="alternate" type="application/json" title="JSON" href="([^"]+)"', html)
    assert alternate
    params = parse_qs(urlsplit(unescape(alternate.group(1))).query)
    assert params == {"q": ["thuy dien"], "source": ["songhong.example"], "sort": ["newest"]}


_TEXTS = st.text(alphabet=st.sampled_from(list("ahà <>&\"'\r\x00\u00a0;mark/")), max_size=40)


@given(_TEXTS)
def test_highlighted_text_is_what_the_sanitiser_would_write(text: str) -> None:
    """Snippets skip nh3 when they are already text and <mark> in its own spelling: the same
    string either way, for what the highlighter writes and for anything else."""
    for html in (Highlighter([], ["ha"]).mark(text), text, f"<mark>{text}</mark>"):
        assert marked(html) == nh3.clean(html, tags={"mark"}, attributes={})


# -- a query that finds nothing, read as Telex -----------------------------------------------


def words_of(html: str) -> str:
    """The page's text with its white space closed up."""
    return " ".join(text_of(html).split())


def test_telex_that_finds_nothing_shows_its_reading_with_a_way_back(client: TestClient) -> None:
    page = client.get("/", params={"q": "vieetj nam"})
    assert page.status_code == 200
    shown = words_of(page.text)
    assert "Kết quả cho việt nam (đọc theo kiểu gõ Telex) — tìm chính xác vieetj nam" in shown
    assert "Kết quả cho việt nam" in shown and "tìm chính xác vieetj nam" in shown
    assert "Có phải bạn muốn tìm" not in shown  # the reading ran: no "did you mean" too
    assert re.search(r"\d+ kết quả cho “việt nam”", shown)
    back = re.search(r'<a href="(/\?[^"]*exact=1[^"]*)"[^>]*>(?:<bdi>)?vieetj nam', page.text)
    assert back, "the way back to what was typed"
    exact = client.get(unescape(back.group(1)))
    assert "0 kết quả cho “vieetj nam”" in words_of(exact.text)
    assert "Kết quả cho việt nam" not in words_of(exact.text)
    assert "Có phải bạn muốn tìm" in words_of(exact.text)  # still offered
    english = client.get("/", params={"q": "vieetj nam", "lang": "en"})
    assert "Showing results for việt nam" in words_of(english.text)
    assert "search instead for vieetj nam" in words_of(english.text)


def test_api_says_which_query_ran(client: TestClient, openapi: dict[str, Any]) -> None:
    body = check(openapi, "/api/search", client.get("/api/search", params={"q": "vieetj nam"}))
    reading = check(openapi, "/api/search", client.get("/api/search", params={"q": "việt nam"}))
    assert body["query"] == "vieetj nam" and body["query_run"] == "việt nam" and body["query_reason"] == "telex"
    assert body["total"] == reading["total"] > 0 and body["results"] == reading["results"]
    assert body["suggestion"] == "việt nam" and body["suggestion_kind"] == "telex"  # as before
    exact = check(openapi, "/api/search", client.get(body["exact_url"]))
    assert exact["exact"] is True and exact["total"] == 0 and exact["query_run"] == "vieetj nam"
    assert exact["query_reason"] is None and exact["exact_url"] is None
    for bad in ("yes", "2", ""):
        assert client.get("/api/search", params={"q": "vieetj nam", "exact": bad}).status_code == 400


def test_a_query_that_matches_as_typed_is_never_replaced(client: TestClient, openapi: dict[str, Any]) -> None:
    body = check(openapi, "/api/search", client.get("/api/search", params={"q": "thuy dien"}))
    assert body["total"] > 0 and body["query_run"] == "thuy dien" and body["query_reason"] is None
    assert body["suggestion_kind"] == "accents"
    assert "Có phải bạn muốn tìm" in words_of(client.get("/", params={"q": "thuy dien"}).text)


def test_an_accented_query_that_finds_nothing_stays_as_typed(client: TestClient, openapi: dict[str, Any]) -> None:
    body = check(openapi, "/api/search", client.get("/api/search", params={"q": "việtt nam"}))
    assert body["total"] == 0 and body["query_run"] == "việtt nam" and body["query_reason"] is None
    shown = words_of(client.get("/", params={"q": "việtt nam"}).text)
    assert "0 kết quả cho “việtt nam”" in shown and "Kết quả cho" not in shown


def test_search_feed_holds_the_readings_articles(client: TestClient) -> None:
    def items(query: dict[str, str]) -> tuple[str, list[str]]:
        root = ElementTree.fromstring(client.get("/feeds/search.rss", params=query).content)
        return root.findtext("channel/title") or "", [i.findtext("guid") or "" for i in root.iter("item")]

    title, typed = items({"q": "vieetj nam"})
    _, reading = items({"q": "việt nam"})
    assert typed and typed == reading
    assert "vieetj nam" in title and "việt nam" in title
    assert items({"q": "vieetj nam", "exact": "1"})[1] == []


def test_the_feed_cache_is_bounded_in_bytes(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendered feeds are kept per worker up to a byte budget (a full-text feed is hundreds of
    kilobytes), the most recently asked kept, whatever the number of distinct feeds asked."""
    from opennews.web import feeds as feed_views

    views = next(
        r.endpoint.__self__
        for r in client.app.routes
        if isinstance(getattr(getattr(r, "endpoint", None), "__self__", None), feed_views.FeedViews)
    )
    views._cache.clear()  # (the module's other tests asked for feeds too)
    sizes = []
    for q in ("thuy dien", "ha noi", "giao thong", "bong da", "gia vang", "hoc sinh"):
        r = client.get("/feeds/search.rss", params={"q": q})
        assert r.status_code == 200
        sizes.append(views._cache.bytes)
    monkeypatch.setattr(feed_views, "CACHE_BYTES", sizes[-1] // 2)
    for q in ("thoi tiet", "du lich", "xe may"):
        assert client.get("/feeds/search.rss", params={"q": q}).status_code == 200
        assert views._cache.bytes <= feed_views.CACHE_BYTES or len(views._cache) == 1
        assert views._cache.bytes == sum(feed_views._size(c) for c in views._cache.values())
    assert 1 <= len(views._cache) < 9
    assert any(key for key in views._cache.keys_by_use() if "xe may" in repr(key))
