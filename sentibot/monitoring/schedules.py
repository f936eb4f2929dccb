"""Local-time schedules that survive DST: the next digest time, and the period it covers.

A time that does not exist on a spring-forward day (02:30 in Europe/Berlin) happens at the
same wall-clock distance after the jump (03:30); one that happens twice in autumn happens
once, the first time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def _at(day: date, at: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in at.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def next_occurrence(after: datetime, at: str, tz: str, weekday: int | None = None) -> datetime:
    """The first local `at` (on `weekday`, 0 = Monday, if given) strictly after `after`, in UTC."""
    zone = ZoneInfo(tz)
    start = after.astimezone(zone).date()
    for offset in range(9):
        day = start + timedelta(days=offset)
        if weekday is not None and day.weekday() != weekday:
            continue
        when = _at(day, at, zone)
        if when > after:
            return when
    raise AssertionError("unreachable: a week always holds the weekday")


def latest_occurrence(upto: datetime, at: str, tz: str, weekday: int | None = None) -> datetime:
    """The last local `at` (on `weekday`) at or before `upto`, in UTC."""
    zone = ZoneInfo(tz)
    start = upto.astimezone(zone).date()
    for offset in range(9):
        day = start - timedelta(days=offset)
        if weekday is not None and day.weekday() != weekday:
            continue
        when = _at(day, at, zone)
        if when <= upto:
            return when
    raise AssertionError("unreachable: a week always holds the weekday")


def period_start(end: datetime, at: str, tz: str, weekday: int | None = None) -> datetime:
    """Where the period ending at `end` began: the same local time a day (or a week) earlier,
    so a period across a DST change lasts 23 or 25 hours, as people expect."""
    zone = ZoneInfo(tz)
    days = 7 if weekday is not None else 1
    return _at(end.astimezone(zone).date() - timedelta(days=days), at, zone)
