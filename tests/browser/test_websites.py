"""In real Chromium: the hub creates France's website from the corporate template; France's community manager
edits a page in Wagtail's admin and cannot publish it, a guideline check blocks a banned term, she submits it, the
hub approves it in Wagtail's workflow; Spain's pages are not hers; the page is live on France's hostname and its home page shows France's official accounts from the registry; the admin offers
to announce the page, which makes a social post draft for France's accounts."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from dandelion.publishing.models import GuidelineRule, Post
from dandelion.sites import jobs, linkcheck, services
from dandelion.sites.models import UnitSite
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _websites_base(db):
    """A transactional test ends by flushing every table, so the rows the migrations install (Wagtail's root page
    and locale, the hub's ``corporate`` template) are gone for the next test: run after any other browser test,
    this one found no ``corporate`` option to select (a ``select_option`` timeout). They are put back here.
    (Django's ``serialized_rollback`` cannot: its reload collides with the content types the flush recreates.)"""
    from dandelion.sites.defaults import install_base

    install_base()


def _footer_action(page, selector: str) -> None:
    """Wagtail's footer actions ("Submit to ...", "Approve") sit in its dropdown; the button is clicked as the menu
    would. Wagtail's autosave (500 ms after an edit) is let finish first: saving over a revision it is saving is a
    conflict."""
    page.wait_for_timeout(1500)
    page.wait_for_load_state("networkidle")
    assert page.locator(selector).count() == 1, selector
    with page.expect_navigation():
        page.evaluate(f"document.querySelector({selector!r}).click()")
    page.wait_for_load_state("networkidle")


SUBMIT = "button[name=action-submit]"
APPROVE = "button[data-workflow-action-name=approve]:not([data-workflow-action-modal-url])"


def test_hub_creates_a_site_the_spoke_edits_it_under_the_hubs_rules(page, org, live_server, monkeypatch):
    GuidelineRule.objects.create(unit=org.hub, name="No scams", kind="banned_terms", severity="block",
                                 params={"terms": ["scam"]})
    port = live_server.url.rsplit(":", 1)[1]

    login(page, "hubadmin")
    page.goto("/sites/new/")
    options = page.eval_on_selector_all("#id_template option", "els => els.map(e => e.value)")
    assert "corporate" in options, f"the corporate template is missing: {options}"
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
    assert page.locator("button[name=action-publish]").count() == 0  # a spoke submits; the hub publishes
    page.fill("#id_title", "About our scam")
    _footer_action(page, SUBMIT)
    assert "Contains 'scam'" in page.content()
    shot(page, "websites-guideline-blocks")
    about.refresh_from_db()
    assert about.title == "About us" and about.live  # nothing saved

    page.fill("#id_title", "About our team")
    page.get_by_role("tab", name="Settings").click()  # announce it on social media once the hub publishes it
    page.check("#id_share_on_publish")
    page.check(f"input[name=share_accounts][value='{org.fr_account.pk}']")
    assert page.locator(f"input[name=share_accounts][value='{org.es_account.pk}']").count() == 0
    shot(page, "websites-share-on-publish")
    _footer_action(page, SUBMIT)
    about.refresh_from_db()
    assert about.title == "About us" and about.workflow_in_progress  # submitted, not live
    page.goto(f"http://fr.localhost:{port}/about/")
    assert "About us" in page.inner_text("h1")

    page.goto("/")  # Dandelion's pages share the session with Wagtail's admin
    page.context.clear_cookies()
    login(page, "hubadmin")
    page.goto("/cms/")
    assert "About our team" in page.inner_text("main")  # the hub's dashboard: awaiting its review
    shot(page, "websites-hub-review")
    page.goto(f"/cms/pages/{about.pk}/edit/")
    _footer_action(page, APPROVE)
    shot(page, "websites-approved")
    about.refresh_from_db()
    assert about.title == "About our team" and about.live and not about.workflow_in_progress
    announced = Post.objects.get()  # the approval published it: its announcement is a draft in review
    assert announced.unit == org.france and announced.state != "draft"
    assert "http://fr.localhost/about/?utm_source=facebook" in announced.variants.get().text

    page.context.clear_cookies()
    login(page, "frcm")
    page.goto(f"/sites/pages/{about.pk}/share/")  # the spoke announces the approved page
    assert "http://fr.localhost/about/" in page.inner_text("form.panel")
    page.click("form.panel button[type=submit]")
    page.wait_for_load_state("networkidle")
    post = Post.objects.latest("pk")
    assert Post.objects.count() == 2 and post.unit == org.france and "http://fr.localhost/about/" in post.text

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

    # the broken-link check: the spoke's admin starts it from the site's page and reads what it found
    about = about.specific
    about.body = [{"type": "text", "value": '<h2>Who we are</h2><p>See <a href="/old-team/">our old page</a>.</p>'}]
    about.save_revision(user=org.users.hub_admin).publish(user=org.users.hub_admin)
    page.goto("/")
    page.context.clear_cookies()
    login(page, "fradmin")
    page.goto("/sites/")
    page.click(f"a[href='/sites/{fr.pk}/links/']")
    page.wait_for_load_state("networkidle")
    assert "Never checked yet." in page.inner_text("main")
    with page.expect_navigation():
        page.click("#check-links")
    assert "being checked" in page.inner_text("main")
    monkeypatch.setattr(linkcheck.HttpChecker, "check", lambda self, url: linkcheck.Answer(None))  # the job asks no outside server here
    assert DBTaskResult.objects.filter(task_path__endswith="check_site_links").count() == 1
    jobs.check_site_links.call(fr.pk)  # what the worker runs for the enqueued task
    page.reload()
    table = page.inner_text("#broken-links")
    assert "/old-team/" in table and "About our team" in table and "no live page" in table
    shot(page, "websites-broken-links")


def test_the_crisis_room_pushes_the_banner_on_the_websites(page, org, live_server):
    """France's admin, in France's crisis room: the panel says one website will show the banner; the confirmation
    names it; confirmed, the banner is live on fr.localhost's home page."""
    from dandelion.core.actors import SYSTEM
    from dandelion.crisis import services as crisis

    fr = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                              hostname="fr.localhost")
    room = crisis.open_incident(actor=SYSTEM, unit=org.france, title="Outage in France")
    login(page, "fradmin")
    page.goto(room.get_absolute_url())
    panel = page.locator(".sites-crisis-banner")
    assert panel.get_attribute("data-banner-sites") == "1" and "1 website of France" in panel.inner_text()
    panel.locator("textarea[name=message]").fill("Service interrupted: we are on it")
    panel.locator("select[name=level]").select_option("critical")
    shot(page, "websites-crisis-room-panel")
    with page.expect_navigation():
        panel.locator("button[data-action=crisis-banner]").click()
    assert "fr.localhost" in page.inner_text("main") and page.locator("[data-confirm-count='1']").count() == 1
    shot(page, "websites-crisis-banner-confirm")
    with page.expect_navigation():
        page.click("button[data-action=confirm-banner]")
    assert page.url.endswith(room.get_absolute_url()) and "now shows on 1 website" in page.inner_text("body")
    home = fr.site.root_page.specific
    home.refresh_from_db()
    assert home.live and home.body.raw_data[0]["type"] == "crisis_banner"
