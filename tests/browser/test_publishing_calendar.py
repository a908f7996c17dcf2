"""The week calendar: a community manager drags a scheduled post to another day and hour; it is rescheduled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dandelion.publishing import services
from dandelion.publishing.choices import PostState
from tests.browser.conftest import login, settled, shot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_drag_a_post_to_another_hour(page, org):
    for user in org.users.__dict__.values():
        user.set_password("pw-test-123")
        user.save()
    zone = ZoneInfo(timezone.get_current_timezone_name())
    monday = timezone.now().astimezone(zone).date() + dt.timedelta(days=7)
    monday -= dt.timedelta(days=monday.weekday())  # next week's Monday: every cell is in the future
    org.france.timezone = str(zone)
    org.france.save(update_fields=["timezone"])
    post = services.create_post(actor=org.users.fr_cm, unit=org.france, title="Weekly tip", text="Bonjour",
                                accounts=[org.fr_account], scheduled_local=dt.datetime.combine(monday, dt.time(9, 30)))
    post = services.submit_post(post, actor=org.users.fr_cm)
    assert post.state == PostState.SCHEDULED

    login(page, "frcm")
    page.goto("/publishing/calendar/")
    page.click("#week-view")
    page.goto(f"/publishing/calendar/week/?week={monday}")
    assert page.is_visible(f"#entry-{post.pk}")
    wednesday = (monday + dt.timedelta(days=2)).isoformat()
    page.drag_and_drop(f"#entry-{post.pk}", f"td.slot[data-day='{wednesday}'][data-hour='14']")
    settled(page)
    wait_for(page, f"document.querySelector(\"td.slot[data-day='{wednesday}'][data-hour='14'] #entry-{post.pk}\")"
                   " !== null")
    assert "Moved to" in page.inner_text("#week")
    shot(page, "publishing-week-drag")
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    assert post.scheduled_at.astimezone(zone) == dt.datetime.combine(monday + dt.timedelta(days=2),
                                                                     dt.time(14, 30), tzinfo=zone)
