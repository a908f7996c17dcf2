"""Restricted querysets: every org-scoped read goes through ``Model.objects.restrict(user, action)``.

Every model says how its rows are scoped with ``org_scope`` (an :class:`OrgScope`):

* ``OrgScope(path="owner_unit__path", team="team_id")``: rows belong to an org unit. A grant on a unit covers the
  whole subtree (``path__startswith``); a team-scoped grant (external moderators) covers only rows whose ``team``
  lookup is the membership's team (no ``team``: team-scoped people see none of them).
* ``OrgScope.organisation_wide("why")``: reference data read across the organisation; any grant that allows the
  permission allows every row. Said on purpose, with the reason.
* ``OrgScope.internal("why")``: machinery no person reads through the app (worker heartbeats, job claims):
  ``restrict()`` returns nothing except to superusers.

A model that declares nothing is an error (``ImproperlyConfigured``), never "every row": scopes fail closed.
(After NetBox ``utilities/querysets.py`` and Wagtail's collection permission policy.)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q

PATH = "path"
ORGANISATION_WIDE = "organisation_wide"
INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class OrgScope:
    """How a model's rows are scoped: by an org unit's path (and a team), organisation-wide, or internal."""

    path: str | None = None
    team: str | None = None
    kind: str = PATH
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (PATH, ORGANISATION_WIDE, INTERNAL):
            raise ImproperlyConfigured(f"OrgScope kind must be {PATH}, {ORGANISATION_WIDE} or {INTERNAL}.")
        if self.kind == PATH and not self.path:
            raise ImproperlyConfigured(
                "OrgScope(path=...) needs the lookup to the owning unit's path, e.g. 'owner_unit__path'; "
                "use OrgScope.organisation_wide(reason) or OrgScope.internal(reason) for rows of no unit."
            )
        if self.kind != PATH and (self.path or self.team):
            raise ImproperlyConfigured(f"An {self.kind} scope takes no path or team lookup.")
        if self.kind != PATH and not self.reason.strip():
            raise ImproperlyConfigured(f"Say why the model is {self.kind.replace('_', '-')}: OrgScope.{self.kind}"
                                       "(reason).")

    @classmethod
    def organisation_wide(cls, reason: str) -> OrgScope:
        """Rows of no unit, readable by anyone whose role allows the permission (on purpose: give the reason)."""
        return cls(kind=ORGANISATION_WIDE, reason=reason)

    @classmethod
    def internal(cls, reason: str) -> OrgScope:
        """Rows no person reads through the app: ``restrict()`` shows them to superusers only."""
        return cls(kind=INTERNAL, reason=reason)

    @property
    def is_path(self) -> bool:
        return self.kind == PATH

    @property
    def is_organisation_wide(self) -> bool:
        return self.kind == ORGANISATION_WIDE

    @property
    def is_internal(self) -> bool:
        return self.kind == INTERNAL

    def unit_of(self, obj):
        """The org unit ``obj`` belongs to, following the path lookup (``"team__unit__path"`` → ``obj.team.unit``);
        None for a scope without one."""
        if not self.is_path or not self.path:
            return None
        parts = self.path.split("__")[:-1]  # drop the final "path"
        for part in parts:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj

    def __str__(self) -> str:
        if self.is_path:
            return f"unit path {self.path}" + (f", team {self.team}" if self.team else "")
        return f"{self.kind.replace('_', '-')} ({self.reason})"


def org_scope_of(model) -> OrgScope:
    """The model's declared :class:`OrgScope`; ``ImproperlyConfigured`` when it declares none (fail closed)."""
    scope = getattr(model, "org_scope", None)
    if isinstance(scope, OrgScope):
        return scope
    label = model._meta.label
    legacy = " (org_path_lookup/team_lookup are no longer read: declare org_scope instead)" if (
        hasattr(model, "org_path_lookup") or hasattr(model, "team_lookup")) else ""
    if scope is not None:
        raise ImproperlyConfigured(f"{label}.org_scope must be an OrgScope, not {type(scope).__name__}.")
    raise ImproperlyConfigured(
        f"{label} does not declare how its rows are scoped{legacy}. Add org_scope = OrgScope(path='unit__path', "
        "team='team_id'), OrgScope.organisation_wide(reason) or OrgScope.internal(reason) "
        "(docs/development/permissions.md)."
    )


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        from dandelion.core.permissions import scope_q

        q = scope_q(user, self.model, action)
        if q is None:
            return self
        return self.filter(q)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass


NOTHING = Q(pk__in=[])


class AnyOf(models.Lookup):
    """``lhs`` is one of ``values`` (a list), usable as a filter expression: ``qs.filter(AnyOf(F("pk"), ids))``.
    On PostgreSQL ``lhs = ANY(%s)``, the list sent as one array parameter; elsewhere Django's ``IN``. A list of
    thousands of ids costs Django and the driver a placeholder and an adaptation each as ``IN (...)`` (353 ms of
    Python for 21,000 ids, benchmarks.md §3); as one array, about nothing."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            from django.db.models.lookups import In

            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection) if self.rhs else ("1 = 0", [])
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]
