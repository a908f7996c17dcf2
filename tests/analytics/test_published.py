"""Publishing performance on the dashboard: posts sent and short-link clicks per account and unit, scoped to what
the viewer may see, narrowed by the dashboard's filters, as a chart, a table, CSV and XLSX."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse

from dandelion.analytics import filters, published
from dandelion.publishing.models import Post, PostVariant, ShortLink
from tests.analytics.conftest import DAY, at

pytestmark = pytest.mark.django_db


def _post(account, *, unit, sent_at, state="sent", clicks=()):
    post = Post.objects.create(unit=unit, text="Hello", state="published", published_at=sent_at)
    variant = PostVariant.objects.create(post=post, account=account, state=state, sent_at=sent_at)
    for i, n in enumerate(clicks):
        ShortLink.objects.create(code=f"c{post.pk}x{i}", post=post, variant=variant,
                                 target_url="https://example.org/", clicks=n)
    return variant


@pytest.fixture
def posts(org):
    _post(org.fr_account, unit=org.france, sent_at=at(DAY, 9), clicks=(5, 2))
    _post(org.fr_account, unit=org.france, sent_at=at(DAY - dt.timedelta(days=1), 23, 59), clicks=(1,))
    _post(org.es_account, unit=org.spain, sent_at=at(DAY, 8), clicks=(10,))
    # not counted: failed, and sent the day after the period
    _post(org.fr_account, unit=org.france, sent_at=at(DAY, 10), state="failed", clicks=(99,))
    _post(org.es_account, unit=org.spain, sent_at=at(DAY + dt.timedelta(days=1), 0, 0), clicks=(50,))
    return org


def _period(**extra):
    return {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY), **extra}


def _perf(user, **params):
    return published.performance(user, filters.resolve(user, _period(**params)))


def test_hub_sees_every_spoke_and_a_spoke_only_its_own(posts):
    hub = _perf(posts.users.hub_admin)
    assert (hub["posts"], hub["clicks"], hub["links"]) == (3, 18, 4)
    assert [(a["label"], a["posts"], a["clicks"], a["clicks_per_post"]) for a in hub["by_account"]] == [
        ("facebook · @brand_fr", 2, 8, 4.0), ("instagram · @brand_es", 1, 10, 10.0)]
    assert {u["label"]: u["posts"] for u in hub["by_unit"]} == {"France": 2, "Spain": 1}
    assert hub["engagement"] is None  # no connector reported engagement: "not reported", never 0
    series = {r["day"]: (r["posts"], r["clicks"]) for r in hub["series"]}
    assert len(series) == 7 and series[str(DAY)] == (2, 17) and series[str(DAY - dt.timedelta(days=1))] == (1, 1)
    fr = _perf(posts.users.fr_admin)
    assert (fr["posts"], fr["clicks"]) == (2, 8) and [u["label"] for u in fr["by_unit"]] == ["France"]
    es = _perf(posts.users.es_admin)
    assert (es["posts"], es["clicks"]) == (1, 10)
    # a user without the analytics permission gets nothing, whatever the publishing rows
    assert published.variants_for(posts.users.nobody, filters.Scope(
        queryset=None, label="", period=filters.parse_period(*_period().values()))).count() == 0


def test_filters_narrow_the_posts(posts):
    hub = posts.users.hub_admin
    assert _perf(hub, network="instagram")["posts"] == 1
    assert _perf(hub, unit=posts.france.pk)["clicks"] == 8
    assert _perf(hub, account=posts.es_account.pk)["by_account"][0]["account_id"] == posts.es_account.pk
    assert _perf(hub, start=str(DAY + dt.timedelta(days=1)), end=str(DAY + dt.timedelta(days=1)))["clicks"] == 50
    # posts have no team nor language: the figures do not apply rather than silently showing every post
    assert not published.applies(filters.resolve(hub, _period(team=posts.fr_team.pk)))
    assert not published.applies(filters.resolve(hub, _period(language="fr")))
    assert published.applies(filters.resolve(hub, _period(network="facebook")))


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_dashboard_shows_charts_tables_and_downloads(posts, client_for):
    client = client_for(posts.users.hub_admin)
    page = client.get(reverse("analytics:dashboard"), _period())
    html = page.content.decode()
    assert page.status_code == 200 and 'data-test="published"' in html
    assert 'data-chart="chart-published"' in html and 'id="chart-published-accounts"' in html
    assert "@brand_es" in html and "not reported" in html
    csv = _body(client.get(reverse("analytics:dashboard"), _period(format="csv", table="published-accounts")))
    lines = csv.splitlines()
    assert lines[0] == ("label,posts,links,clicks,clicks_per_post,engagement,likes,replies,reposts,"
                        "engagement_per_post,followers")
    # no connector reported engagement nor followers: empty cells ("not reported"), never 0
    assert lines[1] == "facebook · @brand_fr,2,3,8,4.0,,,,,," and lines[2] == "instagram · @brand_es,1,1,10,10.0,,,,,,"
    units = _body(client.get(reverse("analytics:dashboard"), _period(format="csv", table="published-units")))
    assert "France,2,3,8,4.0" in units and "Spain" in units
    # Spain's admin: Spain's posts only, in the page and the download
    es = client_for(posts.users.es_admin)
    es_html = es.get(reverse("analytics:dashboard"), _period()).content.decode()
    assert "@brand_es" in es_html and "@brand_fr" not in es_html
    assert "@brand_fr" not in _body(es.get(reverse("analytics:dashboard"),
                                           _period(format="csv", table="published-accounts")))
    team = client.get(reverse("analytics:dashboard"), _period(team=posts.fr_team.pk)).content.decode()
    assert 'data-test="published"' not in team and 'data-test="published-na"' in team


def test_xlsx_has_the_publishing_sheets(posts, client_for):
    from openpyxl import load_workbook

    response = client_for(posts.users.hub_admin).get(reverse("analytics:dashboard"), _period(format="xlsx"))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    book = load_workbook(io.BytesIO(content))
    sheet = book[book.sheetnames[-2]]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:5] == ["label", "posts", "links", "clicks", "clicks_per_post"] and rows[1][:4] == [
        "facebook · @brand_fr", 2, 3, 8]


def test_api_dashboard_carries_the_publishing_figures(posts, api_for):
    hub = api_for(posts.users.hub_admin).get("/api/v1/analytics-dashboard/", _period()).json()
    assert (hub["published"]["posts"], hub["published"]["clicks"]) == (3, 18)
    es = api_for(posts.users.es_admin).get("/api/v1/analytics-dashboard/", _period()).json()
    assert [a["label"] for a in es["published"]["by_account"]] == ["instagram · @brand_es"]
    team = api_for(posts.users.hub_admin).get("/api/v1/analytics-dashboard/", _period(team=posts.fr_team.pk)).json()
    assert team["published"] is None
