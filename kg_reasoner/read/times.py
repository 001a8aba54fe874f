"""Times as records write them: instants, or intervals when the precision is less than full.

decision-spec section 4: "Times of different precision (a date, a year-month, a time without
zone) are compared as intervals: a result whose whole interval lies after another's is the later
one; only overlapping intervals tie". A time is read here into its earliest and latest possible
instant (UTC); the rules compare ``kgr:effectiveTime`` (earliest) with ``kgr:effectiveTimeLatest``.

A value without a time zone could be in any zone from UTC-12:00 to UTC+14:00, so its interval is
widened by those offsets: nothing is assumed about where the record was made. This module only
parses; it decides nothing about the guidance.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import os
import re
from dataclasses import dataclass

UTC = _dt.timezone.utc


#: The widest offsets a local time can have (ISO 8601 / IANA): a zone-less time lies in between.
EARLIEST_ZONE = _dt.timedelta(hours=14)


LATEST_ZONE = _dt.timedelta(hours=12)


_TICK = _dt.timedelta(microseconds=1)


#: (ASCII digits only, as FHIR's regular expressions: a full-width "２０２６" is no year)
_PATTERN = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$",
    re.ASCII,
)


@dataclass(frozen=True)
class TimeInterval:
    """A recorded time: its earliest and latest possible instant (equal for a full date-time with zone)."""

    earliest: _dt.datetime
    latest: _dt.datetime
    text: str

    @property
    def precise(self) -> bool:
        return self.earliest == self.latest

    def before(self, other: TimeInterval) -> bool:
        """Whether this whole interval lies before the other's."""
        return self.latest < other.earliest


def parse_time(text: object) -> TimeInterval:
    """A FHIR date / dateTime / instant (or the summary's ISO 8601 time) as an interval; ValueError says why not."""
    if not isinstance(text, str):
        raise ValueError("must be an ISO 8601 date or date-time string, e.g. 2026-11-20T09:00:00Z")
    m = _PATTERN.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time, e.g. 2026-11-20T09:00:00Z")
    year = int(m["year"])
    try:
        if m["month"] is None:
            start, end = _dt.datetime(year, 1, 1), _dt.datetime(year + 1, 1, 1)
        elif m["day"] is None:
            month = int(m["month"])
            start = _dt.datetime(year, month, 1)
            end = start + _dt.timedelta(days=calendar.monthrange(year, month)[1])
        elif m["hour"] is None:
            start = _dt.datetime(year, int(m["month"]), int(m["day"]))
            end = start + _dt.timedelta(days=1)
        else:
            # (an instant may carry any number of decimals: read to the microsecond; a leap second, :60,
            # is read as the last microsecond of its minute)
            fraction = int(((m["fraction"] or ".0")[1:] + "000000")[:6])
            second = int(m["second"] or 0)
            if second == 60:
                second, fraction = 59, 999999
            start = _dt.datetime(
                year, int(m["month"]), int(m["day"]), int(m["hour"]), int(m["minute"]), second, fraction
            )
            if m["zone"]:
                zone = UTC if m["zone"] == "Z" else _zone(m["zone"])
                instant = start.replace(tzinfo=zone)  # kept in its own zone, as recorded
                if m["second"] is None:  # hh:mm: the whole minute
                    return TimeInterval(instant, instant + _dt.timedelta(minutes=1) - _TICK, text)
                return TimeInterval(instant, instant, text)
            end = start + (_dt.timedelta(minutes=1) if m["second"] is None else _TICK)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a valid date: {exc}") from None
    # no time zone: the local interval, wherever on earth it was recorded
    start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    try:
        return TimeInterval(start - EARLIEST_ZONE, end - _TICK + LATEST_ZONE, text)
    except OverflowError:
        raise ValueError(f"{text!r} is too close to the ends of the calendar to be compared") from None


def _zone(text: str) -> _dt.timezone:
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError(f"time zone {text} is out of range")
    return _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))


def iso(moment: _dt.datetime) -> str:
    return moment.isoformat()


def after(interval: TimeInterval, now: _dt.datetime, as_of: _dt.date | _dt.datetime | None = None) -> bool:
    """Whether a time lies after the time an assessment is made as of (``now``, its instant). Given as a day
    (``as_of``, a retrospective assessment), a record's time is compared by its own day as written (a record of
    the evening of that day in New York is of that day; one of the next day, written without a zone, is after
    it); else by instants."""
    if as_of is None or isinstance(as_of, _dt.datetime):
        return interval.earliest > now
    day, text = as_of.isoformat(), interval.text.strip()
    n = min(len(text), 10) if len(text) >= 4 and text[:4].isdigit() else 0
    return text[:n] > day[:n] if n else interval.earliest > now


#: The environment variable fixing the present (a reproducible run, a test suite): read by ``present``
NOW_ENV = "KG_REASONER_NOW"


def present() -> _dt.datetime:
    """The present: the time ``$KG_REASONER_NOW`` fixes (its latest instant: a day's end at the latest time zone), else
    the clock. What is dated after it is wrongly dated, whatever time an assessment is made as of."""
    text = os.environ.get(NOW_ENV)
    if text:
        try:
            return parse_time(text.strip()).latest
        except ValueError:
            pass  # (refused, named, where the assessment's time is read: api.as_of_value)
    return _dt.datetime.now(UTC)
