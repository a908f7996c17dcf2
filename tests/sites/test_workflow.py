"""The hub approves what the spokes publish: every website follows Wagtail's workflow "Websites: hub approval"
(one group-approval task whose group, the hub's approvers, is derived from memberships on the root unit). A spoke's
editor cannot publish; she submits, the hub approves (the page goes live) or asks for changes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.models import TaskState, WorkflowState

from dandelion.core.actors import SYSTEM
from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.sites import services
from tests.conftest import org  # noqa: F401
from tests.factories import MembershipFactory, UserFactory

FR_HOST = "fr.localhost"


@pytest.fixture
def fr_site(org):
    return services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST)


def _about(website):
    return website.site.root_page.get_children().get(slug="about").specific


def _submit(page, user, title):
    """What Wagtail's editor does on "Submit to Websites: hub approval": a revision, then the page's workflow."""
    page.title = title
    revision = page.save_revision(user=user)
    page.get_workflow().start(page, user)
    return revision


def _approve_url(page):
    state = TaskState.objects.get(workflow_state__object_id=str(page.pk), status=TaskState.STATUS_IN_PROGRESS)
    return f"/cms/pages/workflow/action/{page.pk}/approve/{state.pk}/"


def test_every_site_follows_the_hubs_workflow(org, fr_site):
    page = _about(fr_site)
    workflow = page.get_workflow()
    assert workflow is not None and workflow.name == services.HUB_WORKFLOW
    [task] = [t.specific for t in workflow.tasks]
    assert [g.name for g in task.groups.all()] == [services.HUB_APPROVERS]
    approvers = set(task.groups.get().user_set.values_list("username", flat=True))
    assert approvers == {"hubadmin"}  # the hub admins; not Europe's admin, a spoke's or the PR manager


def test_a_spoke_editor_cannot_publish_directly(org, fr_site):
    page = _about(fr_site)
    revision = page.save_revision(user=org.users.fr_cm)
    with pytest.raises(PermissionDenied):
        revision.publish(user=org.users.fr_cm)
    page.refresh_from_db()
    assert page.title == "About us" and page.live


def test_spoke_submits_hub_approves_and_the_page_goes_live(org, fr_site, client_for, client):
    page = _about(fr_site)
    _submit(page, org.users.fr_cm, "About our team")
    page.refresh_from_db()
    assert page.title == "About us" and page.workflow_in_progress  # not live before the hub approves
    assert "About us" in client.get("/about/", HTTP_HOST=FR_HOST).content.decode()

    url = _approve_url(page)
    for name in ("fr_cm", "fr_admin", "europe_admin", "es_admin"):  # a spoke approves nothing, its own included
        assert client_for(getattr(org.users, name)).post(url).status_code in (302, 403), name
        page.refresh_from_db()
        assert page.title == "About us", name
    resp = client_for(org.users.hub_admin).post(url)
    assert resp.status_code in (200, 302)
    page.refresh_from_db()
    assert page.title == "About our team" and page.live and not page.workflow_in_progress
    assert "About our team" in client.get("/about/", HTTP_HOST=FR_HOST).content.decode()
    assert WorkflowState.objects.get(object_id=str(page.pk)).status == WorkflowState.STATUS_APPROVED


def test_the_hub_asks_for_changes_and_nothing_goes_live(org, fr_site, client_for):
    page = _about(fr_site)
    _submit(page, org.users.fr_cm, "About our hasty draft")
    url = _approve_url(page).replace("/approve/", "/reject/")
    resp = client_for(org.users.hub_admin).post(url, {"comment": "Not yet"})
    assert resp.status_code in (200, 302)
    page.refresh_from_db()
    assert page.title == "About us" and page.live
    assert WorkflowState.objects.get(object_id=str(page.pk)).status == WorkflowState.STATUS_NEEDS_CHANGES


def test_the_approvers_follow_the_hubs_memberships(org, fr_site):
    newcomer = UserFactory(username="newhub")
    MembershipFactory(user=newcomer, unit=org.hub, role=Role.HUB_ADMIN)
    services.sync_site_permissions(actor=SYSTEM)
    group, _workflow = services.hub_workflow()
    assert set(group.user_set.values_list("username", flat=True)) == {"hubadmin", "newhub"}
    group.user_set.add(org.users.fr_admin)  # added by hand in Wagtail's admin: taken back
    services.sync_site_permissions(actor=SYSTEM)
    assert not group.user_set.filter(pk=org.users.fr_admin.pk).exists()
    assert AuditEvent.objects.filter(action="sites.approvers.sync").exists()
    _page = _about(fr_site)
    assert not _page.permissions_for_user(org.users.fr_admin).can_publish()


def test_sync_takes_back_a_publish_permission_given_by_hand(org, fr_site):
    from wagtail.models import GroupPagePermission

    GroupPagePermission.objects.create(group=fr_site.editors, page=fr_site.site.root_page, permission_type="publish")
    assert _about(fr_site).permissions_for_user(org.users.fr_cm).can_publish()
    services.sync_site_permissions(actor=SYSTEM)
    fresh = type(org.users.fr_cm).objects.get(pk=org.users.fr_cm.pk)  # Wagtail caches permissions on the user
    assert not _about(fr_site).permissions_for_user(fresh).can_publish()
