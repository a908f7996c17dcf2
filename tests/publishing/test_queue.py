"""Posting slots and "add to queue": the next free slot in the unit's time zone, across DST changes."""

import datetime as dt

import pytest
from django.urls import reverse

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.publishing import services, slots
from dandelion.publishing.choices import PostState
from dandelion.publishing.exceptions import InvalidPost, InvalidRule

UTC = dt.UTC


def at(*args):
    return dt.datetime(*args, tzinfo=UTC)


# --- pure ------------------------------------------------------------------------------------------------------------


def test_clean_and_parse_slots():
    assert slots.parse_slots_text("wed 09:00\nmon 18:30\n\nmonday 18:30\n6 07:05") == [
        {"weekday": 0, "time": "18:30"}, {"weekday": 2, "time": "09:00"}, {"weekday": 6, "time": "07:05"}]
    for bad in ("mon 9h", "xyz 09:00", "mon 24:00", "mon"):
        with pytest.raises(ValueError):
            slots.parse_slots_text(bad)
    with pytest.raises(ValueError):
        slots.clean_slots([{"weekday": 7, "time": "09:00"}])
    assert slots.slots_text([{"weekday": 4, "time": "12:00"}]) == "fri 12:00"


def test_a_slot_keeps_its_wall_clock_time_across_the_spring_change():
    monday_9 = [{"weekday": 0, "time": "09:00"}]
    first = slots.next_free_slot(monday_9, "Europe/Paris", at(2030, 3, 24, 12), [])
    assert first == at(2030, 3, 25, 8)  # 09:00 CET
    second = slots.next_free_slot(monday_9, "Europe/Paris", at(2030, 3, 24, 12), [first])
    assert second == at(2030, 4, 1, 7)  # 09:00 CEST: the clocks went forward on Sunday 31 March


def test_a_slot_in_the_dst_gap_is_skipped_that_day_and_the_repeated_hour_is_its_first_occurrence():
    sunday_0230 = [{"weekday": 6, "time": "02:30"}]
    # 31 March 2030, 02:30 does not exist in Paris: the next is a week later (CEST)
    assert slots.next_free_slot(sunday_0230, "Europe/Paris", at(2030, 3, 30, 12), []) == at(2030, 4, 7, 0, 30)
    # 27 October 2030, 02:30 happens twice: the first (still CEST, UTC+2)
    assert slots.next_free_slot(sunday_0230, "Europe/Paris", at(2030, 10, 26, 12), []) == at(2030, 10, 27, 0, 30)
    # the autumn Monday 09:00 is back to UTC+1
    assert slots.next_free_slot([{"weekday": 0, "time": "09:00"}], "Europe/Paris",
                                at(2030, 10, 27, 12), []) == at(2030, 10, 28, 8)


def test_window_and_horizon():
    daily = [{"weekday": d, "time": "10:00"} for d in range(7)]
    assert slots.next_free_slot(daily, "UTC", at(2030, 1, 1), [], not_before=at(2030, 1, 5)) == at(2030, 1, 5, 10)
    assert slots.next_free_slot(daily, "UTC", at(2030, 1, 1), [], not_after=at(2030, 1, 1, 9)) is None
    assert slots.next_free_slot([], "UTC", at(2030, 1, 1), []) is None


# --- the service and the page --------------------------------------------------------------------------------------


@pytest.fixture
def paris(pub):
    pub.france.timezone = "Europe/Paris"
    pub.france.save()
    pub.hub.timezone = "America/New_York"  # the settings' unit's zone is not the one used: the post's unit's is
    pub.hub.save()
    services.update_settings(pub.hub, actor=pub.users.hub_admin, slots=[{"weekday": 0, "time": "09:00"},
                                                                        {"weekday": 2, "time": "09:00"}])
    return pub


def _approved(pub, text="Bonjour"):
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=text, accounts=[pub.fr_account])
    return services.submit_post(post, actor=pub.users.fr_cm)


@pytest.mark.django_db
def test_queue_takes_the_next_free_slots_in_the_units_zone(paris):
    now = at(2030, 3, 24, 12)  # a Sunday, a week before the clocks go forward
    a, b = _approved(paris, "A"), _approved(paris, "B")
    draft = services.create_post(actor=paris.users.fr_cm, unit=paris.france, text="C", accounts=[paris.fr_account])
    a = services.queue_post(a, actor=paris.users.fr_cm, now=now)
    assert a.state == PostState.SCHEDULED and a.scheduled_at == at(2030, 3, 25, 8)  # Monday 09:00 CET
    b = services.queue_post(b, actor=paris.users.fr_cm, now=now)
    assert b.scheduled_at == at(2030, 3, 27, 8)  # Wednesday 09:00 CET
    draft = services.queue_post(draft, actor=paris.users.fr_cm, now=now)
    assert draft.state == PostState.DRAFT and draft.scheduled_at == at(2030, 4, 1, 7)  # Monday 09:00 CEST
    assert services.local_schedule(draft).replace(tzinfo=None) == dt.datetime(2030, 4, 1, 9, 0)
    services.cancel_post(b, actor=paris.users.fr_cm)  # its slot is free again
    c = services.queue_post(_approved(paris, "D"), actor=paris.users.fr_cm, now=now)
    assert c.scheduled_at == at(2030, 3, 27, 8)


@pytest.mark.django_db
def test_queue_needs_slots_and_permission(pub):
    post = _approved(pub)
    with pytest.raises(InvalidPost) as err:
        services.queue_post(post, actor=pub.users.fr_cm)
    assert err.value.field == "slots"
    services.update_settings(pub.france, actor=pub.users.fr_admin, slots=[{"weekday": 0, "time": "09:00"}])
    with pytest.raises(PermissionDeniedError):
        services.queue_post(post, actor=pub.users.es_agent)
    with pytest.raises(InvalidRule):
        services.update_settings(pub.france, actor=pub.users.fr_admin, slots=[{"weekday": 0, "time": "9am"}])
    with pytest.raises(InvalidRule):
        services.update_settings(pub.france, actor=pub.users.fr_admin, timezone_name="Mars/Olympus")


@pytest.mark.django_db
def test_queue_button_and_settings_page(paris, client_for, api_for):
    post = _approved(paris)
    c = client_for(paris.users.fr_cm)
    assert 'id="queue-post"' in c.get(post.get_absolute_url()).content.decode()
    r = c.post(reverse("publishing:post-action", args=[post.pk, "queue"]), follow=True,
               HTTP_ACCEPT_LANGUAGE="fr")
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED and post.scheduled_at.astimezone(dt.UTC).hour in (7, 8)
    assert "Ajouté à la file" in r.content.decode()
    r = api_for(paris.users.fr_cm).post(f"/api/v1/posts/{_approved(paris, 'E').pk}/queue/")
    assert r.status_code == 200 and r.json()["state"] == "scheduled"

    url = reverse("publishing:settings", args=[paris.france.pk])
    assert client_for(paris.users.fr_cm).get(url).status_code == 403  # community managers do not set them
    admin = client_for(paris.users.fr_admin)
    page = admin.get(url).content.decode()
    assert 'id="inherited"' in page and "mon 09:00" in page  # the hub's, inherited
    r = admin.post(url, {"slots": "tue 10:00\nthu 10:00", "utm_medium": "social", "shorten_links": "on",
                         "timezone": ""})
    assert r.status_code == 302
    conf = services.links.settings_for(paris.france)
    assert conf.unit == paris.france and conf.shorten_links and conf.utm == {"utm_medium": "social"}
    assert conf.slots == [{"weekday": 1, "time": "10:00"}, {"weekday": 3, "time": "10:00"}]
    r = admin.post(url, {"slots": "someday 10:00"})
    assert r.status_code == 200 and "write a day (mon to sun) and a time" in r.content.decode()
