"""The permission matrix at the queryset level: a grant covers its subtree, and nothing else."""

import pytest

from dandelion.assets.models import SocialAccount
from dandelion.core.audit import record
from dandelion.core.exceptions import AppendOnlyError
from dandelion.core.models import AuditEvent
from dandelion.core.permissions import has_perm, is_team_scoped_only
from dandelion.orgs.models import OrgUnit, Team

pytestmark = pytest.mark.django_db


def names(qs):
    return sorted(str(x) for x in qs)


def test_hub_admin_sees_whole_tree(org):
    assert OrgUnit.objects.restrict(org.users.hub_admin).count() == 5


def test_spoke_admin_sees_only_own_subtree(org):
    assert names(OrgUnit.objects.restrict(org.users.fr_admin)) == ["France"]
    assert names(SocialAccount.objects.restrict(org.users.fr_admin)) == ["@brand_fr (facebook)"]
    assert names(SocialAccount.objects.restrict(org.users.es_admin)) == ["@brand_es (instagram)"]


def test_region_grant_covers_countries(org):
    assert names(OrgUnit.objects.restrict(org.users.europe_admin)) == ["Europe", "France", "Spain"]
    assert SocialAccount.objects.restrict(org.users.europe_admin).count() == 2


def test_external_moderator_sees_no_org_and_only_own_team(org):
    mod = org.users.moderator
    assert is_team_scoped_only(mod)
    assert OrgUnit.objects.restrict(mod).count() == 0
    assert SocialAccount.objects.restrict(mod).count() == 0
    assert names(Team.objects.restrict(mod)) == ["ModCo moderation (ModCo)"]


def test_anonymous_and_member_less_see_nothing(org, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert OrgUnit.objects.restrict(AnonymousUser()).count() == 0
    assert OrgUnit.objects.restrict(org.users.nobody).count() == 0


def test_analyst_reads_but_cannot_change(org):
    analyst = org.users.analyst
    assert SocialAccount.objects.restrict(analyst, "view").count() == 2
    assert SocialAccount.objects.restrict(analyst, "change").count() == 0
    assert not has_perm(analyst, "assets.change_socialaccount", org.france)


def test_spoke_admin_cannot_publish_guidelines_but_hub_admin_can(org):
    assert has_perm(org.users.hub_admin, "orgs.publish_guideline")
    assert not has_perm(org.users.fr_admin, "orgs.publish_guideline")
    assert not has_perm(org.users.fr_admin, "assets.change_socialaccount", org.spain)
    assert has_perm(org.users.fr_admin, "assets.change_socialaccount", org.france)


def test_audit_is_append_only_and_scoped(org):
    ev_fr = record(actor=org.users.fr_admin, action="test.fr", obj=org.fr_account, summary="fr change")
    record(actor=org.users.es_admin, action="test.es", obj=org.es_account, summary="es change")
    assert ev_fr.unit == org.france
    assert names(AuditEvent.objects.restrict(org.users.fr_admin).values_list("action", flat=True)) == ["test.fr"]
    assert AuditEvent.objects.restrict(org.users.hub_admin).count() == 2
    assert AuditEvent.objects.restrict(org.users.moderator).count() == 0
    ev_fr.summary = "tampered"
    with pytest.raises(AppendOnlyError):
        ev_fr.save()
    with pytest.raises(AppendOnlyError):
        ev_fr.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(summary="x")


def test_unit_path_follows_moves(org):
    assert org.france.path == f"/{org.hub.pk}/{org.europe.pk}/{org.france.pk}/"
    assert org.france.depth == 2
    assert [u.name for u in org.france.ancestors()] == ["Group hub", "Europe", "France"]
