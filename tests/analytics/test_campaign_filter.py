"""The campaign filter: the dashboards' publishing figures (page, downloads, API) narrowed to the posts of one
publishing campaign; a campaign the viewer does not see, or none, is a clear 400 (the same for both)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dandelion.analytics import filters, published
from dandelion.publishing.models import Campaign, CampaignSpoke, Post, PostVariant
from tests.analytics.conftest import DAY, at

pytestmark = pytest.mark.django_db

PERIOD = {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY)}
MESSAGE = "No such campaign"


def _sent(account, unit, campaign=None):
    post = Post.objects.create(
        unit=unit, text="Hello", state="published", published_at=at(DAY, 9), campaign=campaign
    )
    return PostVariant.objects.create(post=post, account=account, state="sent", sent_at=at(DAY, 9))


@pytest.fixture
def campaigns(org):
    org.summer = Campaign.objects.create(
        unit=org.hub,
        name="Summer sale",
        master_text="Sun!",
        starts_at=at(DAY - dt.timedelta(days=10)),
        ends_at=at(DAY + dt.timedelta(days=10)),
    )
    CampaignSpoke.objects.create(campaign=org.summer, unit=org.france)
    org.spanish = Campaign.objects.create(
        unit=org.spain,
        name="Fiesta",
        master_text="¡Hola!",
        starts_at=at(DAY - dt.timedelta(days=10)),
        ends_at=at(DAY + dt.timedelta(days=10)),
    )
    _sent(org.fr_account, org.france, org.summer)
    _sent(org.fr_account, org.france, org.summer)
    _sent(org.fr_account, org.france)  # not in a campaign
    _sent(org.es_account, org.spain, org.spanish)
    return org


def test_the_campaign_narrows_the_publishing_figures(campaigns):
    hub = campaigns.users.hub_admin
    perf = published.performance(hub, filters.resolve(hub, {**PERIOD, "campaign": campaigns.summer.pk}))
    assert perf["posts"] == 2 and [a["label"] for a in perf["by_account"]] == ["facebook · @brand_fr"]
    assert published.performance(hub, filters.resolve(hub, PERIOD))["posts"] == 4
    # France's admin sees the hub's campaign its unit takes part in
    fr = campaigns.users.fr_admin
    assert (
        published.performance(fr, filters.resolve(fr, {**PERIOD, "campaign": campaigns.summer.pk}))["posts"]
        == 2
    )


@pytest.mark.parametrize("who, which", [("hub_admin", None), ("fr_admin", "spanish"), ("fr_admin", "abc")])
def test_an_unknown_or_invisible_campaign_is_a_clear_error(campaigns, client_for, api_for, who, which):
    user = getattr(campaigns.users, who)
    value = {None: 999_999, "abc": "abc"}.get(which) or getattr(campaigns, which).pk
    page = client_for(user).get(reverse("analytics:dashboard"), {**PERIOD, "campaign": value})
    expected = "must be a number" if which == "abc" else MESSAGE
    assert page.status_code == 400 and expected in page.content.decode()
    api = api_for(user).get("/api/v1/analytics-dashboard/", {**PERIOD, "campaign": value})
    assert api.status_code == 400 and expected in str(api.json())
    xlsx = client_for(user).get(
        reverse("analytics:dashboard"), {**PERIOD, "campaign": value, "format": "xlsx"}
    )
    assert xlsx.status_code == 400


def test_page_downloads_and_api_follow_the_campaign(campaigns, client_for, api_for):
    params = {**PERIOD, "campaign": campaigns.summer.pk}
    client = client_for(campaigns.users.hub_admin)
    html = client.get(reverse("analytics:dashboard"), params).content.decode()
    assert 'data-test="campaign-note"' in html and "Summer sale" in html
    book = load_workbook(
        io.BytesIO(client.get(reverse("analytics:dashboard"), {**params, "format": "xlsx"}).content)
    )
    rows = list(book["Published per account"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in rows] == [("facebook · @brand_fr", 2)]
    api = api_for(campaigns.users.hub_admin).get("/api/v1/analytics-dashboard/", params).json()
    assert api["published"]["posts"] == 2 and api["scope"]["campaign"] == campaigns.summer.pk
