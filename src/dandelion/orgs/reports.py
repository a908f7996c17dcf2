"""Read-side figures of the organisation: the tree roll-up and the guideline acknowledgement report.

The roll-up runs a constant number of queries whatever the size of the tree: one for the visible units, one for
the current guideline, and one aggregate (GROUP BY unit) per counted thing. Each unit's own figures are then added
to every visible ancestor in Python, walking the ids of its materialised path.

A person holding roles on two units of a subtree counts once per unit in that subtree's ``members``: the figures
are sums of per-unit distinct counts, which is what lets them roll up without a query per unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from dandelion.core.plugins import unit_figure_sources
from dandelion.orgs.models import Guideline, GuidelineAcknowledgement, Membership, OrgUnit, Team


@dataclass
class Figures:
    """Counts for one unit (own) or a subtree (total)."""

    # the accounts_* figures come from the assets app (``AssetsConfig.unit_figures``)
    accounts: int = 0
    members: int = 0
    teams: int = 0
    accounts_without_owner: int = 0
    accounts_owner_deactivated: int = 0
    accounts_credentials_expiring: int = 0  # expiring soon or expired
    accounts_dormant: int = 0
    accounts_connector_error: int = 0
    members_not_acknowledged: int = 0

    @property
    def issues(self) -> int:
        return (self.accounts_without_owner + self.accounts_owner_deactivated + self.accounts_credentials_expiring
                + self.accounts_dormant + self.accounts_connector_error + self.members_not_acknowledged)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["issues"] = self.issues
        return data


@dataclass
class Node:
    """A visible unit with its own figures, its subtree's totals and its visible children."""

    unit: OrgUnit
    own: Figures = field(default_factory=Figures)
    total: Figures = field(default_factory=Figures)
    children: list[Node] = field(default_factory=list)


@dataclass
class Rollup:
    roots: list[Node]
    nodes: dict[int, Node]
    current_guideline: Guideline | None

    def __iter__(self):
        """Depth-first, in tree order (handy for flat renders)."""
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def _path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def build_rollup(user, *, within: OrgUnit | None = None, include_inactive: bool = False) -> Rollup:
    """The tree ``user`` may see (optionally only ``within``'s subtree) with figures rolled up per subtree.

    Roots are the visible units whose parent is not visible: for a hub admin the hub, for a spoke admin the
    unit(s) of their grants."""
    units_qs = OrgUnit.objects.restrict(user, "view")
    if within is not None:
        units_qs = units_qs.filter(path__startswith=within.path)
    if not include_inactive:
        units_qs = units_qs.filter(is_active=True)
    units = list(units_qs.order_by("path"))
    nodes = {u.pk: Node(unit=u) for u in units}
    current = Guideline.current()
    if not nodes:
        return Rollup(roots=[], nodes={}, current_guideline=current)

    def scoped(qs, unit_field: str):
        # Restricted like every read, and limited to the units shown (a subquery, not an extra query).
        return qs.restrict(user, "view").filter(**{f"{unit_field}__in": units_qs.order_by().values("pk")})

    # figures other apps contribute (the registry's accounts): their ``AppConfig.unit_figures``
    for source in unit_figure_sources():
        for unit_id, figures in source(user, units_qs).items():
            if unit_id in nodes:
                for name, value in figures.items():
                    setattr(nodes[unit_id].own, name, value)

    members = scoped(Membership.objects.all(), "unit").filter(is_active=True, user__is_active=True)
    annotations = {"n": Count("user", distinct=True)}
    if current is not None:
        acked = GuidelineAcknowledgement.objects.filter(guideline=current).values("user_id")
        annotations["pending"] = Count("user", distinct=True, filter=~Q(user__in=acked))
    for row in members.values("unit_id").annotate(**annotations).order_by():
        own = nodes[row["unit_id"]].own
        own.members, own.members_not_acknowledged = row["n"], row.get("pending", 0)

    teams = scoped(Team.objects.all(), "unit").filter(is_active=True)
    for row in teams.values("unit_id").annotate(n=Count("id")).order_by():
        nodes[row["unit_id"]].own.teams = row["n"]

    roots: list[Node] = []
    for unit in units:  # in path order: parents come before children
        node = nodes[unit.pk]
        parent = nodes.get(unit.parent_id)
        (parent.children if parent is not None else roots).append(node)
        for ancestor_id in _path_ids(unit.path):
            ancestor = nodes.get(ancestor_id)
            if ancestor is not None:
                ancestor.total.add(node.own)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.unit.name.lower())
    roots.sort(key=lambda n: n.unit.name.lower())
    return Rollup(roots=roots, nodes=nodes, current_guideline=current)


def pending_acknowledgements(user, guideline: Guideline, *, within: OrgUnit | None = None):
    """People in ``user``'s member-management scope (optionally within a unit's subtree) holding an active
    membership, who have not acknowledged ``guideline``."""
    memberships = Membership.objects.restrict(user, "orgs.manage_members").filter(
        is_active=True, unit__is_active=True
    )
    if within is not None:
        memberships = memberships.filter(unit__path__startswith=within.path)
    acked = GuidelineAcknowledgement.objects.filter(guideline=guideline).values("user_id")
    people = (
        get_user_model()
        .objects.filter(is_active=True, pk__in=memberships.values("user_id"))
        .order_by("username")
    )
    return people.exclude(pk__in=acked), people
