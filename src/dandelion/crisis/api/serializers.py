from rest_framework import serializers

from dandelion.crisis.choices import IncidentKind, IncidentStatus, LogKind
from dandelion.crisis.models import (
    ChecklistItem,
    Incident,
    LogEntry,
    Playbook,
    Responder,
    RoutedConversation,
    StakeholderUpdate,
)
from dandelion.orgs.models import OrgUnit


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


class ChecklistItemSerializer(serializers.ModelSerializer):
    done_by_username = serializers.CharField(source="done_by.username", read_only=True, default="")

    class Meta:
        model = ChecklistItem
        fields = ["id", "position", "title", "owner_role", "due_at", "done_at", "done_by", "done_by_username"]
        read_only_fields = fields


class StakeholderUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = StakeholderUpdate
        fields = ["id", "sent_at", "sent_by", "subject", "body", "recipients"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    responders = ResponderSerializer(many=True, read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["id", "unit", "title", "summary", "severity", "status", "source", "alert", "query", "owner",
                  "spike_started_at", "detected_at", "opened_at", "first_response_at", "monitoring_at", "closed_at",
                  "pause", "holding_statement", "statement_language", "statement_translations", "kind", "playbook",
                  "checklist", "progress", "responders", "figures",
                  "postmortem"]
        read_only_fields = fields

    def get_progress(self, obj) -> dict:
        from dandelion.crisis.services import progress

        return progress(obj.checklist.all())

    def get_figures(self, obj) -> dict:
        from dandelion.crisis.postmortem import figures

        return figures(obj)


class LogInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[LogKind.NOTE, LogKind.ACTION, LogKind.DECISION], default=LogKind.NOTE)
    text = serializers.CharField(max_length=2000)


class TickInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, help_text="The checklist item's id.")
    done = serializers.BooleanField(default=True)


class StakeholderInputSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)
    recipients = serializers.ListField(child=serializers.EmailField(), max_length=50, default=list)
    include_responders = serializers.BooleanField(default=True)


class PlaybookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Playbook
        fields = ["id", "unit", "name", "kind", "min_severity", "steps", "holding_statement", "is_active",
                  "created_at", "updated_at"]
        read_only_fields = fields


class PlaybookInputSerializer(serializers.Serializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    name = serializers.CharField(max_length=120)
    kind = serializers.CharField(max_length=12, default="any")
    min_severity = serializers.IntegerField(min_value=1, max_value=10, default=1)
    steps = serializers.JSONField(help_text='[{"title": "...", "owner_role": "owner", "due_minutes": 15}, ...]')
    holding_statement = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(default=True)


class StatementInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class StatementTranslationInputSerializer(serializers.Serializer):
    language = serializers.CharField(max_length=12, help_text="A language code: fr, es, pt-br.")
    text = serializers.CharField(max_length=5000, allow_blank=True, help_text="Empty: remove this language.")


class _CannedRefSerializer(serializers.Serializer):
    """One unit's canned response, the helper teams it reached, and what each of their languages gets."""

    id = serializers.IntegerField(source="canned.pk")
    unit = serializers.IntegerField(source="canned.unit_id")
    shortcut = serializers.CharField(source="canned.shortcut")
    language = serializers.CharField(source="canned.language", help_text="The language of the body.")
    translations = serializers.SerializerMethodField(help_text="The other languages it carries.")
    teams = serializers.ListField(child=serializers.CharField())
    gets = serializers.DictField(child=serializers.CharField(),
                                 help_text="Each team language → the language of the text it gets.")
    fallbacks = serializers.ListField(child=serializers.CharField(),
                                      help_text="Team languages without their own text: they get the room's.")

    def get_translations(self, obj) -> list[str]:
        return sorted(obj.canned.translations or {})


class PushedStatementSerializer(serializers.Serializer):
    canned_responses = _CannedRefSerializer(many=True)


class RoutedConversationSerializer(serializers.ModelSerializer):
    """A conversation the room routed to PR, with its live state in the inbox."""

    status = serializers.CharField(source="conversation.status", read_only=True)
    priority = serializers.CharField(source="conversation.priority", read_only=True)
    team = serializers.IntegerField(source="conversation.team_id", read_only=True, allow_null=True)
    assignee = serializers.IntegerField(source="conversation.assignee_id", read_only=True, allow_null=True)
    escalated = serializers.BooleanField(source="conversation.escalated", read_only=True)

    class Meta:
        model = RoutedConversation
        fields = ["conversation", "routed_at", "status", "priority", "team", "assignee", "escalated"]
        read_only_fields = fields


class OwnerInputSerializer(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, help_text="The user id of the PR owner.")


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[IncidentStatus.OPEN, IncidentStatus.MONITORING],
                                     help_text="open or monitoring; close with close/.")


class SeverityInputSerializer(serializers.Serializer):
    severity = serializers.IntegerField(min_value=1, max_value=10)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PauseInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=400, required=False, allow_blank=True, default="")


class ResumedSerializer(serializers.Serializer):
    resumed = serializers.IntegerField(help_text="Posts scheduled again.")
    fell_due = serializers.IntegerField(help_text="Posts that fell due during the pause and stay held.")


class CloseInputSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=5000, help_text="What happened: the post-mortem's summary.")


class IncidentInputSerializer(serializers.Serializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())
    title = serializers.CharField(max_length=200)
    severity = serializers.IntegerField(min_value=1, max_value=10, default=5)
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=IncidentKind.choices, default=IncidentKind.GENERAL)
