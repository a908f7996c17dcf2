from rest_framework import serializers

from dandelion.assets.models import SocialAccount
from dandelion.listening.models import Alert, ListeningQuery, Mention
from dandelion.listening.query import QuerySyntaxError, compile_query
from dandelion.orgs.models import OrgUnit


class _ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related field whose choices are the rows the requesting user may see (outside: "does not exist")."""

    def get_queryset(self):
        qs = super().get_queryset()
        request = self.context.get("request")
        return qs.restrict(request.user, "view") if request is not None else qs.none()


class ListeningQuerySerializer(serializers.ModelSerializer):
    unit = _ScopedRelatedField(queryset=OrgUnit.objects.all())
    text = serializers.CharField(max_length=2000, help_text="The query, e.g. (acme OR #acme) AND NOT lang:de")
    health = serializers.SerializerMethodField()

    class Meta:
        model = ListeningQuery
        fields = ["id", "unit", "name", "text", "description", "is_active", "is_competitor", "network_search",
                  "mention_count",
                  "last_evaluated_at", "health", "created_at", "updated_at"]
        read_only_fields = ["id", "mention_count", "last_evaluated_at", "health", "created_at", "updated_at"]

    def get_health(self, obj) -> dict:
        from dandelion.listening.services import query_health

        h = query_health(obj)
        return {"ok": h["ok"], "last_error": h["last_error"], "stale": h["stale"]}

    def validate_text(self, value: str) -> str:
        try:
            compile_query(value)
        except QuerySyntaxError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value.strip()


class QueryCheckSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)


class MentionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Mention
        fields = ["id", "source", "network", "url", "author", "author_reach", "text", "language", "country",
                  "sentiment", "posted_at", "conversation_id", "addressed", "needs_reply"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    query_name = serializers.CharField(source="query.name", read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "query", "query_name", "state", "severity", "started_at", "last_seen_at", "ended_at",
                  "peak_count", "expected", "window_minutes", "p_value", "updates", "acknowledged_by",
                  "acknowledged_at"]
        read_only_fields = fields


class ToInboxSerializer(serializers.Serializer):
    mention = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    account = _ScopedRelatedField(queryset=SocialAccount.objects.all())


class ConversationRefSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
