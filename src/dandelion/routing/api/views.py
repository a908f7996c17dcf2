import django_filters

from dandelion.api.mixins import PermissionFirstMixin
from dandelion.api.viewsets import ServiceModelViewSet
from dandelion.core.filters import IdFilter
from dandelion.routing import services
from dandelion.routing.api.serializers import RoutingRuleSerializer, SlaPolicySerializer
from dandelion.routing.models import RoutingRule, SlaPolicy


class RoutingRuleFilter(django_filters.FilterSet):
    """By unit id: a unit outside the caller's scope matches nothing, as a missing one does (a choice filter over
    every unit would answer "not a valid choice" only for the missing one)."""

    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = RoutingRule
        fields = ["unit", "is_active"]


class SlaPolicyFilter(django_filters.FilterSet):
    """By team id (one outside the caller's scope matches nothing, as a missing one does), priority, activity."""

    team = IdFilter(field_name="team_id")

    class Meta:
        model = SlaPolicy
        fields = ["team", "priority", "is_active"]


class RoutingRuleViewSet(PermissionFirstMixin, ServiceModelViewSet):
    """Routing rules within your scope. Writes go through the routing services: only admins of the rule's unit
    (hub_admin, spoke_admin) may create, change or delete; invalid conditions/actions answer 400 with paths."""

    queryset = RoutingRule.objects.select_related("unit")
    serializer_class = RoutingRuleSerializer
    filterset_class = RoutingRuleFilter
    ordering_fields = ["position", "id", "updated_at"]
    search_fields = ["name"]

    service_calls = {"create": services.create_routing_rule, "update": services.update_routing_rule,
                     "destroy": services.delete_routing_rule}

    def get_queryset(self):
        return super().get_queryset().order_by("unit__depth", "unit__path", "position", "id")


class SlaPolicyViewSet(PermissionFirstMixin, ServiceModelViewSet):
    """SLA policies of teams within your scope; managed by admins of the team's unit."""

    queryset = SlaPolicy.objects.select_related("team__unit")
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilter
    ordering_fields = ["id", "team"]

    service_calls = {"create": services.create_sla_policy, "update": services.update_sla_policy,
                     "destroy": services.delete_sla_policy}
