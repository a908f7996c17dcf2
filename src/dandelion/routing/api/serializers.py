from rest_framework import serializers

from dandelion.orgs.models import OrgUnit, Team
from dandelion.routing.conditions import validate_rule
from dandelion.routing.models import RoutingRule, SlaPolicy


class _ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related field whose choices are the rows the requesting user may see."""

    def get_queryset(self):
        qs = super().get_queryset()
        request = self.context.get("request")
        return qs.restrict(request.user, "view") if request is not None else qs.none()


class RoutingRuleSerializer(serializers.ModelSerializer):
    unit = _ScopedRelatedField(queryset=OrgUnit.objects.all())
    conditions = serializers.JSONField(required=False)
    actions = serializers.JSONField(required=False)

    class Meta:
        model = RoutingRule
        fields = ["id", "unit", "name", "position", "is_active", "conditions", "actions", "stop_processing",
                  "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"position": {"required": False}}

    def validate(self, attrs):
        instance = self.instance
        conditions = attrs.get("conditions", instance.conditions if instance else {}) or {}
        actions = attrs.get("actions", instance.actions if instance else {}) or {}
        request = self.context.get("request")
        errors = validate_rule(conditions, actions, actor=request.user if request else None,
                               unit=attrs.get("unit", instance.unit if instance else None))
        if errors:
            grouped: dict[str, list[str]] = {}
            for e in errors:
                key = e["path"].split(".")[0].split("[")[0]
                grouped.setdefault(key, []).append(f"{e['path']}: {e['message']}")
            raise serializers.ValidationError(grouped)
        attrs.setdefault("conditions", conditions)
        attrs.setdefault("actions", actions)
        return attrs


class SlaPolicySerializer(serializers.ModelSerializer):
    team = _ScopedRelatedField(queryset=Team.objects.all())

    class Meta:
        model = SlaPolicy
        fields = ["id", "team", "priority", "first_response_seconds", "next_response_seconds", "resolution_seconds",
                  "business_hours", "escalation", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []  # the (team, priority) uniqueness is answered by the service as a 409

    def validate_escalation(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be an object")
        unknown = set(value) - {"set_priority", "notify_team", "reassign_to_team"}
        if unknown:
            raise serializers.ValidationError(f"unknown key(s): {', '.join(sorted(unknown))}")
        return value

    def validate(self, attrs):
        targets = [attrs.get(f"{m}_seconds", getattr(self.instance, f"{m}_seconds", None) if self.instance else None)
                   for m in ("first_response", "next_response", "resolution")]
        if not any(targets):
            raise serializers.ValidationError("Set at least one target (first response, next response, resolution).")
        return attrs
