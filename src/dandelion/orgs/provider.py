"""What core asks of the organisation tree (``OrgsConfig.org_tree``): core sits below every app and imports none,
so the grants behind every permission check, the root unit audit rows default to, and role names come from here."""

from __future__ import annotations


def grants_for(user) -> tuple:
    """The user's active grants (active memberships on active units)."""
    from dandelion.core.permissions import Grant
    from dandelion.orgs.models import Membership

    return tuple(
        Grant(role=m.role, unit_id=m.unit_id, unit_path=m.unit.path, team_id=m.team_id)
        for m in Membership.objects.filter(user=user, is_active=True, unit__is_active=True).select_related("unit")
    )


def root_unit():
    """The hub: the first root unit (None before the organisation exists)."""
    from dandelion.orgs.models import OrgUnit

    return OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()


def unit_path(pk: int) -> str | None:
    """The tree path of unit ``pk`` (None when there is no such unit)."""
    from dandelion.orgs.models import OrgUnit

    return OrgUnit.objects.filter(pk=pk).values_list("path", flat=True).first()


def unit_paths(pks) -> dict[int, str]:
    """``{pk: path}`` of the units among ``pks`` that exist (one query)."""
    from dandelion.orgs.models import OrgUnit

    return dict(OrgUnit.objects.filter(pk__in=list(pks)).values_list("pk", "path"))


def role_label(role: str) -> str:
    from dandelion.orgs.choices import Role

    return str(Role(role).label) if role in Role.values else role
