from rest_framework import serializers

from dandelion.core.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "actor_repr", "action", "object_type", "object_id", "object_repr",
                  "unit", "summary", "changes", "request_id"]
        read_only_fields = fields

    def get_object_type(self, obj) -> str | None:
        return f"{obj.content_type.app_label}.{obj.content_type.model}" if obj.content_type_id else None
