"""In real Chromium: the hub creates France's website from the corporate template; France's community manager
edits a page in Wagtail's admin, a guideline check blocks a banned term, Spain's pages are not hers; the page is
live on France's hostname and its home page shows France's official accounts from the registry; the admin offers
to announce the page, which makes a social post draft for France's accounts."""

from __future__ import annotations

import pytest

from dandelion.publishing.models import GuidelineRule, Post
from dandelion.sites import services
from dandelion.sites.models import UnitSite
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _publish(page) -> None:
    """Wagtail's "Publish" sits in the footer's dropdown; the button is clicked as the menu would. Wagtail's
    autosave (500 ms after an edit) is let finish first: publishing over a revision it is saving is a conflict."""
    page.wait_for_timeout(1500)
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.evaluate("document.querySelector('button[name=action-publish]').click()")
    page.wait_for_load_state("networkidle")


def test_hub_creates_a_site_the_spoke_edits_it_under_the_hubs_rules(page, org, live_server):
    GuidelineRule.objects.create(unit=org.hub, name="No scams", kind="banned_terms", severity="block",
                                 params={"terms": ["scam"]})
    port = live_server.url.rsplit(":", 1)[1]

    login(page, "hubadmin")
    page.goto("/sites/new/")
    page.select_option("#id_unit", value=str(org.france.pk))
    page.select_option("#id_template", value="corporate")
    page.fill("#id_hostname", "fr.localhost")
    page.click("form.panel button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "fr.localhost" in page.inner_text("main")
    fr = UnitSite.objects.get(site__hostname="fr.localhost")
    about = fr.site.root_page.get_children().get(slug="about")

    page.context.clear_cookies()
    login(page, "frcm")
    page.goto(f"/cms/pages/{about.pk}/edit/")
    page.fill("#id_title", "About our scam")
    _publish(page)
    assert "Contains 'scam'" in page.content()
    shot(page, "websites-guideline-blocks")
    about.refresh_from_db()
    assert about.title == "About us" and about.live  # nothing saved

    page.fill("#id_title", "About our team")
    _publish(page)
    shot(page, "websites-published")
    about.refresh_from_db()
    assert about.title == "About our team", page.inner_text("main")[:3000]
    assert about.title == "About our team" and about.live
    page.click(f"a[href='/sites/pages/{about.pk}/share/']")  # the admin offers to announce the page
    page.wait_for_load_state("networkidle")
    assert "http://fr.localhost/about/" in page.inner_text("form.panel")
    page.click("form.panel button[type=submit]")
    page.wait_for_load_state("networkidle")
    post = Post.objects.get()
    assert post.unit == org.france and "http://fr.localhost/about/" in post.text

    es = services.create_site(actor=org.users.hub_admin, unit=org.spain, template="corporate",
                              hostname="es.localhost")
    other = es.site.root_page.get_children().get(slug="about")
    page.goto(f"/cms/pages/{other.pk}/edit/")
    assert page.locator("#id_title").count() == 0  # Spain's page is not France's community manager's

    page.goto(f"http://fr.localhost:{port}/about/")
    assert "About our team" in page.inner_text("h1")
    page.goto(f"http://fr.localhost:{port}/")
    accounts = page.inner_text(".website-main")
    assert "@brand_fr" in accounts and "@brand_es" not in accounts
    shot(page, "websites-spoke-home")
