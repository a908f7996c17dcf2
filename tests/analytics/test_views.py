"""The dashboards, the leaderboard and the stories in use: figures, filters, CSV, bad input, empty states."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from dandelion.analytics import services
from dandelion.analytics.models import SuccessStory
from dandelion.core.actors import SYSTEM
from tests.analytics.conftest import DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def rolled(traffic):
    services.rebuild_days(DAY - dt.timedelta(days=7), DAY, actor=SYSTEM)
    return traffic


def _body(response) -> str:
    """A streamed download's text."""
    return b"".join(response.streaming_content).decode()


def _period(**extra):
    return {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY), **extra}


def test_hub_dashboard_rolls_up_every_spoke_and_a_spoke_admin_sees_only_its_subtree(rolled, api_for):
    hub = api_for(rolled.users.hub_admin).get("/api/v1/analytics-dashboard/", _period()).json()
    assert hub["current"]["inbound"] == 5 and hub["current"]["needs_reply"] == 4
    assert hub["current"]["response_rate"] == 0.75
    assert {u["label"] for u in hub["by_unit"]} == {"France", "Spain"}
    fr = api_for(rolled.users.fr_admin).get("/api/v1/analytics-dashboard/", _period()).json()
    assert fr["current"]["inbound"] == 4 and [u["label"] for u in fr["by_unit"]] == ["France"]
    es = api_for(rolled.users.es_admin).get("/api/v1/analytics-dashboard/", _period()).json()
    assert es["current"]["inbound"] == 1
    # France's rows read through Spain's admin: not found, as a missing unit
    assert api_for(rolled.users.es_admin).get("/api/v1/analytics-dashboard/",
                                              _period(unit=rolled.france.pk)).status_code == 404
    rows = api_for(rolled.users.es_admin).get("/api/v1/analytics-rollups/", _period()).json()
    assert {r["account"] for r in rows["results"]} == {rolled.es_account.pk}


def test_filters_and_previous_period(rolled, api_for):
    client = api_for(rolled.users.hub_admin)
    es = client.get("/api/v1/analytics-dashboard/", _period(language="es")).json()
    assert es["current"]["inbound"] == 1 and es["current"]["frt_p50_s"] == pytest.approx(7200, rel=0.05)
    fb = client.get("/api/v1/analytics-dashboard/", _period(network="facebook")).json()
    assert fb["current"]["inbound"] == 4
    later = client.get("/api/v1/analytics-dashboard/", {"start": str(DAY + dt.timedelta(days=1)),
                                                        "end": str(DAY + dt.timedelta(days=7))}).json()
    assert later["empty"] is True and later["previous"]["inbound"] == 5
    inbound = next(h for h in later["headline"] if h["name"] == "inbound")
    assert (inbound["value"], inbound["previous"], inbound["change"]) == (0, 5, -1.0)


@pytest.mark.parametrize("params, message", [
    ({"start": "2026-03-10", "end": "2026-03-01"}, "before the start"),
    ({"start": "10/03/2026"}, "not a date"),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "at most"),
    ({"unit": "abc"}, "must be a number"),
])
def test_bad_input_is_a_clear_error(rolled, client_for, api_for, params, message):
    page = client_for(rolled.users.hub_admin).get(reverse("analytics:dashboard"), params)
    assert page.status_code == 400 and message in page.content.decode()
    api = api_for(rolled.users.hub_admin).get("/api/v1/analytics-dashboard/", params)
    assert api.status_code == 400 and message in str(api.json())


def test_dashboard_page_charts_tables_and_csv(rolled, client_for):
    client = client_for(rolled.users.hub_admin)
    page = client.get(reverse("analytics:dashboard"), _period())
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-chart="chart-volume"' in html and 'id="chart-volume"' in html and "chart.umd.min.js" in html
    assert "France" in html and "Spain" in html and "75.0 %" in html
    csv = _body(client.get(reverse("analytics:dashboard"), _period(format="csv"))).splitlines()
    assert csv[0].startswith("day,inbound,needs_reply,answered") and len(csv) == 8
    assert csv[-1].startswith(f"{DAY},5,4,3,0.75")
    units = _body(client.get(reverse("analytics:dashboard"), _period(format="csv", table="units")))
    assert "France,4,3,2" in units
    empty = client.get(reverse("analytics:dashboard"), {"start": "2025-01-01", "end": "2025-01-31"})
    assert empty.status_code == 200 and 'data-test="empty-state"' in empty.content.decode()


def test_dashboard_with_no_accounts_at_all_is_an_empty_state(org, client_for):
    page = client_for(org.users.hub_admin).get(reverse("analytics:dashboard"))
    assert page.status_code == 200 and 'data-test="empty-state"' in page.content.decode()


def test_leaderboard_peer_groups_badge_and_trend(rolled, api_for, client_for):
    from dandelion.assets.models import SocialAccount

    SocialAccount.objects.filter(pk=rolled.fr_account.pk).update(followers=50_000)
    data = api_for(rolled.users.hub_admin).get("/api/v1/analytics-leaderboard/", _period()).json()["results"]
    by = {e["handle"]: e for e in data}
    assert by["@brand_fr"]["peer_group"].startswith("facebook") and by["@brand_fr"]["rank"] == 1
    assert by["@brand_fr"]["response_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert by["@brand_fr"]["very_responsive"] is False  # 67 % < 90 %
    assert by["@brand_es"]["very_responsive"] is False  # 100 % but 2 h
    page = client_for(rolled.users.hub_admin).get(reverse("analytics:leaderboard"), _period())
    assert page.status_code == 200 and "@brand_fr" in page.content.decode()


def test_very_responsive_badge(org, api_for):
    from tests.analytics.conftest import at, conversation

    for i in range(10):
        conversation(org.fr_account, team=org.fr_team, first_inbound_at=at(DAY, 9 + i), reply_after_s=300)
    services.rebuild_day(DAY, actor=SYSTEM)
    data = api_for(org.users.hub_admin).get("/api/v1/analytics-leaderboard/", _period()).json()["results"]
    assert data[0]["very_responsive"] is True and data[0]["badge_frt_mean_s"] == 300


def test_story_lifecycle_with_frozen_snapshot(rolled, api_for, client_for):
    cm = api_for(rolled.users.fr_cm)
    created = cm.post("/api/v1/success-stories/", {
        "unit": rolled.france.pk, "account": rolled.fr_account.pk, "title": "Evening shift",
        "body": "We **staffed** evenings.", "theme": "responsiveness",
        "before_start": str(DAY - dt.timedelta(days=7)), "before_end": str(DAY - dt.timedelta(days=1)),
        "after_start": str(DAY), "after_end": str(DAY)}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["snapshot"]["after"]["inbound"] == 4 and body["snapshot"]["before"]["inbound"] == 0
    assert "<strong>staffed</strong>" in body["body_html"]
    story = SuccessStory.objects.get(pk=body["id"])
    # the snapshot is frozen: a rebuild that changes the figures does not touch it
    services.rebuild_day(DAY + dt.timedelta(days=1), actor=SYSTEM)
    assert cm.post(f"/api/v1/success-stories/{story.pk}/feature/").status_code == 403  # only the hub features
    assert cm.post(f"/api/v1/success-stories/{story.pk}/submit/").json()["status"] == "submitted"
    hub = api_for(rolled.users.hub_admin)
    assert hub.post(f"/api/v1/success-stories/{story.pk}/feature/").json()["status"] == "featured"
    # featured: every spoke reads it, nobody edits it
    assert api_for(rolled.users.es_admin).get(f"/api/v1/success-stories/{story.pk}/").status_code == 200
    assert cm.patch(f"/api/v1/success-stories/{story.pk}/", {"title": "x"}, format="json").status_code == 409
    page = client_for(rolled.users.hub_admin).get(reverse("analytics:leaderboard"), _period())
    assert story.get_absolute_url() in page.content.decode()  # linked from the property's leaderboard entry


def test_story_needs_figures_to_be_submitted_and_bad_windows_are_refused(rolled, api_for, client_for):
    cm = api_for(rolled.users.fr_cm)
    bad = cm.post("/api/v1/success-stories/", {"unit": rolled.france.pk, "title": "T", "body": "B",
                                               "before_start": "2026-03-05", "before_end": "2026-03-01",
                                               "after_start": "2026-03-06", "after_end": "2026-03-07"},
                  format="json")
    assert bad.status_code == 400 and "before_end" in bad.json().get("errors", bad.json()).__str__()
    draft = cm.post("/api/v1/success-stories/", {"unit": rolled.france.pk, "title": "T", "body": "B"},
                    format="json").json()
    assert cm.post(f"/api/v1/success-stories/{draft['id']}/submit/").status_code == 400
    # the HTML form: create, then the confirmation page, then submit
    web = client_for(rolled.users.fr_cm)
    response = web.post(reverse("analytics:story-create"), {
        "unit": rolled.france.pk, "title": "Moderation playbook", "theme": "moderation", "body": "Rules.",
        "before_start": "2026-03-01", "before_end": "2026-03-07", "after_start": "2026-03-08",
        "after_end": "2026-03-10"})
    assert response.status_code == 302
    story = SuccessStory.objects.get(title="Moderation playbook")
    assert web.get(reverse("analytics:story-submit", args=[story.pk])).status_code == 200  # asks first
    web.post(reverse("analytics:story-submit", args=[story.pk]))
    story.refresh_from_db()
    assert story.status == "submitted"
    listing = web.get(reverse("analytics:story-list"), {"status": "submitted"}).content.decode()
    assert "Moderation playbook" in listing
