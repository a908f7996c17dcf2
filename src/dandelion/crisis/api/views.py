import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from dandelion.api.viewsets import ServiceViewSet
from dandelion.core.filters import IdFilter
from dandelion.crisis import services
from dandelion.crisis.api.serializers import IncidentSerializer, LogEntrySerializer, LogInputSerializer
from dandelion.crisis.models import Incident


class IncidentFilter(django_filters.FilterSet):
    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = Incident
        fields = ["unit", "status", "source"]


class IncidentViewSet(ServiceViewSet):
    """Crisis rooms (incidents) within your scope, newest first, with who is on them and their response times."""

    queryset = Incident.objects.select_related("unit").prefetch_related("responders__user")
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    ordering_fields = ["opened_at", "severity", "id"]

    @extend_schema(request=LogInputSerializer, responses={201: LogEntrySerializer})
    @action(detail=True, methods=["post"])
    def log(self, request, pk=None):
        """Append a note, an action or a decision to the incident's shared log (append-only)."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        data = self.validated(LogInputSerializer)
        entry = services.add_log_entry(incident, actor=request.user, text=data["text"], kind=data["kind"])
        return self.respond(entry, status.HTTP_201_CREATED, LogEntrySerializer)
