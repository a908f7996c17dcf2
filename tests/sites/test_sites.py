"""The websites factory: creating a unit's site (service and command), serving it by hostname, and its editors
derived from the org tree, walked on Wagtail's admin."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from wagtail.models import Page, Site

from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.sites import services
from dandelion.sites.exceptions import HostnameTaken, InvalidSiteData, UnknownTemplate
from dandelion.sites.models import SiteTemplate, UnitSite, WebsitePage
from tests.conftest import org  # noqa: F401
from tests.factories import MembershipFactory, SocialAccountFactory, UserFactory

FR_HOST = "fr.localhost"
ES_HOST = "es.localhost"


@pytest.fixture
def sites(org):
    fr = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST)
    es = services.create_site(actor=org.users.hub_admin, unit=org.spain, template="corporate", hostname=ES_HOST)
    return fr, es


def _counts():
    return Site.objects.count(), Page.objects.count(), UnitSite.objects.count()


# --- creating ----------------------------------------------------------------------------------------------------


def test_create_site_builds_the_site_its_pages_and_audit(org):
    website = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                                   hostname="FR.Localhost")
    assert website.hostname == FR_HOST and website.unit == org.france
    assert website.template_version == SiteTemplate.objects.get(name="corporate").version
    home = website.site.root_page.specific
    assert isinstance(home, WebsitePage) and home.live
    children = {p.slug: p for p in home.get_children().live()}
    assert set(children) == {"about", "contact"}
    assert [b.block_type for b in home.body][:2] == ["hero", "text"]
    assert AuditEvent.objects.filter(action="sites.site.create", object_id=str(website.pk)).exists()


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"hostname": FR_HOST}, HostnameTaken),
    ({"template": "nope"}, UnknownTemplate),
    ({"hostname": "not a host!"}, InvalidSiteData),
])
def test_bad_input_is_a_clear_error_and_creates_nothing(org, kwargs, error):
    services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST)
    before = _counts()
    args = {"unit": org.spain, "template": "corporate", "hostname": ES_HOST, **kwargs}
    with pytest.raises(error):
        services.create_site(actor=org.users.hub_admin, **args)
    assert _counts() == before


def test_a_failure_midway_rolls_everything_back(org, monkeypatch):
    before = _counts()

    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "sync_site_permissions", boom)
    with pytest.raises(RuntimeError):
        services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST)
    assert _counts() == before


def test_only_the_hub_creates_sites(org):
    for user in (org.users.fr_admin, org.users.europe_admin, org.users.fr_cm, org.users.analyst):
        with pytest.raises(PermissionDeniedError):
            services.create_site(actor=user, unit=org.france, template="corporate", hostname=FR_HOST)
    assert not UnitSite.objects.exists()


def test_command_creates_and_reports_errors(org):
    call_command("sites", "create", "--unit", "FRANCE", "--template", "corporate", "--hostname", FR_HOST)
    assert UnitSite.objects.get().unit == org.france
    with pytest.raises(CommandError, match="already used"):
        call_command("sites", "create", "--unit", "spain", "--template", "corporate", "--hostname", FR_HOST)
    with pytest.raises(CommandError, match="no active site template named 'glossy'"):
        call_command("sites", "create", "--unit", "spain", "--template", "glossy", "--hostname", ES_HOST)
    with pytest.raises(CommandError, match="no unit"):
        call_command("sites", "create", "--unit", "atlantis", "--template", "corporate", "--hostname", ES_HOST)
    assert UnitSite.objects.count() == 1


def test_ui_create_is_the_hubs(org, client_for):
    assert client_for(org.users.fr_admin).get(reverse("sites:site-create")).status_code == 403
    hub = client_for(org.users.hub_admin)
    resp = hub.post(reverse("sites:site-create"), {"unit": org.spain.pk, "template": "corporate",
                                                   "hostname": ES_HOST})
    assert resp.status_code == 302 and UnitSite.objects.get().hostname == ES_HOST
    again = hub.post(reverse("sites:site-create"), {"unit": org.france.pk, "template": "corporate",
                                                    "hostname": ES_HOST})
    assert again.status_code == 200 and "already used" in again.content.decode()
    listing = client_for(org.users.fr_admin).get(reverse("sites:site-list")).content.decode()
    assert ES_HOST not in listing  # Spain's site is outside France's scope
    assert ES_HOST in hub.get(reverse("sites:site-list")).content.decode()


# --- serving -----------------------------------------------------------------------------------------------------


def test_pages_are_served_by_hostname_with_the_registry_accounts(org, sites, client):
    SocialAccountFactory(owner_unit=org.hub, network="x", handle="@group", external_id="x-group")
    SocialAccountFactory(owner_unit=org.france, network="x", handle="@gone_fr", external_id="x-gone",
                         status="archived")
    SocialAccountFactory(owner_unit=org.france, network="tiktok", handle="@dormant_fr", external_id="tt-fr",
                         status="dormant")
    resp = client.get("/", HTTP_HOST=FR_HOST)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "@brand_fr" in html and "@group" in html  # the unit's and its parents' active accounts
    assert "@brand_es" not in html and "@gone_fr" not in html and "@dormant_fr" not in html
    assert "Welcome" in html and 'href="/_website/tokens.css"' in html
    contact = client.get("/contact/", HTTP_HOST=FR_HOST).content.decode()
    assert "@brand_fr" in contact and "@group" not in contact  # that block lists the unit's own only
    es = client.get("/", HTTP_HOST=ES_HOST).content.decode()
    assert "@brand_es" in es and "@brand_fr" not in es
    css = client.get("/_website/tokens.css", HTTP_HOST=FR_HOST)
    assert css.status_code == 200 and "--site-primary: #0b5cad;" in css.content.decode()


def test_dandelion_keeps_its_own_routes_and_unknown_hosts_404(org, sites, client, client_for):
    assert client.get("/", HTTP_HOST="other.localhost").status_code == 404
    assert client.get("/healthz").status_code == 200
    home = client_for(org.users.hub_admin).get("/")
    assert home.status_code in (200, 302) and "website-main" not in home.content.decode()  # Dandelion's home
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/cms/").status_code == 302  # Wagtail's admin wants a login


def test_cms_csp_is_relaxed_on_its_paths_only(org, sites, client_for):
    hub = client_for(org.users.hub_admin)
    cms = hub.get("/cms/")
    assert cms.status_code == 200 and "'unsafe-inline'" in cms["Content-Security-Policy"]
    assert "'unsafe-inline'" not in hub.get("/").get("Content-Security-Policy", "")


# --- editors from the org tree -------------------------------------------------------------------------------------


def _edit_status(client, website) -> int:
    page = website.site.root_page.get_children().first()
    return client.get(f"/cms/pages/{page.pk}/edit/").status_code


def test_editors_matrix_on_wagtails_admin(org, sites, client_for):
    fr, es = sites
    expect = {  # user: (may edit France's pages, may edit Spain's pages)
        "hub_admin": (True, True), "europe_admin": (True, True), "fr_admin": (True, False), "fr_cm": (True, False),
        "es_admin": (False, True), "fr_agent": (False, False), "pr": (False, False), "analyst": (False, False),
        "moderator": (False, False), "nobody": (False, False),
    }
    for name, (on_fr, on_es) in expect.items():
        client = client_for(getattr(org.users, name))
        got = (_edit_status(client, fr) == 200, _edit_status(client, es) == 200)
        assert got == (on_fr, on_es), name


def test_spoke_editor_edits_own_page_not_another_spokes_and_only_the_hub_publishes(org, sites, client_for):
    fr, es = sites
    client = client_for(org.users.fr_cm)
    page = fr.site.root_page.get_children().get(slug="about").specific
    perms = page.permissions_for_user(org.users.fr_cm)
    assert perms.can_edit() and not perms.can_publish()  # a spoke submits; the hub approves (test_workflow)
    assert page.permissions_for_user(org.users.hub_admin).can_publish()
    other = es.site.root_page.get_children().get(slug="about").specific
    assert not other.permissions_for_user(org.users.fr_cm).can_edit()
    assert client.get(f"/cms/pages/{other.pk}/edit/").status_code in (302, 403)


def test_sync_follows_memberships_and_undoes_hand_edits(org, sites):
    fr, _es = sites
    newcomer = UserFactory(username="newcm")
    MembershipFactory(user=newcomer, unit=org.france, role=Role.COMMUNITY_MANAGER)
    fr.editors.user_set.add(org.users.fr_agent)  # added by hand in Wagtail's admin
    result = services.sync_site_permissions(actor=SYSTEM)
    assert result.added[FR_HOST] == ["newcm"] and result.removed[FR_HOST] == ["fragent"]
    assert set(fr.editors.user_set.values_list("username", flat=True)) == {
        "hubadmin", "euadmin", "fradmin", "frcm", "newcm"}
    row = AuditEvent.objects.filter(action="sites.editors.sync", object_id=str(fr.pk)).latest("pk")
    assert row.changes["added"] == [None, ["newcm"]]
    assert not services.sync_site_permissions(actor=SYSTEM).changed  # idempotent
    org.users.fr_cm.memberships.update(is_active=False)
    services.sync_site_permissions(actor=SYSTEM)
    assert not fr.editors.user_set.filter(pk=org.users.fr_cm.pk).exists()


def test_sync_of_every_site_is_the_hubs(org, sites):
    with pytest.raises(PermissionDeniedError):
        services.sync_site_permissions(actor=org.users.fr_admin)


def test_template_tokens_are_validated(org):
    from django.core.exceptions import ValidationError

    template = SiteTemplate.objects.get(name="corporate")
    template.tokens = {"primary": "red; } body { display:none"}
    with pytest.raises(ValidationError):
        template.full_clean()
    template.tokens = {}
    template.starter_pages = [{"title": "Home", "body": [{"type": "carousel", "value": {}}]}]
    with pytest.raises(ValidationError, match="carousel"):
        template.full_clean()
