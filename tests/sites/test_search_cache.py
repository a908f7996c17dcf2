"""Each website's search (Wagtail search, database backend) finds that site's live pages only; a website's pages
carry cache headers: public for an anonymous page that is the same for everyone, private otherwise."""

from __future__ import annotations

import pytest

from dandelion.sites import services
from tests.conftest import org  # noqa: F401

FR_HOST, ES_HOST = "fr.localhost", "es.localhost"


@pytest.fixture
def sites(org, django_capture_on_commit_callbacks):
    fr = services.create_site(
        actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST
    )
    es = services.create_site(
        actor=org.users.hub_admin, unit=org.spain, template="corporate", hostname=ES_HOST
    )
    about = es.site.root_page.get_children().get(slug="about").specific
    about.body = [{"type": "text", "value": "<p>Paella masterclass in Valencia.</p>"}]
    with django_capture_on_commit_callbacks(execute=True):  # the search index is updated once committed
        about.save_revision(user=None).publish(skip_permission_checks=True)
    draft = fr.site.root_page.get_children().get(slug="about").specific
    draft.body = [{"type": "text", "value": "<p>Secret ratatouille plan.</p>"}]
    draft.save_revision(user=None)  # a draft: not live, never found
    return fr, es  # no update_index: publishing fills the index (sites.signals.reindex_page)


def test_a_sites_search_finds_its_own_live_pages_only(sites, client):
    es = client.get("/search/", {"q": "paella"}, HTTP_HOST=ES_HOST)
    assert es.status_code == 200 and 'href="/about/"' in es.content.decode()
    fr = client.get("/search/", {"q": "paella"}, HTTP_HOST=FR_HOST).content.decode()
    assert 'href="/about/"' not in fr and "No page matches your search." in fr
    assert (
        "No page matches" in client.get("/search/", {"q": "ratatouille"}, HTTP_HOST=FR_HOST).content.decode()
    )
    assert client.get("/search/", {"q": "x" * 5000}, HTTP_HOST=FR_HOST).status_code == 200  # bounded
    assert client.get("/search/", {"q": "paella"}, HTTP_HOST="nowhere.localhost").status_code == 404


def _found(client, host, q) -> bool:
    body = client.get("/search/", {"q": q}, HTTP_HOST=host).content.decode()
    return "No page matches your search." not in body


def test_publishing_fills_the_search_and_unpublishing_or_deleting_empties_it(sites, client,
                                                                             django_capture_on_commit_callbacks):
    """Nobody runs ``update_index``: a publication is in the site's search once committed, with its new text (the
    old one no longer found), an unpublished or deleted page is no longer found."""
    fr, _es = sites
    page = fr.site.root_page.get_children().get(slug="about").specific
    assert not _found(client, FR_HOST, "bouillabaisse")
    page.body = [{"type": "text", "value": "<p>Bouillabaisse evening in Marseille.</p>"}]
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision(user=None).publish(skip_permission_checks=True)
    assert _found(client, FR_HOST, "bouillabaisse")
    page.body = [{"type": "text", "value": "<p>Cassoulet evening in Toulouse.</p>"}]
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision(user=None).publish(skip_permission_checks=True)
    assert _found(client, FR_HOST, "cassoulet") and not _found(client, FR_HOST, "bouillabaisse")
    with django_capture_on_commit_callbacks(execute=True):
        page.unpublish()
    assert not _found(client, FR_HOST, "cassoulet")
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision(user=None).publish(skip_permission_checks=True)
    assert _found(client, FR_HOST, "cassoulet")
    with django_capture_on_commit_callbacks(execute=True):
        page.delete()
    assert not _found(client, FR_HOST, "cassoulet")
    from wagtail.search.backends import get_search_backend

    assert not list(get_search_backend().search("cassoulet", type(page)))  # gone from the index, not only hidden


def test_pages_carry_cache_headers(sites, client):
    home = client.get("/", HTTP_HOST=FR_HOST)
    assert home["Cache-Control"] == "public, max-age=0, s-maxage=300"
    missing = client.get("/no-such-page/", HTTP_HOST=FR_HOST)
    assert missing.status_code == 404 and missing["Cache-Control"] == "private, no-store"
    assert client.get("/_website/tokens.css", HTTP_HOST=FR_HOST)["Cache-Control"] == "public, max-age=300"


def test_each_site_has_its_own_sitemap(sites, client):
    """``/sitemap.xml`` on a spoke's hostname lists that site's live public pages (Wagtail's sitemaps), none of
    another site's, and is cacheable like its pages."""
    response = client.get("/sitemap.xml", HTTP_HOST=ES_HOST)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    body = response.content.decode()
    assert "<urlset" in body and f"http://{ES_HOST}/about/" in body and FR_HOST not in body
    fr_body = client.get("/sitemap.xml", HTTP_HOST=FR_HOST).content.decode()
    assert f"http://{FR_HOST}/" in fr_body and ES_HOST not in fr_body
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=300"
