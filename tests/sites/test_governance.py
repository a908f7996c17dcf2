"""The hub's governance of the websites: the template's must-show blocks and pages, the hub's guideline checks on a
page, the admin refusing to delete or unpublish a required page, and the consistency report across sites."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from dandelion.core.actors import SYSTEM
from dandelion.publishing.models import GuidelineRule
from dandelion.sites import governance, services
from dandelion.sites.models import SiteTemplate, WebsitePage
from tests.conftest import org  # noqa: F401

FR_HOST = "fr.localhost"
ES_HOST = "es.localhost"


@pytest.fixture
def sites(org):
    fr = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST)
    es = services.create_site(actor=org.users.hub_admin, unit=org.spain, template="corporate", hostname=ES_HOST)
    return fr, es


def _problems(website, *, key, title="About us", body=(), slug=None):
    body = list(body)
    return services.page_problems(website=website, key=key, title=title, body_types=[b["type"] for b in body],
                                  body_raw=body, new_slug=slug)


HERO = {"type": "hero", "value": {"heading": "Hello", "subheading": ""}}
ACCOUNTS = {"type": "social_accounts", "value": {"heading": "Follow us", "include_parents": True}}


def test_the_home_page_must_show_the_templates_blocks(org, sites):
    fr, _es = sites
    assert _problems(fr, key=governance.HOME, body=[HERO, ACCOUNTS]) == []
    problems = _problems(fr, key=governance.HOME, body=[HERO])
    assert problems == [("body", "The hub's template requires this page to show: social_accounts.")]
    assert _problems(fr, key="about", body=[]) == []  # the about page must show nothing
    assert _problems(fr, key=None, body=[]) == []  # a deeper page: no template rule


def test_a_required_page_keeps_its_address(org, sites):
    fr, _es = sites
    links = {"type": "contact_links", "value": {"heading": "Help", "links": []}}
    assert _problems(fr, key="contact", body=[links], slug="contact") == []
    assert ("slug", "This page is required by the hub's template: its address stays /contact/.") in _problems(
        fr, key="contact", body=[links], slug="help")


def test_the_hubs_blocking_guideline_rules_apply_to_pages(org, sites):
    fr, es = sites
    GuidelineRule.objects.create(unit=org.hub, name="No scams", kind="banned_terms", severity="block",
                                 params={"terms": ["scam"]})
    GuidelineRule.objects.create(unit=org.france, name="Our domains", kind="allowed_link_domains",
                                 severity="block", params={"domains": ["example.org"]})
    GuidelineRule.objects.create(unit=org.hub, name="Careful", kind="sensitive_terms", severity="warn",
                                 params={"terms": ["competitor"]})
    text = {"type": "text", "value": '<p>See <a href="https://evil.test/x">this</a> competitor.</p>'}
    problems = _problems(fr, key="about", title="A scam page", body=[text])
    assert ("title", "Guideline check No scams: Contains 'scam'.") in problems
    assert ("body", "Guideline check Our domains: Links to domains not allowed: evil.test.") in problems
    assert len(problems) == 2  # the warning does not block
    assert _problems(es, key="about", title="About", body=[text]) == []  # France's rule is France's


def test_headings_may_not_skip_a_level(org, sites):
    fr, _es = sites
    good = {"type": "text", "value": "<h2>Who</h2><h3>Where</h3><h2>When</h2>"}
    bad = {"type": "text", "value": "<h2>Who</h2><h4>Where</h4>"}
    assert _problems(fr, key="about", body=[good]) == []
    assert _problems(fr, key="about", body=[bad]) == [
        ("body", "A heading of level 4 follows one of level 2: no level may be skipped.")]


def test_the_admin_keeps_required_pages(org, sites, client_for):
    fr, _es = sites
    hub = client_for(org.users.hub_admin)
    home = fr.site.root_page
    contact = home.get_children().get(slug="contact")
    about = home.get_children().get(slug="about")
    for url in (f"/cms/pages/{contact.pk}/delete/", f"/cms/pages/{contact.pk}/unpublish/"):
        resp = hub.post(url)
        assert resp.status_code == 302 and "/edit/" in resp["Location"], url
    contact.refresh_from_db()
    assert contact.live and WebsitePage.objects.filter(pk=home.pk).exists()
    assert hub.post(f"/cms/pages/{about.pk}/delete/").status_code == 302
    assert not WebsitePage.objects.filter(pk=about.pk).exists()  # a page the template does not require goes


def test_template_must_show_is_validated(org):
    from django.core.exceptions import ValidationError

    template = SiteTemplate.objects.get(name="corporate")
    template.starter_pages = [{"title": "Home", "must_show": ["carousel"], "body": []}]
    with pytest.raises(ValidationError, match="carousel"):
        template.full_clean()
    template.starter_pages = [{"title": "Home", "must_show": ["hero"], "body": []}]
    with pytest.raises(ValidationError, match="lacks: hero"):
        template.full_clean()


def test_the_consistency_report(org, sites, client_for, capsys):
    fr, _es = sites
    assert [r.ok for r in services.consistency_report(user=org.users.hub_admin)] == [True, True]
    home = fr.site.root_page.specific
    home.body = [b for b in home.body.raw_data if b["type"] != "social_accounts"]
    home.save()
    home.get_children().get(slug="contact").delete()
    WebsitePage.objects.filter(pk=home.get_children().get(slug="about").pk).update(owner=None)
    SiteTemplate.objects.filter(name="corporate").update(version=3)
    org.spain.is_active = False
    org.spain.save()

    reports = {r.website.hostname: r for r in services.consistency_report(user=org.users.hub_admin)}
    report = reports[FR_HOST]
    assert report.outdated and report.missing_pages == ["contact"]
    assert report.missing_blocks == [("Welcome", ["social_accounts"])]
    assert report.pages_without_owner == ["About us"]
    assert not report.unit_archived and reports[ES_HOST].unit_archived and reports[ES_HOST].outdated
    assert [r.website.hostname for r in services.consistency_report(user=org.users.fr_admin)] == [FR_HOST]
    assert services.consistency_report(user=org.users.nobody) == []

    html = client_for(org.users.fr_admin).get(reverse("sites:report")).content.decode()
    assert FR_HOST in html and ES_HOST not in html and "Required page missing: /contact/" in html
    assert "lacks social_accounts" in html and "outdated: v3 is current" in html
    assert client_for(org.users.hub_admin).get(reverse("sites:report")).status_code == 200

    call_command("sites", "report")
    out = capsys.readouterr().out
    assert f"{ES_HOST}" in out and "unit archived" in out and "missing page /contact/" in out


def test_social_accounts_block_is_the_registry_of_the_unit_and_parents(org, sites, client):
    from tests.factories import SocialAccountFactory

    SocialAccountFactory(owner_unit=org.europe, network="x", handle="@europe", external_id="x-eu")
    html = client.get("/", HTTP_HOST=FR_HOST).content.decode()
    assert "@europe" in html and "@brand_fr" in html
    acct = services.official_accounts(org.france)
    assert [a.owner_unit.depth for a in acct] == sorted(a.owner_unit.depth for a in acct)
    services.sync_site_permissions(actor=SYSTEM)


def test_a_crisis_banner_is_pushed_to_every_site_of_a_subtree(org, sites, client, capsys):
    from dandelion.core.exceptions import PermissionDeniedError
    from dandelion.core.models import AuditEvent
    from dandelion.sites.exceptions import InvalidSiteData

    with pytest.raises(PermissionDeniedError):  # France's community manager may not speak for Spain
        services.push_crisis_banner(actor=org.users.fr_cm, unit=org.europe, message="Outage")
    with pytest.raises(InvalidSiteData):
        services.push_crisis_banner(actor=org.users.europe_admin, unit=org.europe, message="x", level="panic")
    done = services.push_crisis_banner(actor=org.users.europe_admin, unit=org.europe,
                                       message="Network outage in progress", level="critical")
    assert [w.hostname for w in done] == [ES_HOST, FR_HOST]
    for host in (FR_HOST, ES_HOST):
        assert "Network outage in progress" in client.get("/", HTTP_HOST=host).content.decode()
    assert AuditEvent.objects.filter(action="sites.crisis_banner.push").count() == 2
    services.push_crisis_banner(actor=org.users.fr_cm, unit=org.france, message="Updated: fixed soon")
    home = client.get("/", HTTP_HOST=FR_HOST).content.decode()
    assert "Updated: fixed soon" in home and "Network outage" not in home  # replaced, not stacked
    assert "Network outage in progress" in client.get("/", HTTP_HOST=ES_HOST).content.decode()
    call_command("sites", "crisis-banner", "--unit", "europe", "--message", "")
    assert "block-crisis" not in client.get("/", HTTP_HOST=ES_HOST).content.decode()
    assert "removed on 2 website(s)" in capsys.readouterr().out


def test_a_published_page_is_offered_as_a_social_post_draft(org, sites, client_for):
    from dandelion.publishing.models import Post

    fr, es = sites
    about = fr.site.root_page.get_children().get(slug="about")
    url = reverse("sites:share-page", args=[about.pk])
    cm = client_for(org.users.fr_cm)
    form = cm.get(url).content.decode()
    assert "@brand_fr" in form
    assert "http://fr.localhost/about/" in form, form[form.find("<form"):]
    resp = cm.post(url)
    post = Post.objects.get()
    assert resp.status_code == 302 and resp["Location"] == post.get_absolute_url()
    assert post.unit == org.france and "http://fr.localhost/about/" in post.text
    assert [v.account.handle for v in post.variants.all()] == ["@brand_fr"]
    other = es.site.root_page.get_children().get(slug="about")
    assert cm.post(reverse("sites:share-page", args=[other.pk])).status_code == 403  # Spain's page
    assert Post.objects.count() == 1


def test_the_demo_seeds_the_template_and_the_spokes_sites_once(org, client):
    import datetime as dt

    from dandelion.core.demo import DemoContext
    from dandelion.sites.demo import seed
    from dandelion.sites.models import UnitSite

    demo = DemoContext(now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), units={"france": org.france, "spain": org.spain},
                       hub_admin=org.users.hub_admin)
    seed(demo)
    seed(demo)  # idempotent
    assert demo.counts["websites"] == 2
    assert sorted(UnitSite.objects.values_list("site__hostname", flat=True)) == ["france.localhost",
                                                                                 "spain.localhost"]
    assert "@brand_fr" in client.get("/", HTTP_HOST="france.localhost").content.decode()
    assert all(r.ok for r in services.consistency_report(user=org.users.hub_admin))
