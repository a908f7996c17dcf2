"""Publishing and the networks' figures in the rollups: posts and their link clicks on the day they were sent,
engagement as the day's rise of each post's readings, followers gained as the day's rise of the account's count;
sums over days equal the latest readings, a rebuilt day is exact, the blocks agree, the dashboard and the
leaderboard show them (engagement per 1,000 followers per post, growth)."""

from __future__ import annotations

import datetime as dt

import pytest

from dandelion.analytics import filters, reports, services
from dandelion.analytics.models import AccountMetricsDay, DailyRollup, PostEngagementDay
from dandelion.core.actors import SYSTEM
from dandelion.publishing.models import Post, PostVariant, ShortLink
from tests.analytics.conftest import DAY, at

pytestmark = pytest.mark.django_db

D0, D1, D2 = DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1), DAY


def _variant(account, unit, sent_at, external_id):
    post = Post.objects.create(unit=unit, text="Hello", state="published", published_at=sent_at)
    return PostVariant.objects.create(post=post, account=account, state="sent", sent_at=sent_at,
                                      external_id=external_id)


def _reading(variant, day, likes, replies, reposts, quotes=None):
    PostEngagementDay.objects.create(variant=variant, account=variant.account, unit=variant.post.unit, day=day,
                                     likes=likes, replies=replies, reposts=reposts, quotes=quotes,
                                     collected_at=at(day, 18))


def _followers(account, day, count):
    AccountMetricsDay.objects.create(account=account, unit=account.owner_unit, day=day, followers=count,
                                     collected_at=at(day, 18))


@pytest.fixture
def social(org):
    """France posts twice on D0 (one short link, 12 clicks) and once on D2; Spain once on D1. Readings on D0, D1,
    D2 (one with reposts not reported); follower counts on every day (France loses some on D2)."""
    fr, es = org.fr_account, org.es_account
    fr.followers, es.followers = 2000, 500
    fr.save(update_fields=["followers"])
    es.save(update_fields=["followers"])
    org.a = _variant(fr, org.france, at(D0, 9), "p-a")
    org.b = _variant(fr, org.france, at(D0, 15), "p-b")
    org.c = _variant(fr, org.france, at(D2, 10), "p-c")
    org.s = _variant(es, org.spain, at(D1, 11), "p-s")
    ShortLink.objects.create(variant=org.a, code="abc123", target_url="https://example.org/a", clicks=12)
    _reading(org.a, D0, 10, 1, 2)
    _reading(org.b, D0, 4, 0, None)
    _reading(org.a, D1, 25, 3, 5, quotes=1)  # +15 likes, +2 replies, +3 reposts
    _reading(org.s, D1, 8, 2, 1)
    _reading(org.a, D2, 24, 3, 5, quotes=1)  # an unlike: -1
    _reading(org.c, D2, 6, 1, 0)
    for day, fr_count, es_count in ((D0, 1900, 480), (D1, 1950, 490), (D2, 1940, 500)):
        _followers(fr, day, fr_count)
        _followers(es, day, es_count)
    services.rebuild_days(D0, D2, actor=SYSTEM)
    return org


def _day(account, day) -> dict:
    row = DailyRollup.objects.get(account=account, day=day, team__isnull=True, language="")
    return {n: getattr(row, n) for n in ("posts", "link_clicks", "likes", "replies", "reposts", "quotes",
                                         "followers_gained")}


def test_each_day_holds_its_posts_clicks_engagement_rise_and_followers_gained(social):
    fr = social.fr_account
    assert _day(fr, D0) == {"posts": 2, "link_clicks": 12, "likes": 14, "replies": 1, "reposts": 2, "quotes": 0,
                            "followers_gained": 0}  # no earlier count: nothing to rise from
    assert _day(fr, D1) == {"posts": 0, "link_clicks": 0, "likes": 15, "replies": 2, "reposts": 3, "quotes": 1,
                            "followers_gained": 50}
    assert _day(fr, D2) == {"posts": 1, "link_clicks": 0, "likes": 5, "replies": 1, "reposts": 0, "quotes": 0,
                            "followers_gained": -10}
    # over the days, each post's engagement adds up to its latest reading
    total = {n: sum(_day(fr, d)[n] for d in (D0, D1, D2)) for n in ("likes", "replies", "reposts")}
    assert total == {"likes": 24 + 4 + 6, "replies": 3 + 0 + 1, "reposts": 5 + 0 + 0}


def test_rebuilding_a_day_is_exact_after_a_new_reading(social):
    before = _day(social.fr_account, D2)
    PostEngagementDay.objects.filter(variant=social.c, day=D2).update(likes=9)
    assert _day(social.fr_account, D2) == before  # not recomputed yet
    services.rebuild_day(D2, actor=SYSTEM)
    assert _day(social.fr_account, D2)["likes"] == before["likes"] + 3
    services.rebuild_day(D2, actor=SYSTEM)
    assert _day(social.fr_account, D2)["likes"] == before["likes"] + 3  # idempotent


def test_the_dashboard_merges_them_and_the_blocks_agree(social, api_for):
    params = {"start": str(D0), "end": str(D2)}
    data = api_for(social.users.hub_admin).get("/api/v1/analytics-dashboard/", params).json()
    cur = data["current"]
    assert (cur["posts"], cur["link_clicks"], cur["engagement"], cur["followers_gained"]) == (
        4, 12, (24 + 3 + 5) + 4 + (6 + 1) + (8 + 2 + 1), 40 + 20)
    assert cur["engagement_per_post"] == 13.5
    headline = {h["name"]: h for h in data["headline"]}
    assert headline["engagement"]["value"] == 54 and headline["followers_gained"]["value"] == 60
    by_unit = {u["label"]: u for u in data["by_unit"]}
    assert by_unit["France"]["engagement"] == 43 and by_unit["Spain"]["followers_gained"] == 20
    assert [d["posts"] for d in data["series"]] == [2, 1, 1]
    scope = filters.resolve(social.users.hub_admin, params)
    fine = reports.dashboard(scope.queryset, scope.period)
    assert reports.dashboard_for(scope)["current"] == fine["current"]
    # a team filter reads the fine rows: posts carry no team, so none of them count
    team = api_for(social.users.hub_admin).get("/api/v1/analytics-dashboard/",
                                               {**params, "team": social.fr_team.pk}).json()
    assert team["current"]["posts"] == 0


def test_leaderboard_engagement_per_follower_per_post_and_growth(social, api_for, client_for):
    params = {"start": str(D1), "end": str(D2)}
    entries = {e["handle"]: e for e in api_for(social.users.hub_admin)
               .get("/api/v1/analytics-leaderboard/", params).json()["results"]}
    fr, es = entries["@brand_fr"], entries["@brand_es"]
    # France, D1–D2: engagement (15+2+3) + (5+1+0) = 26 over 1 post, 2,000 followers → 13 per 1,000 per post
    assert (fr["posts"], fr["engagement"], fr["engagement_rate"]) == (1, 26, 13.0)
    # growth: 40 gained over the count at the start (2,000 - 40)
    assert fr["followers_gained"] == 40 and fr["growth"] == round(40 / 1960, 4)
    # previous period (D-1, D0): 2 posts, engagement 17 → 4.25 per 1,000 per post: the rate went up
    assert fr["previous_engagement_rate"] == 4.25 and fr["engagement_trend"] == "up"
    assert (es["posts"], es["engagement"], es["engagement_rate"]) == (1, 11, 22.0)
    page = client_for(social.users.hub_admin).get("/analytics/top-properties/", params)
    body = page.content.decode()
    assert page.status_code == 200 and "Engagement per 1,000 followers per post" in body and "13.0" in body


def test_the_collect_job_stores_quotes_and_the_next_rebuild_counts_them(org):
    from dandelion.connectors import fake
    from dandelion.connectors.base import AccountMetrics, PostMetrics, utcnow

    fake.reset()
    org.fr_account.connector = "fake"
    org.fr_account.save(update_fields=["connector"])
    now = utcnow()
    variant = _variant(org.fr_account, org.france, now, "q-1")  # sent today (UTC), like the reading
    fake.FakeConnector.set_metrics(org.fr_account.pk, AccountMetrics(collected_at=now, followers=10))
    fake.FakeConnector.set_post_metrics(PostMetrics(external_id="q-1", collected_at=now, likes=3, replies=1,
                                                    reposts=0, quotes=2))
    try:
        services.collect_network_metrics(actor=SYSTEM)
    finally:
        fake.reset()
    assert PostEngagementDay.objects.get(variant=variant).quotes == 2
    today = now.date()
    services.rebuild_day(today, actor=SYSTEM)
    assert _day(org.fr_account, today) == {"posts": 1, "link_clicks": 0, "likes": 3, "replies": 1, "reposts": 0,
                                           "quotes": 2, "followers_gained": 0}
