"""Who sees what of the community: a row of a unit is read by the people of that unit's subtree *and* of its
ancestors' subtrees below it... and, the other way round, by the people below it. A group-wide article (owned by
the root unit) is read by everyone; a spoke's article by that spoke's subtree and by those above it.

Writes keep the standard rule (a grant on the row's unit or above): only the reads widen to the ancestors."""

from __future__ import annotations

from django.db.models import Q

from dandelion.core.permissions import get_grants, model_perm, role_allows, scope_q
from dandelion.core.querysets import NOTHING, RestrictedQuerySet


def ancestor_paths(path: str) -> list[str]:
    """``"/1/5/9/"`` → ``["/1/", "/1/5/", "/1/5/9/"]``."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def community_read_q(user, model, path_lookup: str, action: str = "view") -> Q | None:
    """The standard scope (the grant's subtree) widened to the rows owned by the grant unit's ancestors, over
    ``path_lookup`` (the row's unit path); None means every row."""
    base = scope_q(user, model, action)  # system, superusers, anonymous, internal models: the standard answer
    if base is None or not getattr(user, "is_authenticated", False):
        return base
    perm = action if "." in action else model_perm(model, action)
    q = NOTHING
    paths: set[str] = set()
    for grant in get_grants(user):
        if grant.team_scoped or not role_allows(grant.role, perm):
            continue
        q |= Q(**{f"{path_lookup}__startswith": grant.unit_path})
        paths.update(ancestor_paths(grant.unit_path))
    if paths:
        q |= Q(**{f"{path_lookup}__in": sorted(paths)})
    return q


class CommunityQuerySet(RestrictedQuerySet):
    """``restrict(user, "view")`` also shows the rows of the units above the person's; other actions are standard."""

    def restrict(self, user, action: str = "view"):
        scope = self.model.org_scope
        if action in ("view", model_perm(self.model, "view")) and scope.is_path:
            q = community_read_q(user, self.model, scope.path, action)
            return self if q is None else self.filter(q)
        return super().restrict(user, action)


__all__ = ["NOTHING", "CommunityQuerySet", "ancestor_paths", "community_read_q"]
