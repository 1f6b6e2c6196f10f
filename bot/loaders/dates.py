"""Publication dates -> ISO 8601 (`2019-12-09`, or `2019-12` / `2019` when that is all a date says).

ISO dates are checked strictly (`2024-02-30` and `2001-01-01 25:00:00` are impossible, not "fixed");
other forms go to python-dateutil ("December 9, 2019", "Mon, 09 Dec 2019 08:30:00 +0300", "09.12.2019",
"03/04/2024"), then, for month names in other languages ("9 декабря 2019", "9. Dezember 2019"), to
dateparser restricted to the languages of the text's script and to absolute dates ("yesterday" is no
publication date). Unix timestamps (seconds or milliseconds) are read as UTC. Numeric dates with dots are
read day first (Europe), with slashes month first (US) unless the first number cannot be a month.
Anything else is no date: the caller drops it with a warning. Results are cached per written form: a news
archive repeats the same dates many times.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

_ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*)?", re.DOTALL)
_DOTTED = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}\b.*", re.DOTALL)
_MAX_CHARS = 80  # a date written longer than this is not a date

# dateutil fills the parts a date leaves out from `default`: two defaults that differ in every part tell
# which parts were written.
_DEFAULTS = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))


class DateError(ValueError):
    """Why a value is no usable date."""


def parse_date(value: Any) -> str | None:
    """The ISO 8601 form of a date, None when there is none; DateError when a value is there but is not
    a possible date (the reason says what is wrong)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        raise DateError("not a date")
    if isinstance(value, (int, float)):
        return _timestamp(value)
    if not isinstance(value, str):
        raise DateError(f"a {type(value).__name__}, not a date")
    raw = " ".join(value.split())
    if not raw:
        return None
    if len(raw) > _MAX_CHARS:
        raise DateError("too long to be a date")
    return _parse_text(raw)


def _timestamp(value: float) -> str:
    seconds = value / 1000 if 1e12 <= abs(value) < 1e13 else value
    if not 1e8 <= abs(seconds) < 1e10:
        raise DateError("a number that is not a Unix time")
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()


@lru_cache(maxsize=1 << 16)
def _parse_text(raw: str) -> str:
    iso = _ISO.fullmatch(raw)
    if iso:
        return _iso(raw, iso)
    result = _dateutil(raw)
    if result is None and any(c.isalpha() for c in raw):
        result = _dateparser(raw)
    if result is None:
        raise DateError("not a date we can read")
    return result


def _iso(raw: str, m: re.Match[str]) -> str:
    year, month, day = m.group(1), m.group(2), m.group(3)
    try:
        if day is None:
            if raw != m.group(0) or len(raw) > 7 or (month and not 1 <= int(month) <= 12):
                raise ValueError
            return f"{year}-{month}" if month else year
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise DateError("impossible date") from None
    if len(raw) > 10:  # a time too: it must be possible as well (25:00 is not)
        try:
            dt.datetime.fromisoformat(raw.replace(" ", "T", 1))
        except ValueError:
            if _dateutil(raw) is None:  # not "2019-12-09 10:00 GMT" either
                raise DateError("impossible date or time") from None
    return date.isoformat()


def _dateutil(raw: str) -> str | None:
    from dateutil import parser

    dayfirst = bool(_DOTTED.fullmatch(raw))
    try:
        a, b = (parser.parse(raw, default=d, dayfirst=dayfirst) for d in _DEFAULTS)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    return _precise(a, year=a.year != b.year, month=a.month != b.month, day=a.day != b.day)


def _precise(date: dt.datetime, *, year: bool, month: bool, day: bool) -> str | None:
    """The date to the precision it was written with; None without a year (not a publication date)."""
    if year:
        return None
    if month:
        return f"{date.year:04d}"
    if day:
        return f"{date.year:04d}-{date.month:02d}"
    return date.date().isoformat()


# Languages dateparser tries for month names, by the script they are written in (all of them at once
# takes seconds a date; a handful takes a millisecond).
_SCRIPTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("\u0400", "\u04ff", ("ru", "uk", "be", "bg", "sr", "mk", "kk")),
    ("\u0370", "\u03ff", ("el",)),
    ("\u0590", "\u05ff", ("he",)),
    ("\u0600", "\u06ff", ("ar", "fa", "ur")),
    ("\u0900", "\u097f", ("hi", "mr", "ne")),
    ("\u0e00", "\u0e7f", ("th",)),
    ("\u3040", "\u30ff", ("ja",)),
    ("\u4e00", "\u9fff", ("zh", "ja")),
    ("\uac00", "\ud7af", ("ko",)),
)
_LATIN = ("de", "fr", "es", "it", "pt", "nl", "pl", "tr", "ro", "cs", "sv", "da", "nb", "fi", "hu", "vi", "id", "en")


def _languages(raw: str) -> tuple[str, ...]:
    for c in raw:
        if c.isalpha() and c > "\u024f":
            for lo, hi, langs in _SCRIPTS:
                if lo <= c <= hi:
                    return langs
            return ()
    return _LATIN


def _dateparser(raw: str) -> str | None:
    langs = _languages(raw)
    if not langs:
        return None
    from dateparser.date import DateDataParser  # imported when needed: it takes a while

    settings = {"PARSERS": ["absolute-time"], "REQUIRE_PARTS": ["year"], "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        data = DateDataParser(languages=list(langs), settings=settings).get_date_data(raw)
    except Exception:  # dateparser's own failures: no date
        return None
    if data is None or data.date_obj is None or data.period not in ("day", "time", "month", "year"):
        return None  # "Q3 2019" is a quarter, not a day
    date, period = data.date_obj, data.period
    numbers = {int(n) for n in re.findall(r"\d+", raw)}
    if date.year not in numbers and date.year % 100 not in numbers:
        return None  # a year it made up
    if period in ("day", "time") and date.day not in numbers:
        return None  # a day it made up
    return _precise(date, year=False, month=period == "year", day=period == "month")
