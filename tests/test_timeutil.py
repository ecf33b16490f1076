"""Dates and times as the service writes them: in London time, whatever the stored UTC."""

from datetime import UTC, date, datetime

from tracker.timeutil import format_date, format_datetime


def test_times_are_written_in_london_time_across_midnight_and_summer_time():
    late_in_summer = datetime(2027, 7, 5, 23, 30, tzinfo=UTC)  # 00:30 on 6 July, British Summer Time
    assert format_datetime(late_in_summer) == "6 July 2027 at 00:30"
    assert format_date(late_in_summer) == "6 July 2027"
    assert format_datetime(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == "31 December 2027 at 23:30"
    assert format_date(date(2027, 1, 2)) == "2 January 2027"
    assert format_date(None) == format_datetime(None) == ""
