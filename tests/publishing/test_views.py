import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dandelion.publishing import services
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import Post

pytestmark = pytest.mark.django_db


def test_editor_creates_a_draft(pub, client_for):
    c = client_for(pub.users.fr_cm)
    assert c.get(reverse("publishing:post-create")).status_code == 200
    r = c.post(reverse("publishing:post-create"), {"unit": pub.france.pk, "accounts": [pub.fr_account.pk],
                                                   "text": "Bonjour"})
    post = Post.objects.get()
    assert r.status_code == 302 and r["Location"] == post.get_absolute_url()
    assert c.get(post.get_absolute_url()).status_code == 200


def test_editor_errors_name_the_network_and_save_nothing(pub, client_for):
    c = client_for(pub.users.fr_cm)
    r = c.post(reverse("publishing:post-create"), {"unit": pub.france.pk, "accounts": [pub.fr_short.pk],
                                                   "text": "x" * 300})
    assert r.status_code == 200 and "Too long for X (Twitter) @brand_fr_x: 300 of 280" in r.content.decode()
    pub.france.timezone = "Europe/Paris"
    pub.france.save()
    r = c.post(reverse("publishing:post-create"), {"unit": pub.france.pk, "accounts": [pub.fr_account.pk],
                                                   "text": "ok", "scheduled_local": "2030-03-31T02:30"})
    assert "does not exist in Europe/Paris" in r.content.decode()
    assert not Post.objects.exists()


def test_live_check_partial(pub, client_for):
    services.create_rule(actor=pub.users.hub_admin, unit=pub.hub, name="Rivals", kind="banned_terms",
                         params={"terms": ["Globex"]})
    c = client_for(pub.users.fr_cm)
    r = c.post(reverse("publishing:post-check"), {"unit": pub.france.pk, "text": "Globex " + "a" * 280,
                                                  "accounts": [pub.fr_account.pk, pub.fr_short.pk, pub.es_account.pk]},
               headers={"HX-Request": "true"})
    body = r.content.decode()
    assert r.status_code == 200 and 'data-severity="block"' in body and "Rivals" in body
    assert "287/280" in body and "@brand_es" not in body  # Spain's account is not fr_cm's to see


def test_approval_screen_actions(pub, client_for):
    services.create_workflow(actor=pub.users.hub_admin, unit=pub.hub, name="Hub", steps=[{"role": "hub_admin"}])
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Salut", accounts=[pub.fr_account])
    cm = client_for(pub.users.fr_cm)
    cm.post(reverse("publishing:post-action", args=[post.pk, "submit"]))
    post.refresh_from_db()
    assert post.state == PostState.IN_REVIEW
    hub = client_for(pub.hub_reviewer)
    hub.post(reverse("publishing:post-action", args=[post.pk, "request-changes"]), {"comment": ""})
    post.refresh_from_db()
    assert post.state == PostState.IN_REVIEW  # a comment is required
    hub.post(reverse("publishing:post-action", args=[post.pk, "approve"]), {"comment": "ok"})
    future = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    cm.post(reverse("publishing:post-action", args=[post.pk, "schedule"]), {"scheduled_local": future})
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    r = cm.get(reverse("publishing:post-action", args=[post.pk, "cancel"]))
    assert r.status_code == 200 and post.state == PostState.SCHEDULED  # GET asks first
    cm.post(reverse("publishing:post-action", args=[post.pk, "cancel"]))
    post.refresh_from_db()
    assert post.state == PostState.CANCELLED


def test_post_list_query_count_is_pinned(pub, client_for):
    for i in range(3):
        services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=f"Post {i}",
                             accounts=[pub.fr_account, pub.fr_short])
    c = client_for(pub.users.fr_cm)
    c.get(reverse("publishing:post-list"))
    with CaptureQueriesContext(connection) as three:
        assert c.get(reverse("publishing:post-list")).status_code == 200
    for i in range(5):
        services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=f"More {i}", accounts=[pub.fr_account])
    with CaptureQueriesContext(connection) as eight:
        c.get(reverse("publishing:post-list"))
    assert len(eight) == len(three) <= 14


def test_pause_page_and_banner(pub, client_for):
    hub = client_for(pub.users.hub_admin)
    r = hub.post(reverse("publishing:pause-list"), {"unit": pub.france.pk, "reason": ""})
    assert r.status_code == 200 and services.active_pause_for(pub.france) is None
    hub.post(reverse("publishing:pause-list"), {"unit": pub.france.pk, "reason": "Storm"})
    pause = services.active_pause_for(pub.france)
    assert pause is not None
    assert "Publishing is paused for France" in client_for(pub.users.fr_cm).get(
        reverse("publishing:post-list")).content.decode()
    assert "Publishing is paused" not in client_for(pub.users.es_admin).get(
        reverse("publishing:post-list")).content.decode()
    hub.post(reverse("publishing:pause-resume", args=[pause.pk]))
    assert services.active_pause_for(pub.france) is None


def test_calendar_shows_the_month(pub, client_for):
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Calendrier",
                                accounts=[pub.fr_account],
                                scheduled_local=dt.datetime(2031, 5, 14, 10, 0))
    r = client_for(pub.users.fr_cm).get(reverse("publishing:calendar") + "?month=2031-05")
    assert r.status_code == 200 and post.get_absolute_url() in r.content.decode()
    assert client_for(pub.users.fr_cm).get(reverse("publishing:calendar") + "?month=nonsense").status_code == 200


def test_api_create_and_submit_blocked(pub, api_for):
    services.create_rule(actor=pub.users.hub_admin, unit=pub.hub, name="Rivals", kind="banned_terms",
                         params={"terms": ["Globex"]})
    api = api_for(pub.users.fr_cm)
    r = api.post("/api/v1/posts/", {"unit": pub.france.pk, "text": "x" * 290,
                                    "variants": [{"account": pub.fr_short.pk}]}, format="json")
    assert r.status_code == 400 and "X (Twitter)" in str(r.json())
    r = api.post("/api/v1/posts/", {"unit": pub.france.pk, "text": "Mieux que Globex",
                                    "variants": [{"account": pub.fr_account.pk},
                                                 {"account": pub.fr_short.pk, "text": "Court"}]}, format="json")
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    r = api.post(f"/api/v1/posts/{pk}/submit/")
    assert r.status_code == 400 and "Blocked" in str(r.json())
    r = api.post(f"/api/v1/posts/{pk}/checks/")
    assert r.status_code == 200 and r.json()[0]["severity"] == "block"
