from rest_framework import viewsets

from dandelion.api.mixins import PermissionFirstMixin, RestrictedQuerysetMixin
from dandelion.routing import services
from dandelion.routing.api.serializers import RoutingRuleSerializer, SlaPolicySerializer
from dandelion.routing.models import RoutingRule, SlaPolicy


class RoutingRuleViewSet(PermissionFirstMixin, RestrictedQuerysetMixin, viewsets.ModelViewSet):
    """Routing rules within your scope. Writes go through the routing services: only admins of the rule's unit
    (hub_admin, spoke_admin) may create, change or delete; invalid conditions/actions answer 400 with paths."""

    queryset = RoutingRule.objects.select_related("unit")
    serializer_class = RoutingRuleSerializer
    filterset_fields = ["unit", "is_active"]
    ordering_fields = ["position", "id", "updated_at"]
    search_fields = ["name"]

    def get_queryset(self):
        return super().get_queryset().order_by("unit__depth", "unit__path", "position", "id")

    def perform_create(self, serializer):
        serializer.instance = services.create_routing_rule(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_routing_rule(serializer.instance, actor=self.request.user,
                                                           **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_routing_rule(instance, actor=self.request.user)


class SlaPolicyViewSet(PermissionFirstMixin, RestrictedQuerysetMixin, viewsets.ModelViewSet):
    """SLA policies of teams within your scope; managed by admins of the team's unit."""

    queryset = SlaPolicy.objects.select_related("team__unit")
    serializer_class = SlaPolicySerializer
    filterset_fields = ["team", "priority", "is_active"]
    ordering_fields = ["id", "team"]

    def perform_create(self, serializer):
        serializer.instance = services.create_sla_policy(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_sla_policy(serializer.instance, actor=self.request.user,
                                                         **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_sla_policy(instance, actor=self.request.user)
