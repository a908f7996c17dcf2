from __future__ import annotations

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from dandelion.core.models import AuditEvent


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.Filter):
    """A primary-key filter: a positive integer, anything else is a 400 with a clear message (not a float)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


def query_id(request, name: str) -> int | None:
    """An optional positive-integer id from the query string; a malformed one is a 400 naming the parameter."""
    from rest_framework.exceptions import ValidationError

    raw = request.query_params.get(name) if hasattr(request, "query_params") else request.GET.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: ["A whole number (an id) is required."]}) from None
    if not 1 <= value <= 2**63 - 1:
        raise ValidationError({name: ["Ensure this id is a positive number."]})
    return value


def audited_content_types(request=None):
    """The content types offered in the audit log's "object type" filter: the models of the installed apps that
    declare ``audit_filter`` (``dandelion.core.plugins``), read when the filter is built."""
    from dandelion.core.plugins import audit_app_labels

    return ContentType.objects.filter(app_label__in=audit_app_labels()).order_by("app_label", "model")


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_repr", lookup_expr="icontains", label=_("Actor"))
    action = django_filters.CharFilter(lookup_expr="icontains")
    object_type = django_filters.ModelChoiceFilter(
        field_name="content_type", queryset=audited_content_types, label=_("Object type")
    )
    object_id = django_filters.CharFilter()
    unit = IdFilter(method="filter_unit", label=_("Unit (and subtree)"))
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "object_type", "object_id", "unit", "since", "until", "q"]

    def filter_unit(self, queryset, name, value):
        from dandelion.core.plugins import org_tree

        path = org_tree().unit_path(value)
        return queryset.filter(unit_path__startswith=path) if path else queryset.none()

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(summary__icontains=value) | Q(object_repr__icontains=value))
