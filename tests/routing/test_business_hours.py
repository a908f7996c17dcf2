import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dandelion.routing.sla import (
    CalendarSpec,
    add_business_seconds,
    business_seconds_between,
    validate_weekly_hours,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_9_18 = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
CAL = CalendarSpec(timezone="Europe/Paris", weekly_hours=WEEKDAYS_9_18)


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


def test_friday_evening_due_monday_morning():
    start = paris(2025, 3, 7, 17, 30)  # Friday
    assert add_business_seconds(start, 3600, calendar=CAL) == paris(2025, 3, 10, 9, 30)
    assert business_seconds_between(start, paris(2025, 3, 10, 9, 30), calendar=CAL) == 3600


def test_message_outside_hours_starts_at_opening():
    assert add_business_seconds(paris(2025, 3, 8, 12, 0), 1800, calendar=CAL) == paris(2025, 3, 10, 9, 30)
    assert add_business_seconds(paris(2025, 3, 10, 6, 0), 60, calendar=CAL) == paris(2025, 3, 10, 9, 1)


def test_holiday_is_skipped():
    cal = CalendarSpec(timezone="Europe/Paris", weekly_hours=WEEKDAYS_9_18,
                       holidays=frozenset({dt.date(2025, 5, 1), dt.date(2025, 5, 2)}))
    start = paris(2025, 4, 30, 17, 0)  # Wednesday before 1 May (Thu) and a bridge day (Fri)
    assert add_business_seconds(start, 2 * 3600, calendar=cal) == paris(2025, 5, 5, 10, 0)
    assert business_seconds_between(start, paris(2025, 5, 5, 10, 0), calendar=cal) == 7200


def test_multi_day_target():
    start = paris(2025, 3, 10, 12, 0)  # Monday noon, 20 business hours
    assert add_business_seconds(start, 20 * 3600, calendar=CAL) == paris(2025, 3, 12, 14, 0)


def test_dst_spring_forward_24_7_local_hours():
    # Open every day 00:00–24:00 in Paris: the night of 30 March 2025 has only 23 hours.
    cal = CalendarSpec(timezone="Europe/Paris", weekly_hours={d: [["00:00", "24:00"]] for d in
                                                              ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    start = paris(2025, 3, 29, 12, 0)
    due = add_business_seconds(start, 24 * 3600, calendar=cal)
    assert due == paris(2025, 3, 30, 13, 0)  # 24 real hours later reads 13:00 after the clocks moved forward
    assert business_seconds_between(paris(2025, 3, 30, 0, 0), paris(2025, 3, 31, 0, 0), calendar=cal) == 23 * 3600


def test_dst_week_business_hours_keep_local_opening():
    # Friday 28 March 17:00 CET + 2h → Monday 31 March 10:00 CEST (opening stays 09:00 local after the change)
    due = add_business_seconds(paris(2025, 3, 28, 17, 0), 2 * 3600, calendar=CAL)
    assert due == paris(2025, 3, 31, 10, 0)
    assert due.astimezone(dt.UTC) == dt.datetime(2025, 3, 31, 8, 0, tzinfo=dt.UTC)
    # autumn: Friday 24 Oct 17:00 CEST + 2h → Monday 27 Oct 10:00 CET (09:00 UTC)
    due = add_business_seconds(paris(2025, 10, 24, 17, 0), 2 * 3600, calendar=CAL)
    assert due.astimezone(dt.UTC) == dt.datetime(2025, 10, 27, 9, 0, tzinfo=dt.UTC)


def test_utc_input_and_24_7():
    start = dt.datetime(2025, 3, 7, 16, 30, tzinfo=dt.UTC)  # 17:30 Paris
    assert add_business_seconds(start, 3600, calendar=CAL) == paris(2025, 3, 10, 9, 30)
    assert add_business_seconds(start, 3600, calendar=None) == start + dt.timedelta(hours=1)
    assert business_seconds_between(start, start - dt.timedelta(hours=1), calendar=CAL) == 0


def test_no_opening_hours_is_an_error():
    from dandelion.routing.exceptions import CalendarError

    with pytest.raises(CalendarError):
        add_business_seconds(paris(2025, 3, 7, 9, 0), 60, calendar=CalendarSpec(weekly_hours={}))


def test_weekly_hours_validation():
    assert validate_weekly_hours(WEEKDAYS_9_18) == []
    assert validate_weekly_hours({"mon": [["18:00", "09:00"]], "xyz": []}) == [
        "mon[0]: start must be before end", "'xyz' is not a weekday (mon..sun)"]


def test_calendar_model_with_holidays(org):
    from dandelion.routing.models import BusinessCalendar, Holiday
    from dandelion.routing.sla import calendar_for_team

    cal = BusinessCalendar.objects.create(unit=org.france, name="France", timezone="Europe/Paris",
                                          weekly_hours=WEEKDAYS_9_18)
    Holiday.objects.create(calendar=cal, date=dt.date(2025, 3, 10), name="Test holiday")
    spec = calendar_for_team(org.fr_team)  # the unit's calendar applies to its teams
    assert add_business_seconds(paris(2025, 3, 7, 17, 30), 3600, calendar=spec) == paris(2025, 3, 11, 9, 30)
    assert add_business_seconds(paris(2025, 3, 7, 17, 30), 3600, calendar=cal) == paris(2025, 3, 11, 9, 30)
    # no calendar anywhere: Mon–Fri 9–18 in the team's time zone (Madrid)
    assert calendar_for_team(org.es_team).timezone == "Europe/Madrid"


@pytest.mark.django_db
def test_an_unreadable_calendar_or_rule_is_refused_when_saved_through_a_form(org, client):
    """The admin (any ModelForm) runs the model's checks: a calendar the SLA clocks could not read, or a rule
    outside the whitelist, is refused with the reason and nothing is saved."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from dandelion.routing.models import BusinessCalendar, RoutingRule

    bad = BusinessCalendar(unit=org.france, name="FR", timezone="Mars/Olympus", weekly_hours={"mon": [["9h", "18h"]]})
    with pytest.raises(ValidationError) as caught:
        bad.full_clean()
    assert set(caught.value.message_dict) == {"weekly_hours", "timezone"}
    BusinessCalendar(unit=org.france, name="FR", timezone="Europe/Paris",
                     weekly_hours={"mon": [["09:00", "18:00"]]}).full_clean()

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-test-123")
    client.force_login(admin)
    r = client.post("/admin/routing/businesscalendar/add/", {
        "unit": org.france.pk, "name": "FR", "timezone": "Europe/Paris", "weekly_hours": '{"mon": [["18:00", "09:00"]]}',
        "holidays-TOTAL_FORMS": "0", "holidays-INITIAL_FORMS": "0"})
    assert r.status_code == 200 and "start must be before end" in r.content.decode()
    assert not BusinessCalendar.objects.exists()
    with pytest.raises(ValidationError):
        RoutingRule(unit=org.france, name="bad", conditions={"all": [{"field": "shoe_size", "op": "eq", "value": 1}]},
                    actions={}).full_clean()
