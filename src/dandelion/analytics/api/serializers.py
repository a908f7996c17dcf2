from __future__ import annotations

from rest_framework import serializers

from dandelion.analytics.choices import StoryTheme
from dandelion.analytics.models import DailyRollup, SuccessStory
from dandelion.orgs.api.serializers import VisiblePrimaryKeyField
from dandelion.orgs.models import OrgUnit
from dandelion.orgs.rendering import render_markdown

HISTOGRAM_HELP = "Sparse {bucket index: count} on the fixed log scale of docs/analytics.md (bucket i >= 1: " \
                 "[2^((i-1)/8), 2^(i/8)) seconds; bucket 0: under 1 s)."


class DailyRollupSerializer(serializers.ModelSerializer):
    frt_hist = serializers.DictField(child=serializers.IntegerField(), help_text=HISTOGRAM_HELP)
    resolution_hist = serializers.DictField(child=serializers.IntegerField(), help_text=HISTOGRAM_HELP)

    class Meta:
        model = DailyRollup
        fields = ["id", "day", "account", "unit", "team", "network", "language", "inbound", "needs_reply",
                  "answered", "inbound_answered", "hidden", "hidden_spam", "hidden_abuse", "sentiment_positive",
                  "sentiment_neutral", "sentiment_negative", "conversations", "first_responses", "frt_sum_s",
                  "frt_hist", "resolutions", "resolution_sum_s", "resolution_hist", "sla_met", "sla_breached",
                  "computed_at"]
        read_only_fields = fields


class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    """An account the requester may see: anything else "does not exist"."""

    def __init__(self, **kwargs):
        from dandelion.assets.models import SocialAccount

        kwargs.setdefault("queryset", SocialAccount.objects.all())  # the schema's type; reads use get_queryset
        super().__init__(**kwargs)

    def get_queryset(self):
        from dandelion.assets.models import SocialAccount

        request = self.context.get("request")
        return SocialAccount.objects.restrict(getattr(request, "user", None), "view")


class SuccessStorySerializer(serializers.ModelSerializer):
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = SuccessStory
        fields = ["id", "unit", "account", "title", "body", "body_html", "theme", "status", "before_start",
                  "before_end", "after_start", "after_end", "snapshot", "snapshot_at", "author", "submitted_at",
                  "featured_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_body_html(self, obj) -> str:
        return str(render_markdown(obj.body))


class SuccessStoryWriteSerializer(serializers.Serializer):
    unit = VisiblePrimaryKeyField(model=OrgUnit)
    account = VisibleAccountField(required=False, allow_null=True)
    title = serializers.CharField(max_length=160)
    body = serializers.CharField(max_length=50_000)
    theme = serializers.ChoiceField(choices=StoryTheme.choices, required=False)
    before_start = serializers.DateField(required=False, allow_null=True)
    before_end = serializers.DateField(required=False, allow_null=True)
    after_start = serializers.DateField(required=False, allow_null=True)
    after_end = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        for name in ("before", "after"):
            start, end = attrs.get(f"{name}_start"), attrs.get(f"{name}_end")
            if bool(start) != bool(end):
                raise serializers.ValidationError({f"{name}_end": f"Give both ends of the {name} window."})
            if start and end and end < start:
                raise serializers.ValidationError({f"{name}_end": f"The {name} window ends before it starts."})
        return attrs


class SuccessStoryUpdateSerializer(SuccessStoryWriteSerializer):
    unit = None  # type: ignore[assignment]  # a story stays in its unit
