from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from dandelion.api.serializers import FastReadModelSerializer
from dandelion.inbox.choices import Priority
from dandelion.inbox.models import CannedResponse, Conversation, InboundDelivery, Message
from dandelion.inbox.services import BULK_ACTIONS, BULK_LIMIT, MODERATION_ACTIONS
from dandelion.orgs.api.serializers import VisiblePrimaryKeyField
from dandelion.orgs.models import OrgUnit, Team


class ConversationSerializer(FastReadModelSerializer):
    account_handle = serializers.CharField(source="account.handle", read_only=True)
    network = serializers.CharField(source="account.network", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    assignee_username = serializers.CharField(source="assignee.username", read_only=True, default=None)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Conversation
        fields = ["id", "account", "account_handle", "network", "contact", "contact_name", "kind", "thread_key",
                  "status", "priority", "team", "team_name", "assignee", "assignee_username", "language", "tags",
                  "needs_reply", "escalated", "waiting_since", "first_inbound_at", "first_response_at",
                  "last_inbound_at", "last_outbound_at", "last_activity_at", "sla_due_at", "resolved_at",
                  "routing_reason", "created_at", "updated_at"]
        read_only_fields = fields


class MessageSerializer(FastReadModelSerializer):
    author_name = serializers.CharField(source="author_identity.name", read_only=True, default=None)
    author_handle = serializers.CharField(source="author_identity.handle", read_only=True, default=None)
    author_external_id = serializers.CharField(source="author_identity.external_id", read_only=True, default=None)
    author_user = serializers.CharField(source="author_user.username", read_only=True, default=None)

    class Meta:
        model = Message
        fields = ["id", "conversation", "direction", "kind", "network", "external_id", "author_name",
                  "author_handle", "author_external_id", "author_user", "text", "in_reply_to", "sent_at",
                  "received_at", "language", "language_confidence", "sentiment", "sentiment_score", "intent", "spam",
                  "abuse", "needs_reply", "replied", "replied_at", "moderation_state", "delivery_status",
                  "delivery_error", "is_automatic", "canned_response"]
        read_only_fields = fields


class ReplyInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    canned_response = serializers.IntegerField(required=False, allow_null=True)
    in_reply_to = serializers.IntegerField(required=False, allow_null=True, help_text="Message id answered.")
    last_seen_message = serializers.IntegerField(required=False, allow_null=True,
                                                 help_text="Id of the newest message the agent has seen.")
    confirm_collision = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not (attrs.get("text") or "").strip() and not attrs.get("canned_response"):
            raise serializers.ValidationError({"text": "Write a text or choose a canned response."})
        return attrs


class WithdrawReplyInputSerializer(serializers.Serializer):
    pending_reply = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                             help_text="The held reply (the reply endpoint's 202 answer names it).")


class AssignInputSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                                  allow_null=True)


class TakeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class HandoverInputSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                                 allow_null=True, required=False)
    to_team = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=500)


class HideInputSerializer(serializers.Serializer):
    message = serializers.IntegerField()
    action = serializers.ChoiceField(choices=MODERATION_ACTIONS, default="hide")
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="",
                                   help_text="Why (for report_author: the comment sent to the network's moderators).")


class HideConversationInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                   help_text="Why it is put aside (spam, abuse...), kept in its history.")


class BulkInputSerializer(serializers.Serializer):
    """One action over many conversations (``POST /conversations/bulk/``); ``move`` is ``move_team``."""

    action = serializers.ChoiceField(choices=[*BULK_ACTIONS, "move"])
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), allow_empty=False,
                                max_length=BULK_LIMIT, help_text=f"At most {BULK_LIMIT} conversation ids.")
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                                  required=False, allow_null=True, help_text="For ``assign``.")
    team = VisiblePrimaryKeyField(Team, required=False, allow_null=True,
                                  help_text="For ``move``: the team the conversations go to.")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                   help_text="For ``move`` (required), ``take`` and ``hide``.")
    tags = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list,
                                 max_length=50, help_text="For ``tag``: the tag names added (none is removed).")


class BulkItemResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["done", "refused"])
    detail = serializers.CharField(allow_blank=True, help_text="Why it was refused (empty when done).")


class BulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    done = serializers.IntegerField(help_text="How many conversations the action was applied to.")
    refused = serializers.IntegerField(help_text="How many were refused (each result says why).")
    results = BulkItemResultSerializer(many=True, help_text="One per id asked for, in the order asked.")


class ResolveInputSerializer(serializers.Serializer):
    no_reply_needed = serializers.BooleanField(required=False, default=False)
    confirm_unsent_reply = serializers.BooleanField(
        required=False, default=False,
        help_text="Resolve even though the last reply failed to send (otherwise 409 unsent_reply).")


class PriorityInputSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000)


class CannedResponseSerializer(serializers.ModelSerializer):
    unit = VisiblePrimaryKeyField(OrgUnit)  # a unit outside the caller's scope is answered as a missing one

    class Meta:
        model = CannedResponse
        fields = ["id", "unit", "title", "shortcut", "body", "language", "translations", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_translations(self, value):
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise serializers.ValidationError("Must map language codes to texts.")
        return value


class MetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    group_by = serializers.ChoiceField(choices=["team", "unit", "language", "account"], default="team")


class InboundDeliverySerializer(serializers.ModelSerializer):
    """A stored webhook delivery, without its body and events (the messages they became are the conversations')."""

    class Meta:
        model = InboundDelivery
        fields = ["id", "account", "source", "received_at", "state", "attempts", "event_count", "processed_at",
                  "next_attempt_at", "error"]
        read_only_fields = fields


class RetryDeliveriesInputSerializer(serializers.Serializer):
    account = serializers.IntegerField(help_text="The account whose failed deliveries are queued again.")
    deliveries = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False,
                                       help_text="Only these deliveries (default: all the account's failed ones).")

