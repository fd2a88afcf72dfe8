"""How browsers, crawlers and feed readers find us: OpenSearch, robots.txt, sitemaps.

URLs in these documents are absolute (built from the request's base URL, which
uvicorn takes from ``X-Forwarded-*`` behind a proxy). Sitemaps are split into files
of at most ``SITEMAP_SIZE`` articles, listed by a sitemap index, as the protocol asks.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .payloads import article_path
from .site import Site

__all__ = ["SITEMAP_SIZE", "Discovery"]

SITEMAP_SIZE = 10_000


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class Discovery:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def opensearch(self, request: Request) -> Response:
        base = _base(request)
        language = self.site.language(request)
        description = language.gettext("Search Vietnamese news, with or without accents.")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:moz="http://www.mozilla.org/2006/browser/search/">\n'
            "  <ShortName>opennews</ShortName>\n"
            f"  <Description>{escape(description)}</Description>\n"
            "  <InputEncoding>UTF-8</InputEncoding>\n"
            "  <Language>vi</Language>\n"
            f'  <Url type="text/html" method="get" template={quoteattr(base + "/?q={searchTerms}")}/>\n'
            f'  <Url type="application/x-suggestions+json" template='
            f"{quoteattr(base + '/api/suggest?q={searchTerms}')}/>\n"
            f'  <Url type="application/json" template={quoteattr(base + "/api/search?q={searchTerms}")}/>\n'
            f'  <Url type="application/opensearchdescription+xml" rel="self" '
            f"template={quoteattr(base + '/opensearch.xml')}/>\n"
            f"  <moz:SearchForm>{escape(base)}/</moz:SearchForm>\n"
            "</OpenSearchDescription>\n"
        )
        return Response(
            body, media_type="application/opensearchdescription+xml", headers={"cache-control": "public, max-age=86400"}
        )

    async def robots(self, request: Request) -> Response:
        body = (
            "User-agent: *\n"
            "Disallow: /api/\n"
            "Disallow: /feeds/search\n"
            "Allow: /\n"
            f"Sitemap: {_base(request)}/sitemap.xml\n"
        )
        return PlainTextResponse(body, headers={"cache-control": "public, max-age=86400"})

    async def sitemap_index(self, request: Request) -> Response:
        count = await run_in_threadpool(self.site.backend.count)
        base = _base(request)
        files = max(1, -(-count // SITEMAP_SIZE))
        entries = "".join(
            f"  <sitemap><loc>{escape(base)}/sitemaps/articles-{n}.xml</loc></sitemap>\n" for n in range(1, files + 1)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</sitemapindex>\n"
        )
        return Response(body, media_type="application/xml", headers={"cache-control": "public, max-age=3600"})

    async def sitemap(self, request: Request) -> Response:
        n = request.path_params["n"]
        if n < 1 or n > 100_000:
            raise HTTPException(404)
        rows = await run_in_threadpool(self.site.backend.listing, (n - 1) * SITEMAP_SIZE, SITEMAP_SIZE)
        if not rows and n > 1:
            raise HTTPException(404)
        base = escape(_base(request))
        lines = []
        for article_id, published, ingested_at in rows:
            lastmod = (ingested_at or published or "")[:10]
            lines.append(
                f"  <url><loc>{base}{escape(article_path(article_id))}</loc>"
                + (f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else "")
                + "</url>\n"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "".join(lines) + "</urlset>\n"
        )
        return Response(body, media_type="application/xml", headers={"cache-control": "public, max-age=3600"})
