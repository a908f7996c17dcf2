"""Scopes fail closed: every model of Dandelion's apps declares how its rows are scoped, and an undeclared model is
an error, never "every row"."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test.utils import isolate_apps

from dandelion.core.permissions import scope_q
from dandelion.core.querysets import NOTHING, OrgScope, RestrictedManager, org_scope_of


def _restricted(model) -> bool:
    return callable(getattr(model._default_manager, "restrict", None))


def _models_to_declare():
    """Every model of Dandelion's apps, and every third-party model our code restricts (its manager has
    ``restrict``)."""
    return sorted(
        (m for m in apps.get_models() if m.__module__.startswith("dandelion.") or _restricted(m)),
        key=lambda m: m._meta.label,
    )


def test_every_model_declares_its_scope():
    undeclared = []
    for model in _models_to_declare():
        try:
            org_scope_of(model)
        except ImproperlyConfigured as err:
            undeclared.append(f"{model._meta.label}: {err}")
    assert not undeclared, "\n".join(undeclared)


def test_the_walk_covers_the_apps():
    labels = {m._meta.label for m in _models_to_declare()}
    assert {"orgs.OrgUnit", "assets.SocialAccount", "inbox.Conversation", "routing.RoutingRule",
            "core.AuditEvent", "core.WorkerHeartbeat"} <= labels


@pytest.mark.parametrize("model", _models_to_declare(), ids=lambda m: m._meta.label)
def test_declared_lookups_resolve(model):
    """A typo in a lookup fails here, not on the first request of a user with that grant."""
    scope = org_scope_of(model)
    if not scope.is_path:
        return
    q = models.Q(**{f"{scope.path}__startswith": "/1/"})
    if scope.team:
        q |= models.Q(**{scope.team: 1})
    sql, _ = model._default_manager.filter(q).query.sql_with_params()
    assert "WHERE" in sql


@pytest.mark.parametrize("model", [m for m in _models_to_declare() if _restricted(m)], ids=lambda m: m._meta.label)
def test_restrict_is_empty_for_nobody(db, model, org):
    """Whatever the scope kind, a person without a role gets no rows (and an anonymous user neither)."""
    from django.contrib.auth.models import AnonymousUser

    for user in (org.users.nobody, AnonymousUser()):
        assert scope_q(user, model) == NOTHING


@isolate_apps("dandelion.core")
def test_an_undeclared_model_is_an_error_for_everyone(db, org):
    class Forgotten(models.Model):
        objects = RestrictedManager()

        class Meta:
            app_label = "core"

    for user in (org.users.hub_admin, org.users.fr_admin, org.users.nobody):
        with pytest.raises(ImproperlyConfigured, match="does not declare how its rows are scoped"):
            scope_q(user, Forgotten)
    with pytest.raises(ImproperlyConfigured):
        Forgotten.objects.restrict(org.users.fr_admin, "view")


@isolate_apps("dandelion.core")
def test_the_old_attribute_alone_is_not_a_declaration(db, org):
    class Legacy(models.Model):
        org_path_lookup = None  # used to mean "every row"

        class Meta:
            app_label = "core"

    with pytest.raises(ImproperlyConfigured, match="declare org_scope instead"):
        scope_q(org.users.fr_admin, Legacy)


def test_a_wrong_declaration_is_refused():
    with pytest.raises(ImproperlyConfigured):
        OrgScope()  # a path scope without its path
    with pytest.raises(ImproperlyConfigured):
        OrgScope.organisation_wide("")  # on purpose means saying why
    with pytest.raises(ImproperlyConfigured):
        OrgScope(path="unit__path", kind="internal", reason="x")


@isolate_apps("dandelion.core")
def test_scope_kinds(db, org):
    class Wide(models.Model):
        org_scope = OrgScope.organisation_wide("reference data")

        class Meta:
            app_label = "core"

    class Machinery(models.Model):
        org_scope = OrgScope.internal("workers only")

        class Meta:
            app_label = "core"

    assert scope_q(org.users.fr_agent, Wide, "orgs.view_orgunit") is None  # the role allows it: every row
    assert scope_q(org.users.moderator, Wide, "orgs.view_orgunit") == NOTHING  # the role does not allow it
    assert scope_q(org.users.hub_admin, Machinery) == NOTHING  # internal: no role reads it...
    org.users.nobody.is_superuser = True
    assert scope_q(org.users.nobody, Machinery) is None  # ...but superusers


def test_path_scope_covers_the_subtree_and_team_scope_the_team(org):
    from dandelion.orgs.models import OrgUnit, Team

    fr_admin_units = set(OrgUnit.objects.restrict(org.users.fr_admin).values_list("name", flat=True))
    assert fr_admin_units == {"France"}
    assert set(Team.objects.restrict(org.users.moderator).values_list("name", flat=True)) == {"ModCo moderation"}
    assert not OrgUnit.objects.restrict(org.users.moderator).exists()  # OrgUnit has no team lookup

