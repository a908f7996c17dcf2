"""The broken-link check: internal paths no live page has, external addresses the checker finds broken; each run
replaces the site's findings (idempotent); the spoke's admin sees them, another spoke does not."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.sites import jobs, linkcheck, services
from dandelion.sites.models import BrokenLink
from tests.conftest import org  # noqa: F401

FR_HOST = "fr.localhost"


@pytest.fixture
def fr_site(org):
    return services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST)


def _put_links(website, html: str):
    about = website.site.root_page.get_children().get(slug="about").specific
    about.body = [{"type": "text", "value": html}]
    about.save_revision(user=None).publish(skip_permission_checks=True)
    return about


LINKS = ('<p><a href="/contact/">contact</a> <a href="/gone/">gone</a> <a href="http://fr.localhost/about">self</a>'
         ' <a href="https://dead.example.org/x">dead</a> <a href="https://ok.example.org/">ok</a>'
         ' <a href="mailto:a@b.c">mail</a> <a href="#top">top</a></p>')


def fake_checker(asked):
    def check(url):
        asked.append(url)
        return "HTTP 404" if "dead" in url else None
    return check


def test_links_of_reads_rich_text_and_url_fields():
    body = [{"type": "text", "value": '<a href="/a/">a</a><a href=\'https://x.org\'>x</a>'},
            {"type": "call_to_action", "value": {"label": "Go", "url": "https://help.example.org/"}},
            {"type": "contact_links", "value": {"links": [{"label": "w", "url": "/a/"}]}}]
    assert linkcheck.links_of(body) == ["/a/", "https://x.org", "https://help.example.org/"]
    assert linkcheck.kind_of("mailto:x@y", "h") == "skip" and linkcheck.kind_of("//evil.org/", "h") == "external"


def test_check_finds_internal_and_external_broken_links_and_is_idempotent(org, fr_site):
    about = _put_links(fr_site, LINKS)
    asked = []
    found = services.check_site_links(actor=org.users.fr_admin, website=fr_site, checker=fake_checker(asked))
    assert {(f.page_id, f.url) for f in found} == {(about.pk, "/gone/"), (about.pk, "https://dead.example.org/x")}
    # the starter pages' help links are external too: asked once each, however many pages carry them
    assert len(asked) == len(set(asked)) and "https://ok.example.org/" in asked
    rows = list(BrokenLink.objects.filter(website=fr_site).values_list("url", "reason"))
    assert sorted(rows) == [("/gone/", "no live page at this address on the site"),
                            ("https://dead.example.org/x", "HTTP 404")]
    services.check_site_links(actor=SYSTEM, website=fr_site, checker=fake_checker([]))
    assert sorted(BrokenLink.objects.filter(website=fr_site).values_list("url", "reason")) == rows  # same rows
    _put_links(fr_site, '<p><a href="/contact/">contact</a></p>')  # fixed
    services.check_site_links(actor=SYSTEM, website=fr_site, checker=fake_checker([]))
    assert not BrokenLink.objects.filter(website=fr_site).exists()
    fr_site.refresh_from_db()
    assert fr_site.links_checked_at is not None
    assert AuditEvent.objects.filter(action="sites.links.check", object_id=str(fr_site.pk)).count() == 3


def test_only_the_sites_editors_run_the_check(org, fr_site):
    for user in (org.users.es_admin, org.users.fr_agent, org.users.analyst):
        with pytest.raises(PermissionDeniedError):
            services.check_site_links(actor=user, website=fr_site, checker=fake_checker([]))


def test_the_job_checks_a_site_and_skips_a_deleted_one(org, fr_site, monkeypatch):
    _put_links(fr_site, '<p><a href="/gone/">gone</a></p>')
    monkeypatch.setattr(linkcheck.HttpChecker, "check", lambda self, url: linkcheck.Answer(None))  # no network in tests
    assert jobs.check_site_links.call(fr_site.pk) == {"website": fr_site.pk, "broken": 1}
    assert jobs.check_site_links.call(fr_site.pk) == {"website": fr_site.pk, "broken": 1}  # safe to run twice
    assert BrokenLink.objects.filter(website=fr_site).count() == 1
    assert jobs.check_site_links.call(987654)["skipped"]
    assert jobs.check_all_site_links.call() == {"checked": 1, "failed": 0}


def test_the_spoke_admin_sees_the_results_another_spoke_does_not(org, fr_site, client_for, monkeypatch):
    _put_links(fr_site, '<p><a href="/gone/">gone</a></p>')
    services.check_site_links(actor=SYSTEM, website=fr_site, checker=fake_checker([]))
    url = reverse("sites:links", args=[fr_site.pk])
    page = client_for(org.users.fr_admin).get(url)
    assert page.status_code == 200 and "/gone/" in page.content.decode() and 'id="check-links"' in page.content.decode()
    listing = client_for(org.users.fr_admin).get(reverse("sites:site-list")).content.decode()
    assert "1 broken" in listing
    assert client_for(org.users.es_admin).get(url).status_code == 404  # outside Spain's scope
    assert client_for(org.users.es_admin).post(url).status_code == 404
    viewer = client_for(org.users.analyst).get(url)  # sees every site (a grant on the hub), may not run the check
    assert viewer.status_code == 200 and 'id="check-links"' not in viewer.content.decode()
    assert client_for(org.users.analyst).post(url).status_code == 403
    assert client_for(org.users.fr_agent).get(url).status_code == 404  # a helper agent sees its queue only
    monkeypatch.setattr(linkcheck.HttpChecker, "check", lambda self, url: linkcheck.Answer(None))
    resp = client_for(org.users.fr_admin).post(url)
    assert resp.status_code == 302


def test_the_results_page_speaks_french(org, fr_site, client_for):
    _put_links(fr_site, '<p><a href="/gone/">gone</a></p>')
    services.check_site_links(actor=SYSTEM, website=fr_site, checker=fake_checker([]))
    with translation.override("en"):  # the request activates French; the next test gets English back
        html = client_for(org.users.fr_admin).get(reverse("sites:links", args=[fr_site.pk]),
                                                  HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Liens cassés de fr.localhost" in html and "aucune page en ligne à cette adresse sur le site" in html
