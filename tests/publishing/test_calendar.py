"""The week calendar and its drag-and-drop move (the service, the view as HTMX and as a plain form post)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import services
from dandelion.publishing.choices import PostState
from dandelion.publishing.exceptions import InvalidPost, InvalidTransition

pytestmark = pytest.mark.django_db


def scheduled(pub, days=3):
    when = (timezone.now() + dt.timedelta(days=days)).replace(tzinfo=None, hour=9, minute=15, second=0,
                                                             microsecond=0)
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Bonjour", accounts=[pub.fr_account],
                                scheduled_local=when)
    return services.submit_post(post, actor=pub.users.fr_cm)  # no workflow: scheduled at once


def test_move_a_scheduled_post_keeps_it_scheduled_and_audits(pub):
    post = scheduled(pub)
    assert post.state == PostState.SCHEDULED
    target = post.scheduled_at + dt.timedelta(days=1, hours=2)
    moved = services.move_post(post, actor=pub.users.fr_cm, when=target)
    assert moved.state == PostState.SCHEDULED and moved.scheduled_at == target
    assert set(moved.variants.values_list("due_at", flat=True)) == {target}
    assert AuditEvent.objects.filter(action="publishing.post.schedule").exists()


def test_move_refuses_the_past_other_units_and_finished_posts(pub):
    post = scheduled(pub)
    with pytest.raises(InvalidPost, match="past"):
        services.move_post(post, actor=pub.users.fr_cm, when=timezone.now() - dt.timedelta(days=1))
    with pytest.raises(PermissionDeniedError):
        services.move_post(post, actor=pub.users.es_admin, when=post.scheduled_at + dt.timedelta(hours=1))
    services.cancel_post(post, actor=pub.users.fr_cm)
    post.refresh_from_db()
    with pytest.raises(InvalidTransition):
        services.move_post(post, actor=pub.users.fr_cm, when=post.scheduled_at + dt.timedelta(hours=1))


def test_moving_a_draft_sets_its_time(pub):
    draft = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="x", accounts=[pub.fr_account],
                                 scheduled_local=(timezone.now() + dt.timedelta(days=2)).replace(tzinfo=None))
    target = (timezone.now() + dt.timedelta(days=4)).replace(microsecond=0, second=0)
    moved = services.move_post(draft, actor=pub.users.fr_cm, when=target)
    assert moved.state == PostState.DRAFT and moved.scheduled_at == target


def test_week_page_shows_movable_posts_and_a_drop_moves_one(pub, client_for, settings):
    post = scheduled(pub)
    zone = ZoneInfo(timezone.get_current_timezone_name())
    local = post.scheduled_at.astimezone(zone)
    week = local.date() - dt.timedelta(days=local.date().weekday())
    cm = client_for(pub.users.fr_cm)
    page = cm.get(reverse("publishing:calendar-week") + f"?week={week}").content.decode()
    assert f'id="entry-{post.pk}"' in page and 'draggable="true"' in page
    # the analyst sees it but may not move it
    seen = client_for(pub.users.analyst).get(reverse("publishing:calendar-week") + f"?week={week}").content.decode()
    assert f'id="entry-{post.pk}"' in seen and 'draggable="true"' not in seen
    day = local.date() + dt.timedelta(days=1)
    response = cm.post(reverse("publishing:calendar-move", args=[post.pk]), {"day": day.isoformat(), "hour": "14"},
                       HTTP_HX_REQUEST="true", HTTP_HX_TARGET="week")
    assert response.status_code == 200 and 'id="week"' in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_at.astimezone(zone) == dt.datetime.combine(day, dt.time(14, 15), tzinfo=zone)
    assert "Moved to" in response.content.decode()
    bad = cm.post(reverse("publishing:calendar-move", args=[post.pk]), {"day": "nope", "hour": "14"})
    assert bad.status_code == 400
    past = cm.post(reverse("publishing:calendar-move", args=[post.pk]), {"day": "2001-01-01", "hour": "9"},
                   follow=True)
    assert "in the past" in past.content.decode()
