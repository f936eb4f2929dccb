"""Digest times across time zones and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sentibot.monitoring.schedules import latest_occurrence, next_occurrence, period_start


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_at_a_local_time() -> None:
    # 09:00 in Berlin is 08:00 UTC in winter.
    assert next_occurrence(utc(2026, 11, 24, 7, 0), "09:00", "Europe/Berlin") == utc(
        2026, 11, 24, 8
    )
    assert next_occurrence(utc(2026, 11, 24, 8, 0), "09:00", "Europe/Berlin") == utc(
        2026, 11, 25, 8
    )


def test_the_hour_stays_local_across_dst() -> None:
    # Berlin leaves summer time on 25 Oct 2026: 09:00 is 07:00 UTC before, 08:00 UTC after.
    before = next_occurrence(utc(2026, 10, 24, 12), "09:00", "Europe/Berlin")
    after = next_occurrence(before, "09:00", "Europe/Berlin")
    assert (before, after) == (utc(2026, 10, 25, 8), utc(2026, 10, 26, 8))
    assert next_occurrence(utc(2026, 10, 23, 12), "09:00", "Europe/Berlin") == utc(2026, 10, 24, 7)
    # The day of the change lasts 25 hours, and the period says so.
    assert period_start(utc(2026, 10, 25, 8), "09:00", "Europe/Berlin") == utc(2026, 10, 24, 7)
    # New York springs forward on 8 Mar 2026: the period before 09:00 on the 8th is 23 hours.
    end = next_occurrence(utc(2026, 3, 8, 5), "09:00", "America/New_York")
    assert end - period_start(end, "09:00", "America/New_York") == timedelta(hours=23)


def test_a_time_skipped_by_spring_forward_still_happens_once() -> None:
    # 02:30 does not exist in Berlin on 29 Mar 2026; the digest comes at 03:30 local (01:30 UTC).
    when = next_occurrence(utc(2026, 3, 28, 12), "02:30", "Europe/Berlin")
    assert when == utc(2026, 3, 29, 1, 30)
    # And 02:30 on the autumn night that has it twice comes once, the first time.
    first = next_occurrence(utc(2026, 10, 24, 12), "02:30", "Europe/Berlin")
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_occurrence(first, "02:30", "Europe/Berlin") == utc(2026, 10, 26, 1, 30)


def test_weekly_on_a_weekday() -> None:
    # 24 Nov 2026 is a Tuesday; the next Monday 09:00 Tokyo is 30 Nov 00:00 UTC.
    assert next_occurrence(utc(2026, 11, 24), "09:00", "Asia/Tokyo", weekday=0) == utc(2026, 11, 30)
    assert latest_occurrence(utc(2026, 11, 24), "09:00", "Asia/Tokyo", weekday=0) == utc(
        2026, 11, 23
    )
    assert period_start(utc(2026, 11, 30), "09:00", "Asia/Tokyo", weekday=0) == utc(2026, 11, 23)


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    st.sampled_from(
        ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
    ),
    st.sampled_from(["00:00", "02:30", "09:00", "23:59"]),
    st.one_of(st.none(), st.integers(0, 6)),
)
def test_next_is_after_latest_is_before_and_nothing_lies_between(naive, tz, at, weekday) -> None:
    now = naive.replace(tzinfo=UTC)
    nxt = next_occurrence(now, at, tz, weekday)
    last = latest_occurrence(now, at, tz, weekday)
    assert last <= now < nxt
    assert next_occurrence(last, at, tz, weekday) == nxt
    span = nxt - last
    days = 7 if weekday is not None else 1
    assert timedelta(days=days, hours=-2) <= span <= timedelta(days=days, hours=2)
