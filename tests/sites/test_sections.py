"""An agency edits one section of a spoke's website: the spoke's admins (or the hub) give it a subtree of pages; the
Wagtail page permissions are derived by the sync, and the matrix is walked on Wagtail's admin."""

from __future__ import annotations

import pytest
from wagtail.models import GroupPagePermission

from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role, UnitKind
from dandelion.sites import services
from dandelion.sites.exceptions import InvalidSiteData
from dandelion.sites.models import SiteSection, WebsitePage
from tests.conftest import org  # noqa: F401
from tests.factories import MembershipFactory, OrgUnitFactory, UserFactory


@pytest.fixture
def world(org):
    fr = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                              hostname="fr.localhost")
    es = services.create_site(actor=org.users.hub_admin, unit=org.spain, template="corporate",
                              hostname="es.localhost")
    agency = OrgUnitFactory(name="Brightside", slug="brightside", kind=UnitKind.AGENCY, parent=org.hub)
    designer = UserFactory(username="designer")
    MembershipFactory(user=designer, unit=agency, role=Role.COMMUNITY_MANAGER)
    about = fr.site.root_page.get_children().get(slug="about").specific
    team = about.add_child(instance=WebsitePage(title="Our team", slug="team"))
    return fr, es, agency, designer, about, team


def _page(website, slug):
    return website.site.root_page.get_children().get(slug=slug).specific


def _edit(client, page) -> int:
    return client.get(f"/cms/pages/{page.pk}/edit/").status_code


def test_only_the_spokes_admins_and_the_hub_give_a_section(org, world):
    fr, _es, agency, _designer, about, _team = world
    for user in (org.users.fr_cm, org.users.es_admin, org.users.fr_agent, org.users.pr):
        with pytest.raises(PermissionDeniedError):
            services.grant_section(actor=user, website=fr, page=about, agency=agency)
    assert not SiteSection.objects.exists()
    section = services.grant_section(actor=org.users.fr_admin, website=fr, page=about, agency=agency)
    assert section.page_id == about.pk and section.granted_by == org.users.fr_admin
    row = AuditEvent.objects.get(action="sites.section.grant")
    assert row.actor == org.users.fr_admin and row.changes["agency"] == [None, "brightside"]
    services.grant_section(actor=org.users.hub_admin, website=fr, page=about, agency=agency)  # unchanged: no row
    assert AuditEvent.objects.filter(action="sites.section.grant").count() == 1


def test_a_section_is_a_page_below_the_home_of_that_site_given_to_an_agency(org, world):
    fr, es, agency, _designer, about, _team = world
    with pytest.raises(InvalidSiteData):  # the whole site is not a section
        services.grant_section(actor=org.users.fr_admin, website=fr, page=fr.site.root_page, agency=agency)
    with pytest.raises(InvalidSiteData):  # another site's page
        services.grant_section(actor=org.users.hub_admin, website=fr, page=_page(es, "about"), agency=agency)
    with pytest.raises(InvalidSiteData):  # a vendor is not an agency
        services.grant_section(actor=org.users.fr_admin, website=fr, page=about, agency=org.vendor)
    assert not SiteSection.objects.exists()


def test_agency_editor_matrix_on_wagtails_admin(org, world, client_for):
    fr, es, agency, designer, about, team = world
    services.grant_section(actor=org.users.fr_admin, website=fr, page=about, agency=agency)
    client = client_for(designer)
    assert _edit(client, about) == 200 and _edit(client, team) == 200  # the section and the pages below it
    assert _edit(client, _page(fr, "contact")) in (302, 403)  # the rest of France's site
    assert _edit(client, fr.site.root_page) in (302, 403)
    assert _edit(client, _page(es, "about")) in (302, 403)  # another spoke's site
    perms = team.permissions_for_user(designer)
    assert perms.can_edit() and not perms.can_publish()  # she submits; the hub approves
    assert not _page(fr, "contact").permissions_for_user(designer).can_edit()
    listing = client.get(f"/cms/pages/{about.get_parent().get_parent().pk}/")  # the tree above the sites
    assert b"es.localhost" not in listing.content and "Contact and help" not in listing.content.decode()
    assert client.get(f"/cms/pages/{es.site.root_page.pk}/").status_code in (302, 403)
    # the France editors keep the whole site; the agency's people are not France's editors
    assert _edit(client_for(org.users.fr_cm), about) == 200
    assert not fr.editors.user_set.filter(pk=designer.pk).exists()


def test_the_sync_derives_the_sections_group_and_undoes_hand_edits(org, world):
    fr, _es, agency, designer, about, _team = world
    section = services.grant_section(actor=org.users.fr_admin, website=fr, page=about, agency=agency)
    group = section.editors
    assert set(group.user_set.all()) == {designer}
    GroupPagePermission.objects.create(group=group, page=fr.site.root_page, permission_type="change")  # by hand
    group.user_set.add(org.users.fr_agent)
    result = services.sync_site_permissions(actor=SYSTEM)
    assert result.removed["fr.localhost [brightside]"] == ["fragent"]
    assert set(GroupPagePermission.objects.filter(group=group).values_list("page_id", flat=True)) == {about.pk}
    newcomer = UserFactory(username="newdesigner")
    MembershipFactory(user=newcomer, unit=agency, role=Role.COMMUNITY_MANAGER)
    services.sync_site_permissions(actor=SYSTEM)
    assert set(group.user_set.all()) == {designer, newcomer}
    assert AuditEvent.objects.filter(action="sites.section.sync").exists()
    assert not services.sync_site_permissions(actor=SYSTEM).changed  # idempotent


def test_moving_and_revoking_a_section(org, world, client_for):
    fr, _es, agency, designer, about, _team = world
    services.grant_section(actor=org.users.fr_admin, website=fr, page=about, agency=agency)
    contact = _page(fr, "contact")
    section = services.grant_section(actor=org.users.fr_admin, website=fr, page=contact, agency=agency)
    assert SiteSection.objects.count() == 1
    client = client_for(designer)
    assert _edit(client, contact) == 200 and _edit(client, about) in (302, 403)
    with pytest.raises(PermissionDeniedError):
        services.revoke_section(actor=org.users.fr_cm, section=section)
    services.revoke_section(actor=org.users.fr_admin, section=section)
    assert not SiteSection.objects.exists() and _edit(client, contact) in (302, 403)
    assert AuditEvent.objects.filter(action="sites.section.revoke").count() == 1


def test_the_sections_page_gives_and_takes_back(org, world, client_for):
    fr, _es, agency, designer, about, team = world
    url = f"/sites/{fr.pk}/sections/"
    admin = client_for(org.users.fr_admin)
    page = admin.get(url)
    assert page.status_code == 200 and b'name="agency"' in page.content and b"Brightside" in page.content
    assert f'value="{team.pk}"'.encode() in page.content  # the site's pages are offered
    assert f'value="{fr.site.root_page.pk}"'.encode() not in page.content  # not the whole site
    cm = client_for(org.users.fr_cm)
    assert cm.get(url).status_code == 200 and b'name="agency"' not in cm.get(url).content  # sees, cannot give
    assert cm.post(url, {"agency": agency.pk, "page": about.pk}).status_code == 403
    assert client_for(org.users.es_admin).get(url).status_code == 404  # another spoke's site
    assert not SiteSection.objects.exists()
    bad = admin.post(url, {"agency": org.vendor.pk, "page": about.pk})
    assert bad.status_code == 200 and not SiteSection.objects.exists()  # a vendor is not offered
    done = admin.post(url, {"agency": agency.pk, "page": about.pk})
    assert done.status_code == 302 and done["Location"] == url
    section = SiteSection.objects.get()
    assert section.page_id == about.pk and b'data-section="brightside"' in admin.get(url).content
    assert _edit(client_for(designer), team) == 200
    revoke = f"/sites/sections/{section.pk}/revoke/"
    assert cm.post(revoke).status_code in (403, 404)
    assert admin.get(revoke).status_code == 200 and SiteSection.objects.exists()  # the confirmation first
    assert admin.post(revoke).status_code == 302 and not SiteSection.objects.exists()
    assert _edit(client_for(designer), team) in (302, 403)
