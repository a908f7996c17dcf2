"""Roles, grants and the permission checks used by querysets, services, views and the API.

A permission is ``"<app_label>.<action>_<model_name>"`` (``assets.change_socialaccount``) or a named capability
(``orgs.publish_guideline``). A role grants permissions by glob patterns. A membership grants its role on a unit
and that unit's whole subtree; roles listed in ``TEAM_SCOPED_ROLES`` grant only on rows of the membership's team.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from django.db.models import Q
from django.utils.translation import gettext as _

from dandelion.core.actors import is_system
from dandelion.core.querysets import NOTHING, org_scope_of

VIEW_ALL = "*.view_*"

#: What each role may do across every app, as glob patterns over permission names. Each app adds its own patterns
#: from its ``AppConfig.role_grants`` (``dandelion.core.plugins``); :func:`role_grants` merges both.
BASE_ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    "hub_admin": ("*",),
    "spoke_admin": ("*.view_*", "*.add_*", "*.change_*", "*.delete_*"),
    "community_manager": (VIEW_ALL,),
    "helper_agent": (),
    "external_moderator": (),
    "pr_manager": (VIEW_ALL,),
    "analyst": (VIEW_ALL,),
}


@lru_cache(maxsize=1)
def role_grants() -> dict[str, tuple[str, ...]]:
    """Per role, the base patterns followed by those the installed apps contribute (cached; see clear_role_cache)."""
    from dandelion.core.plugins import contributed_grants

    merged = {role: list(patterns) for role, patterns in BASE_ROLE_GRANTS.items()}
    for role, patterns in contributed_grants().items():
        bucket = merged.setdefault(role, [])
        bucket.extend(p for p in patterns if p not in bucket)
    return {role: tuple(patterns) for role, patterns in merged.items()}


def clear_role_cache() -> None:
    role_grants.cache_clear()
    role_allows.cache_clear()


#: Roles whose grant covers only rows routed to the membership's own team, nothing else of the organisation.
TEAM_SCOPED_ROLES = frozenset({"external_moderator"})

#: Permissions that only a grant on the root (the hub) may hold, whatever the role patterns say.
#: Permissions every role holds, whatever its patterns.
COMMON_PERMISSIONS = frozenset({"orgs.view_guideline", "orgs.acknowledge_guideline"})

HUB_ONLY_PERMISSIONS = frozenset({"orgs.publish_guideline", "orgs.add_orgunit_root"})


@lru_cache(maxsize=4096)
def role_allows(role: str, perm: str) -> bool:
    grants = role_grants()
    if perm in COMMON_PERMISSIONS and role in grants:
        return True
    return any(fnmatchcase(perm, pattern) for pattern in grants.get(role, ()))


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    unit_id: int
    unit_path: str
    team_id: int | None

    @property
    def role_label(self) -> str:
        from dandelion.core.plugins import org_tree

        return org_tree().role_label(self.role)

    @property
    def team_scoped(self) -> bool:
        return self.role in TEAM_SCOPED_ROLES

    @property
    def on_root(self) -> bool:
        return self.unit_path.count("/") == 2  # "/<id>/"


def get_grants(user) -> tuple[Grant, ...]:
    """The user's active grants, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    cached = getattr(user, "_dandelion_grants", None)
    if cached is not None:
        return cached
    from dandelion.core.plugins import org_tree

    grants = org_tree().grants_for(user)
    user._dandelion_grants = grants
    return grants


def clear_grant_cache(user) -> None:
    if hasattr(user, "_dandelion_grants"):
        del user._dandelion_grants


def _perm_allowed(grant: Grant, perm: str) -> bool:
    if perm in HUB_ONLY_PERMISSIONS and not grant.on_root:
        return False
    return role_allows(grant.role, perm)


def model_perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def scope_q(user, model, action: str = "view") -> Q | None:
    """The filter restricting ``model`` rows to what ``user`` may ``action``; None means every row.

    The model's declared :class:`~dandelion.core.querysets.OrgScope` decides: a unit path (a grant covers its
    subtree; a team-scoped grant only its team's rows), organisation-wide on purpose, or internal (superusers
    only). A model that declares nothing raises ``ImproperlyConfigured``, whoever asks: scopes fail closed."""
    scope = org_scope_of(model)
    if is_system(user):
        return None  # the SYSTEM actor (jobs, commands) sees every row
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return NOTHING
    if user.is_superuser:
        return None
    if scope.is_internal:
        return NOTHING
    perm = action if "." in action else model_perm(model, action)
    q = NOTHING
    seen_paths: list[str] = []
    for grant in get_grants(user):
        if not _perm_allowed(grant, perm):
            continue
        if scope.is_organisation_wide:
            return None  # declared organisation-wide: any grant that allows the permission allows every row
        if grant.team_scoped:
            if scope.team and grant.team_id:
                q |= Q(**{scope.team: grant.team_id})
            continue
        if any(grant.unit_path.startswith(p) for p in seen_paths):
            continue
        seen_paths.append(grant.unit_path)
        q |= Q(**{f"{scope.path}__startswith": grant.unit_path})
    return q


def has_perm(user, perm: str, unit=None, *, team_id: int | None = None) -> bool:
    """May ``user`` do ``perm`` on ``unit`` (an OrgUnit, or None: anywhere)? Team-scoped grants need ``team_id``."""
    if is_system(user):
        return True  # the SYSTEM actor (jobs, commands) holds every permission
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    for grant in get_grants(user):
        if not _perm_allowed(grant, perm):
            continue
        if grant.team_scoped:
            if team_id is not None and grant.team_id == team_id:
                return True
            continue
        if unit is None or unit.path.startswith(grant.unit_path):
            return True
    return False


def may_see_unit(user, unit) -> bool:
    """May ``user`` see ``unit`` (its name, that it exists)? Team-scoped people see no unit."""
    return unit is not None and has_perm(user, "orgs.view_orgunit", unit)


def denial_message(user, perm: str, unit=None) -> str:
    """Why ``user`` may not ``perm``: the unit is named only when the user may see it, so a refusal never tells
    the name (or the existence) of a unit outside the user's scope."""
    if unit is not None and may_see_unit(user, unit):
        return _("You do not have permission '%(perm)s' on %(unit)s.") % {"perm": perm, "unit": unit}
    return _("You do not have permission '%(perm)s' here.") % {"perm": perm}


def require_perm(user, perm: str, unit=None, *, team_id: int | None = None) -> None:
    from dandelion.core.exceptions import PermissionDeniedError

    if not has_perm(user, perm, unit, team_id=team_id):
        raise PermissionDeniedError(denial_message(user, perm, unit))


def is_hub_admin(user) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return any(g.role == "hub_admin" and g.on_root for g in get_grants(user))


def is_team_scoped_only(user) -> bool:
    """True for people whose every grant is team-scoped (external moderators): they see only their queue."""
    grants = get_grants(user)
    return bool(grants) and all(g.team_scoped for g in grants) and not getattr(user, "is_superuser", False)
