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
