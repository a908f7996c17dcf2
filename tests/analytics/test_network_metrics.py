"""Network metrics persisted: followers per account per day and engagement per published post per day, read
through the account's connector (the registry names it; accounts whose connector lacks the metrics capability are
skipped), stored idempotently, shown on the dashboard, in the downloads and the API (no "not reported" where data
exists)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from dandelion.analytics import filters, jobs, published, services
from dandelion.analytics.models import AccountMetricsDay, PostEngagementDay
from dandelion.connectors import fake
from dandelion.connectors.base import AccountMetrics, PostMetrics, utcnow
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing.models import Post, PostVariant
from tests.analytics.conftest import DAY, at

pytestmark = pytest.mark.django_db


def _variant(account, unit, sent_at, external_id):
    post = Post.objects.create(unit=unit, text="Hello", state="published", published_at=sent_at)
    return PostVariant.objects.create(
        post=post, account=account, state="sent", sent_at=sent_at, external_id=external_id
    )


@pytest.fixture
def network(org):
    """France's account on the fake connector (metrics, posts' engagement); Spain's on RSS (no metrics)."""
    fake.reset()
    org.fr_account.connector = "fake"
    org.fr_account.save(update_fields=["connector"])
    org.es_account.connector = "rss"
    org.es_account.save(update_fields=["connector"])
    now = utcnow()
    org.fr_post = _variant(org.fr_account, org.france, now - dt.timedelta(hours=3), "net-1")
    org.fr_old = _variant(org.fr_account, org.france, now - dt.timedelta(days=90), "net-old")
    org.es_post = _variant(org.es_account, org.spain, now - dt.timedelta(hours=2), "net-es")
    fake.FakeConnector.set_metrics(
        org.fr_account.pk, AccountMetrics(collected_at=now, followers=5400, posts=12)
    )
    fake.FakeConnector.set_post_metrics(
        PostMetrics(external_id="net-1", collected_at=now, likes=30, replies=4, reposts=None)
    )
    yield org
    fake.reset()


def test_the_job_stores_followers_and_engagement_once_per_day(network):
    counts = services.collect_network_metrics(actor=SYSTEM)
    assert counts == {"accounts": 1, "posts": 1, "skipped": 1, "failed": 0}
    row = AccountMetricsDay.objects.get()
    assert (row.account_id, row.unit_id, row.followers, row.following, row.posts) == (
        network.fr_account.pk,
        network.france.pk,
        5400,
        None,
        12,
    )
    post = PostEngagementDay.objects.get()
    # reposts not reported stays None, never 0; the post older than the window is not asked about
    assert (post.variant_id, post.likes, post.replies, post.reposts, post.total) == (
        network.fr_post.pk,
        30,
        4,
        None,
        34,
    )
    # again the same day: the readings are replaced, not added
    fake.FakeConnector.set_post_metrics(
        PostMetrics(external_id="net-1", collected_at=utcnow(), likes=31, replies=4, reposts=2)
    )
    assert jobs.collect_network_metrics.call()["posts"] == 1
    assert AccountMetricsDay.objects.count() == 1 and PostEngagementDay.objects.get().likes == 31
    # another day: one more row each
    services.collect_network_metrics(actor=SYSTEM, today=utcnow().date() + dt.timedelta(days=1))
    assert AccountMetricsDay.objects.count() == 2 and PostEngagementDay.objects.count() == 2
    assert AuditEvent.objects.filter(action="analytics.collect_metrics").count() == 3
    with pytest.raises(PermissionDeniedError):
        services.collect_network_metrics(actor=network.users.fr_admin)


def test_a_connector_error_fails_that_account_alone(network):
    fake.FakeConnector.fail_next(1, permanent=False)
    counts = services.collect_network_metrics(actor=SYSTEM)
    assert counts["failed"] == 1 and AccountMetricsDay.objects.count() == 0


def test_dashboards_exports_and_api_show_the_stored_figures(network, client_for, api_for):
    services.collect_network_metrics(actor=SYSTEM)
    today = utcnow().date()
    period = {"start": str(today - dt.timedelta(days=6)), "end": str(today)}
    hub = published.performance(network.users.hub_admin, filters.resolve(network.users.hub_admin, period))
    assert (hub["engagement"], hub["likes"], hub["replies"], hub["reposts"], hub["reported_posts"]) == (
        34,
        30,
        4,
        None,
        1,
    )
    by_account = {a["label"]: a for a in hub["by_account"]}
    fr, es = by_account["facebook · @brand_fr"], by_account["instagram · @brand_es"]
    assert (fr["engagement"], fr["engagement_per_post"], fr["followers"]) == (34, 34.0, 5400)
    assert es["engagement"] is None and es["followers"] is None  # RSS reports nothing: "not reported"
    # a spoke sees its own only
    spain = published.performance(network.users.es_admin, filters.resolve(network.users.es_admin, period))
    assert spain["engagement"] is None and [a["label"] for a in spain["by_account"]] == [
        "instagram · @brand_es"
    ]
    client = client_for(network.users.hub_admin)
    html = client.get(reverse("analytics:dashboard"), period).content.decode()
    assert '<td data-test="engagement">34</td>' in html and "5400" in html
    csv = b"".join(
        client.get(
            reverse("analytics:dashboard"), {**period, "format": "csv", "table": "published-accounts"}
        ).streaming_content
    ).decode()
    assert "facebook · @brand_fr,1,0,0,0.0,34,30,4,,34.0,5400" in csv.splitlines()
    api = api_for(network.users.hub_admin).get("/api/v1/analytics-dashboard/", period).json()
    assert api["published"]["engagement"] == 34 and api["published"]["by_account"][0]["followers"] == 5400


def test_a_period_before_any_reading_is_not_reported(network):
    services.collect_network_metrics(actor=SYSTEM)
    past = {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY)}
    _variant(network.fr_account, network.france, at(DAY, 9), "net-past")
    hub = published.performance(network.users.hub_admin, filters.resolve(network.users.hub_admin, past))
    assert hub["posts"] == 1 and hub["engagement"] is None
