"""The analytics dashboard in real Chromium: Chart.js (served locally) draws every chart under the CSP, each
chart has its table, and the leaderboard links the featured story. Screenshots for a person to look at."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser.conftest import login, shot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_draws_its_charts(page, org):
    from dandelion.analytics import demo
    from dandelion.core.demo import DemoContext
    from dandelion.publishing.models import Post, PostVariant, ShortLink

    demo.seed(DemoContext(now=timezone.now(), units={"france": org.france}, hub_admin=org.users.hub_admin))
    end = timezone.now().date() - dt.timedelta(days=4)
    start = end - dt.timedelta(days=59)
    for i in range(12):  # posts sent every fifth day, with clicks on their short links
        sent = dt.datetime.combine(end - dt.timedelta(days=5 * i), dt.time(9), tzinfo=dt.UTC)
        post = Post.objects.create(unit=org.france, text=f"Post {i}", state="published", published_at=sent)
        variant = PostVariant.objects.create(post=post, account=org.fr_account, state="sent", sent_at=sent)
        ShortLink.objects.create(code=f"b{i}", post=post, variant=variant, target_url="https://example.org/",
                                 clicks=3 * i + 1)
    login(page, "hubadmin")
    page.goto(f"/analytics/?start={start}&end={end}")
    wait_for(page, "typeof Chart === 'function' && document.querySelectorAll('canvas[data-chart]').length === 6"
                   " && [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
    assert page.locator("section.kpis .stat").count() == 10  # the inbox's 8, engagement and followers gained
    assert "Followers gained" in page.inner_text("section.kpis [data-measure=followers_gained]")
    assert page.locator("[data-test=published] .stat").count() == 3
    assert "12" in page.inner_text("[data-test=published] [data-measure=posts]")
    assert "@brand_fr" in page.inner_text("[data-test=published-account]")
    assert "France" in page.inner_text("table.breakdown")
    page.click("[data-test=series-table] summary")
    assert page.locator("[data-test=series-table] tbody tr").count() == 60
    shot(page, "analytics-dashboard")
    from tests.browser.conftest import ARTIFACTS

    page.locator("[data-test=published]").screenshot(path=str(ARTIFACTS / "analytics-dashboard-published.png"))
    with page.expect_download() as info:
        page.click("[data-test=xlsx]")
    assert info.value.suggested_filename == "analytics.xlsx"
    import io
    from pathlib import Path

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), read_only=True)
    assert book.sheetnames == ["Summary", "Daily", "Per unit", "Per account", "Published per account",
                               "Published per unit"]
    assert len(list(book["Daily"].iter_rows())) == 61
    page.goto(f"/analytics/top-properties/?start={start}&end={end}")
    assert page.locator("table.leaderboard tbody tr").count() == 2
    assert page.locator("text=Read the story").count() == 1
    shot(page, "analytics-leaderboard")
    page.goto("/analytics/?start=2026-03-10&end=2026-03-01")
    assert "before the start date" in page.inner_text("[data-test=period-error]")
