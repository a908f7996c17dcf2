"""Services: permission checks, rule violations, one audit row per write, tree moves."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.orgs import exceptions as exc
from dandelion.orgs import services
from dandelion.orgs.choices import Role, TeamKind, UnitKind
from dandelion.orgs.models import Membership, OrgUnit
from tests.factories import MembershipFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def audit_rows(action):
    return list(AuditEvent.objects.filter(action=action))


# --- units -----------------------------------------------------------------------------------------------------
def test_create_unit_writes_path_slug_and_one_audit_row(org):
    unit = services.create_unit(actor=org.users.fr_admin, parent=org.france, name="Île-de-France", kind=UnitKind.REGION,
                                languages=["fr"], timezone="Europe/Paris")
    assert unit.path == f"{org.france.path}{unit.pk}/" and unit.depth == 3
    assert unit.slug == "ile-de-france"
    [row] = audit_rows("orgs.orgunit.create")
    assert row.unit == unit and row.actor == org.users.fr_admin
    assert row.changes["name"] == [None, "Île-de-France"]
    again = services.create_unit(actor=org.users.fr_admin, parent=org.france, name="Ile de France")
    assert again.slug == "ile-de-france-2"


def test_create_unit_outside_scope_or_read_only_is_refused(org):
    with pytest.raises(PermissionDeniedError):
        services.create_unit(actor=org.users.fr_admin, parent=org.spain, name="Catalonia")
    with pytest.raises(PermissionDeniedError):
        services.create_unit(actor=org.users.analyst, parent=org.france, name="Nord")
    assert not AuditEvent.objects.exists()


def test_second_root_is_refused(org):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    with pytest.raises(exc.RootUnitError):
        services.create_unit(actor=admin, parent=None, name="Another hub")


def test_update_unit_records_changes_only(org):
    services.update_unit(actor=org.users.fr_admin, unit=org.france, name="France métropolitaine", country="fr")
    [row] = audit_rows("orgs.orgunit.update")
    assert row.changes == {"name": ["France", "France métropolitaine"]}
    with pytest.raises(exc.DandelionError):
        services.update_unit(actor=org.users.fr_admin, unit=org.france, path="/hack/")


def test_update_unit_duplicate_slug(org):
    with pytest.raises(exc.ConflictError):
        services.update_unit(actor=org.users.hub_admin, unit=org.france, slug="spain")


def test_move_rewrites_whole_subtree_in_bulk(org, django_assert_max_num_queries):
    paris = OrgUnitFactory(name="Paris", slug="paris", parent=org.france)
    left_bank = OrgUnitFactory(name="Left bank", slug="left-bank", parent=paris)
    # the audit row's content type is cached per process: warm it, so the count does not depend on test order
    ContentType.objects.get_for_model(OrgUnit)
    with django_assert_max_num_queries(12):
        services.move_unit(actor=org.users.hub_admin, unit=org.france, new_parent=org.hub)
    for u in (org.france, paris, left_bank):
        u.refresh_from_db()
    assert org.france.parent == org.hub
    assert org.france.path == f"/{org.hub.pk}/{org.france.pk}/" and org.france.depth == 1
    assert paris.path == f"{org.france.path}{paris.pk}/" and paris.depth == 2
    assert left_bank.path == f"{paris.path}{left_bank.pk}/" and left_bank.depth == 3
    [row] = audit_rows("orgs.orgunit.move")
    assert row.changes["parent"] == [org.europe.pk, org.hub.pk]
    # Grants follow: the Europe admin no longer sees France, the France admin still does.
    assert "France" not in {u.name for u in OrgUnit.objects.restrict(get_user_model().objects.get(username="euadmin"))}
    assert {u.name for u in OrgUnit.objects.restrict(get_user_model().objects.get(username="fradmin"))} == {
        "France", "Paris", "Left bank"}


def test_move_under_own_descendant_or_self_is_refused(org):
    with pytest.raises(exc.InvalidMove):
        services.move_unit(actor=org.users.hub_admin, unit=org.europe, new_parent=org.france)
    with pytest.raises(exc.InvalidMove):
        services.move_unit(actor=org.users.hub_admin, unit=org.europe, new_parent=org.europe)
    with pytest.raises(exc.RootUnitError):
        services.move_unit(actor=org.users.hub_admin, unit=org.hub, new_parent=org.europe)


def test_move_needs_rights_on_both_sides(org):
    # The France admin cannot move France (needs the parent), the Europe admin cannot move it out of Europe.
    with pytest.raises(PermissionDeniedError):
        services.move_unit(actor=org.users.fr_admin, unit=org.france, new_parent=org.spain)
    with pytest.raises(PermissionDeniedError):
        services.move_unit(actor=org.users.europe_admin, unit=org.france, new_parent=org.vendor)
    services.move_unit(actor=org.users.europe_admin, unit=org.france, new_parent=org.spain)
    org.france.refresh_from_db()
    assert org.france.parent == org.spain and org.france.depth == 3


def test_deactivate_unit_rules(org):
    with pytest.raises(exc.UnitNotEmpty):
        services.deactivate_unit(actor=org.users.hub_admin, unit=org.europe)
    with pytest.raises(PermissionDeniedError):
        services.deactivate_unit(actor=org.users.fr_admin, unit=org.france)  # the top of their own scope
    with pytest.raises(exc.RootUnitError):
        services.deactivate_unit(actor=org.users.hub_admin, unit=org.hub)
    services.deactivate_unit(actor=org.users.europe_admin, unit=org.france)
    org.france.refresh_from_db()
    assert not org.france.is_active
    assert len(audit_rows("orgs.orgunit.deactivate")) == 1
    # The France admin's grant no longer gives anything.
    fr_admin = get_user_model().objects.get(username="fradmin")
    assert OrgUnit.objects.restrict(fr_admin).count() == 0
    services.reactivate_unit(actor=org.users.europe_admin, unit=org.france)
    org.france.refresh_from_db()
    assert org.france.is_active


# --- teams -----------------------------------------------------------------------------------------------------
def test_team_crud(org):
    team = services.create_team(actor=org.users.fr_admin, unit=org.france, name="FR community",
                                kind=TeamKind.COMMUNITY, languages=["fr", "en"], timezone="Europe/Paris")
    assert team.effective_timezone == "Europe/Paris"
    with pytest.raises(exc.DuplicateTeam):
        services.create_team(actor=org.users.fr_admin, unit=org.france, name="fr community", kind=TeamKind.PR)
    with pytest.raises(PermissionDeniedError):
        services.create_team(actor=org.users.es_admin, unit=org.france, name="X", kind=TeamKind.PR)
    services.update_team(actor=org.users.fr_admin, team=team, languages=["fr"])
    [row] = audit_rows("orgs.team.update")
    assert row.changes == {"languages": [["fr", "en"], ["fr"]]}
    services.deactivate_team(actor=org.users.fr_admin, team=team)
    assert not team.is_active
    with pytest.raises(exc.TeamNotEmpty):
        services.deactivate_team(actor=org.users.fr_admin, team=org.fr_team)


# --- memberships -----------------------------------------------------------------------------------------------
def test_grant_membership_and_rules(org):
    person = UserFactory(username="newcomer")
    m = services.grant_membership(actor=org.users.fr_admin, user=person, unit=org.france,
                                  role=Role.HELPER_AGENT, team=org.fr_team)
    assert m.is_active and audit_rows("orgs.membership.grant")[0].unit == org.france
    with pytest.raises(exc.DuplicateMembership):
        services.grant_membership(actor=org.users.fr_admin, user=person, unit=org.france,
                                  role=Role.HELPER_AGENT, team=org.fr_team)
    with pytest.raises(exc.InvalidMembership) as err:
        services.grant_membership(actor=org.users.hub_admin, user=person, unit=org.vendor,
                                  role=Role.EXTERNAL_MODERATOR)
    assert err.value.field == "team"
    with pytest.raises(exc.InvalidMembership):
        services.grant_membership(actor=org.users.hub_admin, user=person, unit=org.france, role=Role.HUB_ADMIN)
    with pytest.raises(exc.InvalidMembership):  # team of another unit
        services.grant_membership(actor=org.users.hub_admin, user=person, unit=org.france,
                                  role=Role.HELPER_AGENT, team=org.es_team)
    # Team of a sub-unit is fine (Europe grant, France team).
    services.grant_membership(actor=org.users.hub_admin, user=person, unit=org.europe, role=Role.ANALYST,
                              team=org.fr_team)


def test_nobody_grants_outside_their_scope(org):
    person = UserFactory(username="newcomer")
    for actor, unit in [(org.users.fr_admin, org.spain), (org.users.fr_admin, org.europe),
                        (org.users.fr_cm, org.france), (org.users.analyst, org.france),
                        (org.users.moderator, org.vendor)]:
        with pytest.raises(PermissionDeniedError):
            services.grant_membership(actor=actor, user=person, unit=unit, role=Role.ANALYST)
    with pytest.raises(PermissionDeniedError):  # a spoke admin cannot reach the root
        services.grant_membership(actor=org.users.europe_admin, user=person, unit=org.hub, role=Role.HUB_ADMIN)


def test_update_and_revoke_membership(org):
    m = Membership.objects.get(user=org.users.fr_agent)
    services.update_membership(actor=org.users.fr_admin, membership=m, role=Role.COMMUNITY_MANAGER, capacity=5)
    [row] = audit_rows("orgs.membership.update")
    assert row.changes == {"capacity": [10, 5], "role": ["helper_agent", "community_manager"]}
    services.revoke_membership(actor=org.users.fr_admin, membership=m)
    m.refresh_from_db()
    assert not m.is_active
    # Re-granting reactivates the same row.
    again = services.grant_membership(actor=org.users.fr_admin, user=org.users.fr_agent, unit=org.france,
                                      role=Role.COMMUNITY_MANAGER, team=org.fr_team)
    assert again.pk == m.pk and again.is_active


def test_last_hub_admin_cannot_be_revoked(org):
    m = Membership.objects.get(user=org.users.hub_admin)
    with pytest.raises(exc.LastHubAdmin):
        services.revoke_membership(actor=org.users.hub_admin, membership=m)
    other = UserFactory(username="hub2")
    MembershipFactory(user=other, unit=org.hub, role=Role.HUB_ADMIN)
    services.revoke_membership(actor=org.users.hub_admin, membership=m)


def test_invite_member_creates_user_without_password(org):
    m = services.invite_member(actor=org.users.fr_admin, unit=org.france, username="marie", email="marie@example.org",
                               first_name="Marie", role=Role.HELPER_AGENT, team=org.fr_team)
    assert m.user.username == "marie" and not m.user.has_usable_password()
    [row] = audit_rows("orgs.membership.invite")
    assert row.changes["username"] == [None, "marie"]
    with pytest.raises(exc.UsernameTaken):
        services.invite_member(actor=org.users.fr_admin, unit=org.france, username="Marie", email="x@example.org",
                               role=Role.HELPER_AGENT)
    with pytest.raises(PermissionDeniedError):
        services.invite_member(actor=org.users.fr_admin, unit=org.spain, username="pepe", email="p@example.org",
                               role=Role.HELPER_AGENT)


# --- guidelines ------------------------------------------------------------------------------------------------
def test_guideline_draft_publish_versions(org):
    hub = org.users.hub_admin
    g1 = services.create_guideline(actor=hub, title="G", body="one")
    assert g1.version is None and str(g1) == "G (draft)"
    services.publish_guideline(actor=hub, guideline=g1)
    g2 = services.create_guideline(actor=hub, title="G", body="two")
    services.update_guideline(actor=hub, guideline=g2, body="two, edited")
    services.publish_guideline(actor=hub, guideline=g2)
    g1.refresh_from_db(); g2.refresh_from_db()
    assert (g1.version, g2.version) == (1, 2)
    with pytest.raises(exc.GuidelineNotEditable):
        services.update_guideline(actor=hub, guideline=g1, body="rewrite history")
    with pytest.raises(exc.GuidelineNotEditable):
        services.publish_guideline(actor=hub, guideline=g1)
    assert len(audit_rows("orgs.guideline.publish")) == 2


def test_only_the_hub_drafts_and_publishes(org):
    draft = services.create_guideline(actor=org.users.hub_admin, title="G", body="x")
    for actor in (org.users.fr_admin, org.users.europe_admin, org.users.analyst, org.users.pr):
        with pytest.raises(PermissionDeniedError):
            services.publish_guideline(actor=actor, guideline=draft)
        with pytest.raises(PermissionDeniedError):
            services.create_guideline(actor=actor, title="mine", body="x")


def test_acknowledge_is_idempotent_and_needs_a_role(org, guideline):
    services.acknowledge_guideline(actor=org.users.moderator, guideline=guideline)
    services.acknowledge_guideline(actor=org.users.moderator, guideline=guideline)
    assert guideline.acknowledgements.count() == 1
    [row] = audit_rows("orgs.guideline.acknowledge")
    assert row.unit == org.vendor
    with pytest.raises(PermissionDeniedError):
        services.acknowledge_guideline(actor=org.users.nobody, guideline=guideline)
    draft = services.create_guideline(actor=org.users.hub_admin, title="next", body="x")
    with pytest.raises(exc.GuidelineNotPublished):
        services.acknowledge_guideline(actor=org.users.fr_agent, guideline=draft)
