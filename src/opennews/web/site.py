"""What every view shares: the backend, the templates, the languages, the static files.

One ``Site`` per process, made by the app factory and handed to the views (no module
globals). Rendering happens here so every page gets the same context: the reader's
language and its gettext, the language switch, the canonical URL, hashed asset URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..settings import Settings
from ..vietnamese import balance_bidi, isolate, needs_isolation
from .assets import Assets
from .backend import Backend
from .i18n import DEFAULT, LANGUAGES, Language, load_languages

__all__ = ["Site", "template_dirs"]

COOKIE = "lang"
_YEAR = 365 * 24 * 3600


def template_dirs(settings: Settings) -> list[Path]:
    """Where templates come from, first match wins: the home's own ``templates/`` (to
    override any page), then the copy inside the installed package, then the repository's
    top-level ``templates/`` (an editable install)."""
    dirs = [settings.home / "templates"]
    packaged = Path(str(resources.files("opennews"))) / "templates"
    dirs.append(packaged)
    dirs.append(Path(__file__).resolve().parents[3] / "templates")
    return [d for d in dirs if d.is_dir()]


class _Environment(jinja2.Environment):
    """Jinja2, with keys looked up first in dicts.

    Pages render the API's JSON-ready dicts, and Jinja's attribute-first lookup raised
    and caught an ``AttributeError`` for every ``f.value`` (~0.5 µs each, some 500 on a
    page of results with its facets).
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def bdi(value: Any) -> Markup:
    """The ``|bdi`` filter: archive text (a headline, a source, a category, a byline, a tag)
    printed in a line with other text, inside ``<bdi>`` where it could reorder that line,
    its bidi controls balanced so that none closes the ``<bdi>`` itself (see
    :mod:`opennews.vietnamese.bidi`). Already-escaped markup (highlights) stays markup."""
    if value is None:
        return Markup("")
    text = str(value)
    if not needs_isolation(text):
        return escape(value)
    inner = Markup(balance_bidi(text)) if isinstance(value, Markup) else escape(balance_bidi(text))
    return Markup("<bdi>") + inner + Markup("</bdi>")


def isolated(value: Any) -> str:
    """The ``|isolated`` filter: the same for plain text, where no element can go (``<title>``,
    attribute values, ``<option>``): FSI and PDI around the balanced text."""
    return isolate(str(value)) if value else ""


class Site:
    def __init__(self, settings: Settings, backend: Backend | None = None) -> None:
        self.settings = settings
        self.backend = backend or Backend(settings)
        self.languages = load_languages()
        self.assets = Assets()
        self.env = _Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(settings)]),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates are read once per process; restart to pick up edits
        )
        default = self.languages[DEFAULT]
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            default.gettext, default.ngettext, newstyle=True
        )
        self.env.globals.update(static=self.assets.url, languages=LANGUAGES)
        self.env.filters.update(bdi=bdi, isolated=isolated)

    # -- language -------------------------------------------------------------------

    def chosen_language(self, request: Request) -> tuple[Language, bool]:
        """The reader's language and whether this request chose it (``?lang=``), to remember it."""
        asked = request.query_params.get("lang", "")
        if asked in self.languages:
            return self.languages[asked], True
        remembered = request.cookies.get(COOKIE, "")
        return self.languages.get(remembered, self.languages[DEFAULT]), False

    def language(self, request: Request) -> Language:
        return self.chosen_language(request)[0]

    # -- rendering ------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        language, chosen = self.chosen_language(request)
        base = str(request.base_url).rstrip("/")
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        path_and_query = request.url.path + ("?" + urlencode(kept) if kept else "")
        switch = {
            code: request.url.path + "?" + urlencode([*kept, ("lang", code)])
            for code in LANGUAGES
            if code != language.code
        }
        page = {
            **language.template_globals(),
            "request": request,
            "canonical": base + path_and_query,
            "base_url": base,
            "switch": switch,
            "language": language,
            **context,
        }
        html = self.env.get_template(template).render(page)
        response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
        response.headers["vary"] = "Cookie"
        response.headers.setdefault("cache-control", "private, max-age=60" if chosen else "public, max-age=60")
        if chosen:
            response.set_cookie(COOKIE, language.code, max_age=_YEAR, samesite="lax", httponly=True)
        return response
