"""The campaign pages and the CSV import, page and API, end to end through the test client."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dandelion.publishing import campaigns, services
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import Campaign, Post

pytestmark = pytest.mark.django_db


def local(days: int, hour: int = 10) -> str:
    return (timezone.now() + dt.timedelta(days=days)).strftime(f"%Y-%m-%dT{hour:02d}:00")


def test_hub_creates_spokes_localise_decline_hub_nudges(pub, client_for):
    hub = client_for(pub.users.hub_admin)
    response = hub.post(reverse("publishing:campaign-create"), {
        "unit": pub.hub.pk, "name": "Summer sale", "brief": "Same week everywhere.", "master_text": "Summer!",
        "starts_local": local(2, 0), "ends_local": local(9, 23), "spokes": [pub.france.pk, pub.spain.pk]})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    fr_row, es_row = campaign.spokes.get(unit=pub.france), campaign.spokes.get(unit=pub.spain)

    cm = client_for(pub.users.fr_cm)
    page = cm.get(reverse("publishing:campaign-localise", args=[fr_row.pk]))
    assert "Summer!" in page.content.decode()
    too_early = cm.post(reverse("publishing:campaign-localise", args=[fr_row.pk]),
                        {"accounts": [pub.fr_account.pk], "text": "L'été !", "scheduled_local": local(1)})
    assert too_early.status_code == 200 and "runs from" in too_early.content.decode()
    done = cm.post(reverse("publishing:campaign-localise", args=[fr_row.pk]),
                   {"accounts": [pub.fr_account.pk], "text": "L'été !", "scheduled_local": local(3)})
    post = Post.objects.get(campaign=campaign)
    assert done["Location"] == post.get_absolute_url() and post.unit == pub.france
    services.submit_post(post, actor=pub.users.fr_cm)

    es = client_for(pub.users.es_admin)
    es.post(reverse("publishing:campaign-spoke-action", args=[es_row.pk, "decline"]), {"reason": "Siesta"})
    # France's CM sees only France's row
    mine = cm.get(campaign.get_absolute_url()).content.decode()
    assert f'id="spoke-{fr_row.pk}"' in mine and f'id="spoke-{es_row.pk}"' not in mine
    # the hub sees both, with their statuses and Spain's reason; nothing to nudge
    matrix = hub.get(campaign.get_absolute_url()).content.decode()
    assert 'data-status="scheduled"' in matrix and 'data-status="declined"' in matrix and "Siesta" in matrix
    assert "Nudge" not in matrix
    refused = hub.post(reverse("publishing:campaign-spoke-action", args=[fr_row.pk, "nudge"]), follow=True)
    assert "nothing to nudge" in refused.content.decode()


def test_a_spoke_sees_campaigns_assigned_to_it_in_the_list(pub, client_for):
    now = timezone.now().replace(tzinfo=None)
    campaigns.create_campaign(actor=pub.users.hub_admin, unit=pub.hub, name="Autumn", master_text="x",
                              starts_local=now + dt.timedelta(days=1), ends_local=now + dt.timedelta(days=5),
                              spokes=[pub.france])
    assert "Autumn" in client_for(pub.users.fr_cm).get(reverse("publishing:campaign-list")).content.decode()
    assert "Autumn" not in client_for(pub.users.es_admin).get(reverse("publishing:campaign-list")).content.decode()


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("posts.csv", text.encode(), content_type="text/csv")


def test_import_page_lists_each_bad_line_and_imports_nothing(pub, client_for):
    cm = client_for(pub.users.fr_cm)
    when = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%d 09:00")
    response = cm.post(reverse("publishing:post-import"), {
        "unit": pub.france.pk, "submit": "on",
        "file": _csv(f"accounts,text,scheduled_local\n@brand_fr,Good,{when}\n@ghost,Bad,{when}\n")})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' in body and "@ghost" in body
    assert not Post.objects.exists()
    ok = cm.post(reverse("publishing:post-import"), {
        "unit": pub.france.pk, "submit": "on", "file": _csv(f"accounts,text,scheduled_local\n@brand_fr,Good,{when}\n")})
    assert ok.status_code == 302 and Post.objects.get().state == PostState.SCHEDULED


def test_import_api_answers_422_with_the_lines_or_201(pub, api_for):
    when = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%d 09:00")
    api = api_for(pub.users.fr_cm)
    bad = api.post("/api/v1/posts/import/", {"unit": pub.france.pk, "file": _csv(
        f"accounts,text,scheduled_local\n@brand_fr,Good,{when}\nx:@brand_fr_x,{'y' * 300},{when}\n")},
        format="multipart")
    assert bad.status_code == 422, bad.content
    assert bad.json()["code"] == "invalid_lines"
    assert bad.json()["errors"] == [{"line": 3, "field": "text", "message": bad.json()["errors"][0]["message"]}]
    assert "X (Twitter)" in bad.json()["errors"][0]["message"]
    assert not Post.objects.exists()
    good = api.post("/api/v1/posts/import/", {"unit": pub.france.pk, "file": _csv(
        f"accounts,text,scheduled_local\n@brand_fr,Good,{when}\n")}, format="multipart")
    assert good.status_code == 201 and good.json()["by_state"] == {"scheduled": 1}
    # someone who may not draft: 403 before the file is read; a unit out of scope: 400
    assert api_for(pub.users.analyst).post("/api/v1/posts/import/", {"unit": pub.france.pk, "file": _csv("x")},
                                           format="multipart").status_code == 403
    assert api_for(pub.users.es_admin).post("/api/v1/posts/import/", {"unit": pub.france.pk, "file": _csv("x")},
                                            format="multipart").status_code == 400


def test_campaign_api_matrix_by_campaign(pub, api_for):
    now = timezone.now().replace(tzinfo=None)
    campaign = campaigns.create_campaign(actor=pub.users.hub_admin, unit=pub.hub, name="Autumn", master_text="x",
                                         starts_local=now + dt.timedelta(days=1),
                                         ends_local=now + dt.timedelta(days=5), spokes=[pub.france, pub.spain])
    row = campaign.spokes.get(unit=pub.france)
    made = api_for(pub.users.fr_cm).post(f"/api/v1/campaign-spokes/{row.pk}/localise/",
                                         {"text": "Automne", "variants": [{"account": pub.fr_account.pk}]},
                                         format="json")
    assert made.status_code == 201 and made.json()["campaign"] == campaign.pk
    rows = api_for(pub.users.hub_admin).get(f"/api/v1/campaign-spokes/?campaign={campaign.pk}").json()["results"]
    assert {r["unit_name"]: r["status"] for r in rows} == {"France": "drafting", "Spain": "not_started"}
    assert [r["unit_name"] for r in
            api_for(pub.users.es_admin).get("/api/v1/campaign-spokes/").json()["results"]] == ["Spain"]


def test_the_matrix_page_costs_the_same_queries_for_more_spokes(pub, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import OrgUnitFactory

    now = timezone.now().replace(tzinfo=None)
    extra = [OrgUnitFactory(name=f"Spoke {i}", slug=f"spoke{i}", parent=pub.europe) for i in range(4)]

    def cost(spokes):
        campaign = campaigns.create_campaign(actor=pub.users.hub_admin, unit=pub.hub, name="C", master_text="x",
                                             starts_local=now + dt.timedelta(days=1),
                                             ends_local=now + dt.timedelta(days=5), spokes=spokes)
        for row in campaign.spokes.filter(unit__in=[pub.france, pub.spain]):
            campaigns.localise_campaign(row, actor=pub.users.hub_admin,
                                        accounts=[pub.fr_account if row.unit == pub.france else pub.es_account])
        hub = client_for(pub.users.hub_admin)
        hub.get(campaign.get_absolute_url())  # warm the session and the grants
        with CaptureQueriesContext(connection) as ctx:
            assert hub.get(campaign.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    assert cost([pub.france, pub.spain]) == cost([pub.france, pub.spain, *extra])
