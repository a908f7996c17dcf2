from rest_framework import serializers

from dandelion.crisis.choices import LogKind
from dandelion.crisis.models import Incident, LogEntry, Responder


class ResponderSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Responder
        fields = ["user", "username", "role", "joined_at"]
        read_only_fields = fields


class LogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LogEntry
        fields = ["id", "at", "kind", "actor", "actor_repr", "text"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    responders = ResponderSerializer(many=True, read_only=True)
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["id", "unit", "title", "summary", "severity", "status", "source", "alert", "query", "owner",
                  "spike_started_at", "detected_at", "opened_at", "first_response_at", "monitoring_at", "closed_at",
                  "pause", "holding_statement", "responders", "figures", "postmortem"]
        read_only_fields = fields

    def get_figures(self, obj) -> dict:
        from dandelion.crisis.postmortem import figures

        return figures(obj)


class LogInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[LogKind.NOTE, LogKind.ACTION, LogKind.DECISION], default=LogKind.NOTE)
    text = serializers.CharField(max_length=2000)
