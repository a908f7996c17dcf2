"""Filter sets for the organisation's lists, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dandelion.core.filters import IdFilter
from dandelion.orgs.choices import Role, TeamKind, UnitKind
from dandelion.orgs.models import Guideline, Membership, OrgUnit, Team


def _within(queryset, path_lookup: str, value, request):
    """Rows in the subtree of unit ``value`` (which must itself be visible to the requester)."""
    user = getattr(request, "user", None)
    unit = OrgUnit.objects.restrict(user, "view").filter(pk=value).first()
    return queryset.filter(**{f"{path_lookup}__startswith": unit.path}) if unit else queryset.none()


class OrgUnitFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices)
    parent = IdFilter(field_name="parent_id")
    within = IdFilter(method="filter_within", label=_("Within unit (subtree)"))
    country = django_filters.CharFilter(lookup_expr="iexact")
    is_active = django_filters.BooleanFilter()
    depth = django_filters.NumberFilter()

    class Meta:
        model = OrgUnit
        fields = ("q", "kind", "parent", "within", "country", "is_active", "depth")

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))

    def filter_within(self, queryset, name, value):
        return _within(queryset, "path", value, self.request)


class TeamFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=TeamKind.choices)
    unit = IdFilter(field_name="unit_id", label=_("Unit"))
    within = IdFilter(method="filter_within", label=_("Within unit (subtree)"))
    language = django_filters.CharFilter(method="filter_language", label=_("Language"))
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Team
        fields = ("q", "kind", "unit", "within", "language", "is_active")

    def filter_within(self, queryset, name, value):
        return _within(queryset, "unit__path", value, self.request)

    def filter_language(self, queryset, name, value):
        # JSON list contains a string: portable spelling (``__contains`` on JSON is not available on SQLite).
        return queryset.filter(languages__icontains=f'"{value.strip().lower()}"')


class MembershipFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    role = django_filters.ChoiceFilter(choices=Role.choices)
    unit = IdFilter(field_name="unit_id", label=_("Unit"))
    within = IdFilter(method="filter_within", label=_("Within unit (subtree)"))
    team = IdFilter(field_name="team_id", label=_("Team"))
    user = IdFilter(field_name="user_id", label=_("Person"))
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Membership
        fields = ("q", "role", "unit", "within", "team", "user", "is_active")

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(user__username__icontains=value)
            | Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(user__email__icontains=value)
        )

    def filter_within(self, queryset, name, value):
        return _within(queryset, "unit__path", value, self.request)


class GuidelineFilter(django_filters.FilterSet):
    published = django_filters.BooleanFilter(field_name="published_at", lookup_expr="isnull", exclude=True)
    version = django_filters.NumberFilter()
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))

    class Meta:
        model = Guideline
        fields = ("published", "version", "q")

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(body__icontains=value))
