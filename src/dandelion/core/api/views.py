from rest_framework import viewsets

from dandelion.api.mixins import RestrictedQuerysetMixin
from dandelion.core.api.serializers import AuditEventSerializer
from dandelion.core.filters import AuditEventFilter
from dandelion.core.models import AuditEvent


class AuditEventViewSet(RestrictedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The audit log, read-only and append-only: no create, update or delete through the API."""

    queryset = AuditEvent.objects.select_related("content_type")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["created_at", "id"]
