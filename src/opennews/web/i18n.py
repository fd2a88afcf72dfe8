"""The interface in Vietnamese (the default) and English: catalogs, locale choice, formats.

Messages live in gettext ``.po`` files under ``locale/``, read with Babel and compiled
in memory at start-up, so the repository holds no binary ``.mo`` files and a translator
edits one text file. Templates use Jinja2's i18n extension (``{% trans %}``, ``_()``);
the gettext callables are handed to each render in its context, so one shared Jinja2
environment serves both languages without per-request mutation.

Dates follow the habit of Vietnamese newspapers ("Thứ hai, 01/06/2020, 09:29 (GMT+7)")
in Vietnamese and Babel's English patterns otherwise; numbers come from Babel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import pass_context
from markupsafe import Markup

from ..vietnamese import parse_datetime, to_vietnam

__all__ = ["DEFAULT", "LANGUAGES", "N_", "Language", "load_languages"]

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "vi"
#: Language code -> its own name, shown in the switch (always in that language).
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
_WEEKDAYS_VI = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


#: Notes the search layer writes in English, as patterns, so they can be shown translated.
_NOTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"No article has all the words; showing articles with most of them\.?$"),
        N_("No article has all the words; showing articles with most of them."),
    ),
    (re.compile(r"unbalanced quote ignored$"), N_("An unbalanced quote was ignored.")),
    (re.compile(r"OR at the start ignored$"), N_("OR at the start was ignored.")),
    (re.compile(r"OR at the end ignored$"), N_("OR at the end was ignored.")),
    (re.compile(r"ignored (?P<what>.+) \(not a date\)$"), N_("%(what)s was ignored: it is not a date.")),
    (
        re.compile(r"unknown field (?P<what>[^:]+): searched as words$"),
        N_("Unknown field %(what)s: searched as words."),
    ),
)


@dataclass(frozen=True)
class Language:
    """One interface language: its catalog and the formatting that goes with it."""

    code: str
    translations: Translations

    @property
    def name(self) -> str:
        return LANGUAGES[self.code]

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def note(self, text: str) -> tuple[str, bool]:
        """A search note in this language, and whether it is in it (untranslated notes stay English)."""
        for pattern, message in _NOTES:
            m = pattern.match(text)
            if m:
                return self.gettext(message) % m.groupdict(), True
        return text, self.code == "en"

    def number(self, n: int | float) -> str:
        return _decimal(n, self.code)

    def datetime(self, value: str | datetime | date | None, *, short: bool = False) -> str:
        """A published/updated value for readers; '' when absent or unreadable."""
        moment = _moment(value)
        if moment is None:
            return ""
        has_time = isinstance(moment, datetime)
        if self.code == "vi":
            day = moment.date() if isinstance(moment, datetime) else moment
            text = day.strftime("%d/%m/%Y")
            if short:
                return text
            text = f"{_WEEKDAYS_VI[day.weekday()]}, {text}"
            if isinstance(moment, datetime):
                text += moment.strftime(", %H:%M (GMT+7)")
            return text
        if short:
            return format_date(moment, "medium", locale=self.code)
        if has_time:
            return format_datetime(moment, "EEEE, d MMMM y, HH:mm", locale=self.code) + " (GMT+7)"
        return format_date(moment, "EEEE, d MMMM y", locale=self.code)

    def template_globals(self) -> dict[str, Any]:
        """What a template needs to speak this language: gettext callables and formatters."""
        gettext, ngettext = _newstyle(self)
        return {
            "gettext": gettext,
            "ngettext": ngettext,
            "_": gettext,
            "lang": self.code,
            "number": self.number,
            "when": self.datetime,
        }


@lru_cache(maxsize=4096)
def _decimal(n: int | float, code: str) -> str:
    """Babel's number format, remembered: a results page shows a hundred facet counts and
    page numbers, most of them small numbers seen before, and each Babel call costs ~30 µs."""
    return format_decimal(n, locale=code)


def _moment(value: str | datetime | date | None) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = parse_datetime(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return to_vietnam(value)
    return value


def _newstyle(language: Language) -> tuple[Any, Any]:
    """Gettext callables in the shape Jinja2's newstyle i18n expects (escaping, %-formatting)."""

    @pass_context
    def gettext(context: Any, message: str, /, **variables: Any) -> str:
        text = language.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = language.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext, ngettext


def compile_catalog(po_path: Path, code: str) -> Translations:
    """Read a ``.po`` file and compile it in memory (no ``.mo`` on disk)."""
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=code, domain="messages")
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def load_languages(locale_dir: Path = LOCALE_DIR) -> dict[str, Language]:
    return {
        code: Language(code, compile_catalog(locale_dir / code / "LC_MESSAGES" / "messages.po", code))
        for code in LANGUAGES
    }
