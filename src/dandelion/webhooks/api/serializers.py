from __future__ import annotations

from rest_framework import serializers

from dandelion.webhooks import delivery
from dandelion.webhooks.exceptions import WebhookError
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription; never its secret (returned once, by create and rotate-secret)."""

    event_types = serializers.ListField(child=serializers.CharField(max_length=80), allow_empty=False,
                                        max_length=100)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "unit", "name", "url", "event_types", "state", "disabled_reason", "disabled_at",
                  "consecutive_failures", "last_success_at", "last_failure_at", "created_at", "updated_at"]
        read_only_fields = ["state", "disabled_reason", "disabled_at", "consecutive_failures", "last_success_at",
                            "last_failure_at", "created_at", "updated_at"]
        extra_kwargs = {"url": {"max_length": 500}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, (list, tuple)) and "unit" in self.fields:
            self.fields["unit"].read_only = True  # the unit does not change: delete and create instead

    def validate_url(self, value: str) -> str:
        try:
            return delivery.check_url(value)
        except WebhookError as exc:
            raise serializers.ValidationError(exc.message) from exc


class CreatedSubscriptionSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret: shown this once.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                  "response_code", "response_body", "duration_ms", "error", "redelivery_of", "created_at",
                  "last_attempt_at", "finished_at", "payload"]
        read_only_fields = fields
