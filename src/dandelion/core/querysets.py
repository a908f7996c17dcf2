"""Restricted querysets: every org-scoped read goes through ``Model.objects.restrict(user, action)``.

A model opts in by declaring where its org unit path lives (``org_path_lookup``, e.g. ``"owner_unit__path"``) and,
when team-scoped roles may see some of its rows, where its team lives (``team_lookup``). A grant on a unit covers
the whole subtree (``path__startswith``); a team-scoped grant (external moderators) covers only rows of that team.
(After NetBox ``utilities/querysets.py`` and Wagtail's collection permission policy.)
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


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
