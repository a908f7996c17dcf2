"""Filters of the account list (UI and API share them)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from dandelion.assets.choices import AccountStatus, HealthFlag
from dandelion.assets.models import SocialAccount
from dandelion.core.filters import IdFilter


def _network_choices():
    from dandelion.assets.networks import network_choices

    return network_choices()


def _visible_units(request):
    from dandelion.orgs.models import OrgUnit

    if request is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.restrict(request.user, "view").filter(is_active=True)


class SocialAccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    network = django_filters.ChoiceFilter(choices=_network_choices, empty_label="Any network")
    unit = django_filters.ModelChoiceFilter(
        queryset=_visible_units, method="filter_unit", label="Unit (and subtree)", empty_label="Any unit"
    )
    owner_unit = IdFilter(field_name="owner_unit_id", label="Owner unit (exact)")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices, empty_label="Any status (not archived)")
    owner_missing = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label="Owner missing")
    health = django_filters.ChoiceFilter(choices=HealthFlag.choices, method="filter_health", label="Health",
                                         empty_label="Any health")

    class Meta:
        model = SocialAccount
        fields = ["q", "network", "unit", "owner_unit", "status", "owner_missing", "health"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(handle__icontains=value) | Q(display_name__icontains=value) | Q(external_id__icontains=value)
        )

    @extend_schema_field(OpenApiTypes.INT)
    def filter_unit(self, queryset, name, unit):
        return queryset.filter(owner_unit__path__startswith=unit.path) if unit else queryset

    def filter_health(self, queryset, name, value):
        return queryset.with_health(value) if value else queryset
