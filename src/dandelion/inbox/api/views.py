"""Inbox REST API: conversations (read, filter, search, act), their messages, canned responses, metrics.

Reads go through ``restrict()`` (a conversation the caller may not see is a 404); actions call the services, whose
rule violations come back as JSON 4xx (403 permission, 409 reply collision...)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import F
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dandelion.api.mixins import PermissionFirstMixin
from dandelion.api.viewsets import ServiceModelViewSet, ServiceViewSet
from dandelion.core.filters import IdFilter
from dandelion.core.permissions import require_perm
from dandelion.inbox import services
from dandelion.inbox.api import serializers as s
from dandelion.inbox.choices import DeliveryState
from dandelion.inbox.filters import ConversationFilter
from dandelion.inbox.metrics import inbox_metrics
from dandelion.inbox.models import CannedResponse, Conversation, InboundDelivery, PendingReply
from dandelion.inbox.querysets import for_conversation_list
from dandelion.inbox.text import render_canned


class ConversationViewSet(ServiceViewSet):
    """Conversations within the caller's scope, nearest SLA due time first.

    Filters: ``team``, ``status``, ``assignee``, ``language``, ``priority``, ``account``, ``needs_reply``, and
    ``search`` over message text and author name / handle."""

    queryset = Conversation.objects.select_related("account", "contact", "team", "assignee").prefetch_related("tags")
    serializer_class = s.ConversationSerializer
    filterset_class = ConversationFilter
    ordering_fields = ["sla_due_at", "last_activity_at", "waiting_since", "created_at", "priority", "id"]

    def get_queryset(self):
        qs = super().get_queryset().order_by(F("sla_due_at").asc(nulls_last=True), "-last_activity_at", "id")
        return for_conversation_list(qs) if self.action == "list" else qs

    def _acting(self, action: str) -> Conversation:
        """The conversation (404 when the caller may not see it), once the caller's right to ``action`` it is
        established (403): the input is validated only after that."""
        conversation = self.get_object()
        services.check_action_allowed(conversation, action=action, actor=self.request.user)
        return conversation

    def _result(self, conversation, code=status.HTTP_200_OK):
        conversation = self.get_queryset().get(pk=conversation.pk) if self.get_queryset().filter(
            pk=conversation.pk).exists() else conversation
        return Response(s.ConversationSerializer(conversation, context=self.get_serializer_context()).data,
                        status=code)

    @extend_schema(responses=s.MessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        conversation = self.get_object()
        qs = conversation.messages.select_related("author_identity", "author_user").order_by("sent_at", "id")
        page = self.paginate_queryset(qs)
        data = s.MessageSerializer(page if page is not None else qs, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=s.ReplyInputSerializer, responses={201: s.MessageSerializer, 202: dict})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        conversation = self._acting("reply")
        data = self.validated(s.ReplyInputSerializer)
        canned = None
        if data.get("canned_response"):
            canned = CannedResponse.objects.usable_for(request.user, conversation).filter(
                pk=data["canned_response"]).first()
            if canned is None:
                raise serializers.ValidationError({"canned_response": "Unknown canned response."})
        text = (data.get("text") or "").strip() or render_canned(canned, conversation, request.user)
        message = services.reply_to_conversation(
            conversation, text=text, actor=request.user, canned_response=canned,
            in_reply_to=data.get("in_reply_to"), confirm_collision=data["confirm_collision"],
            seen_message_id=data.get("last_seen_message"))
        if isinstance(message, PendingReply):  # held by the unit's reply approval policy: nothing was sent
            return Response({"pending_reply": message.pk, "status": message.status, "why": message.why},
                            status=status.HTTP_202_ACCEPTED)
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.WithdrawReplyInputSerializer, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="withdraw-reply")
    def withdraw_reply(self, request, pk=None):
        """The author withdraws their reply that awaits approval (nothing is sent)."""
        conversation = self._acting("withdraw")
        data = self.validated(s.WithdrawReplyInputSerializer)
        pending = conversation.pending_replies.filter(pk=data["pending_reply"]).first()
        if pending is None:
            raise serializers.ValidationError({"pending_reply": "No such reply awaiting approval here."})
        pending = services.withdraw_reply(pending, actor=request.user)
        return Response({"pending_reply": pending.pk, "status": pending.status})

    @extend_schema(request=s.AssignInputSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        conversation = self._acting("assign")
        data = self.validated(s.AssignInputSerializer)
        return self._result(services.assign_conversation(conversation, assignee=data["assignee"], actor=request.user))

    @extend_schema(request=s.TakeInputSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        conversation = self._acting("take")
        data = self.validated(s.TakeInputSerializer)
        return self._result(services.take_conversation(conversation, actor=request.user, reason=data["reason"]))

    @extend_schema(request=s.HandoverInputSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def handover(self, request, pk=None):
        from dandelion.orgs.models import Team

        conversation = self._acting("handover")
        data = self.validated(s.HandoverInputSerializer)
        team = None
        if data.get("to_team"):
            team = Team.objects.restrict(request.user, "view").filter(pk=data["to_team"]).first()
            if team is None:
                raise serializers.ValidationError({"to_team": "Unknown team."})
        conversation = services.handover_conversation(conversation, to_user=data.get("to_user"), to_team=team,
                                                      reason=data["reason"], actor=request.user)
        return self._result(conversation)

    @extend_schema(request=s.HideInputSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        """Moderate one message of the conversation (``action``: hide by default, unhide, delete, ban_author,
        mute_author, report_author: the last two where the account's network offers them)."""
        conversation = self._acting("moderate")
        data = self.validated(s.HideInputSerializer)
        message = conversation.messages.filter(pk=data["message"]).first()
        if message is None:
            raise serializers.ValidationError({"message": "No such message in this conversation."})
        message = services.moderate_message(message, action=data["action"], actor=request.user,
                                            reason=data.get("reason") or "")
        message.refresh_from_db()
        return Response(s.MessageSerializer(message).data)

    @extend_schema(request=s.HideConversationInputSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"], url_path="hide-conversation")
    def hide_conversation(self, request, pk=None):
        """Put the conversation aside as spam or abuse (status ``hidden``: out of the queues, SLA clocks
        stopped); the messages stay as they are on the network (``hide`` moderates a message)."""
        conversation = self._acting("hide")
        data = self.validated(s.HideConversationInputSerializer)
        return self._result(services.hide_conversation(conversation, actor=request.user, reason=data["reason"]))

    @extend_schema(request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"], url_path="unhide-conversation")
    def unhide_conversation(self, request, pk=None):
        """Bring a hidden conversation back to the queue, open."""
        return self._result(services.unhide_conversation(self._acting("unhide"), actor=request.user))

    @extend_schema(request=s.BulkInputSerializer, responses=s.BulkResultSerializer)
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """One action over many conversations (``take``, ``assign``, ``move``, ``resolve``, ``hide``, ``unhide``,
        ``tag``), as the queue's bulk bar does: each conversation goes through its own service (permission-checked,
        audited), so a refusal leaves the others done; an id the caller cannot see is refused as not found. The
        answer has one result per id. A bad request (no assignee, no team, no reason for a move, no tags, a tag too
        long) changes nothing (400)."""
        data = self.validated(s.BulkInputSerializer)
        ids = list(dict.fromkeys(data["ids"]))
        visible = list(self.get_queryset().filter(pk__in=ids).order_by("pk"))
        found = {c.pk for c in visible}
        action_name = "move_team" if data["action"] == "move" else data["action"]
        result = services.bulk_conversations(
            visible, action=action_name, actor=request.user, assignee=data.get("assignee"), team=data.get("team"),
            reason=data["reason"], tags=data["tags"], missing=[pk for pk in ids if pk not in found])
        results = [{"id": pk, "status": "refused" if pk in result.refused else "done",
                    "detail": result.refused.get(pk, "")} for pk in ids]
        return Response(s.BulkResultSerializer({"action": data["action"], "done": len(result.done),
                                                "refused": len(result.refused), "results": results}).data)

    @extend_schema(request=s.ResolveInputSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        conversation = self._acting("resolve")
        data = self.validated(s.ResolveInputSerializer)
        return self._result(services.resolve_conversation(conversation, actor=request.user,
                                                          no_reply_needed=data["no_reply_needed"],
                                                          confirm_unsent_reply=data["confirm_unsent_reply"]))

    @extend_schema(request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._result(services.reopen_conversation(self._acting("reopen"), actor=request.user))

    @extend_schema(request=s.PriorityInputSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def priority(self, request, pk=None):
        conversation = self._acting("priority")
        data = self.validated(s.PriorityInputSerializer)
        return self._result(services.set_priority(conversation, priority=data["priority"], actor=request.user))

    @extend_schema(request=s.NoteInputSerializer, responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        conversation = self._acting("note")
        data = self.validated(s.NoteInputSerializer)
        note = services.add_note(conversation, text=data["text"], actor=request.user)
        return Response(s.MessageSerializer(note).data, status=status.HTTP_201_CREATED)


class CannedResponseFilter(django_filters.FilterSet):
    """By unit id (one outside the caller's scope matches nothing, as a missing one does), language, shortcut."""

    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = CannedResponse
        fields = ["unit", "language", "shortcut"]


class CannedResponseViewSet(PermissionFirstMixin, ServiceModelViewSet):
    """Canned responses of the caller's units; writes through the services (permission per unit)."""

    queryset = CannedResponse.objects.select_related("unit")
    serializer_class = s.CannedResponseSerializer
    ordering_fields = ["title", "shortcut", "created_at"]
    filterset_class = CannedResponseFilter

    service_calls = {"create": services.create_canned_response, "update": services.update_canned_response,
                     "destroy": services.delete_canned_response}


class InboundDeliveryFilter(django_filters.FilterSet):
    """By state and account id (an account outside the caller's scope matches nothing, as a missing one does)."""

    state = django_filters.ChoiceFilter(choices=DeliveryState.choices)
    account = django_filters.NumberFilter(field_name="account_id")

    class Meta:
        model = InboundDelivery
        fields = ["state", "account"]


class InboundDeliveryViewSet(ServiceViewSet):
    """Stored webhook deliveries of the accounts the caller can see, newest first (``state``: pending, processing,
    done, failed; ``account``): what waits, and what failed for good with its last error. ``POST .../retry/``
    queues an account's failed deliveries again (the caller must be allowed to change the account)."""

    queryset = InboundDelivery.objects.defer("body", "payload")
    serializer_class = s.InboundDeliverySerializer
    filterset_class = InboundDeliveryFilter
    ordering_fields = ["received_at", "id"]

    def get_queryset(self):
        return super().get_queryset().order_by("-received_at", "-id")

    @extend_schema(request=s.RetryDeliveriesInputSerializer,
                   responses=inline_serializer("RetryDeliveriesResult", {
                       "queued": serializers.IntegerField(),
                       "remaining": serializers.BooleanField(
                           help_text="More of the account's failed deliveries are left: call again (at most "
                                     f"{services.RETRY_REQUEST_LIMIT:,} a call)")}))
    @action(detail=False, methods=["post"])
    def retry(self, request):
        from django.shortcuts import get_object_or_404

        from dandelion.assets.models import SocialAccount

        require_perm(request.user, services.PERM_RETRY_DELIVERIES)  # anywhere, before the input is read
        data = self.validated(s.RetryDeliveriesInputSerializer)
        account = get_object_or_404(SocialAccount.objects.restrict(request.user, "view"), pk=data["account"])
        queued = services.retry_failed_deliveries(account, actor=request.user, ids=data.get("deliveries"),
                                                  limit=services.RETRY_REQUEST_LIMIT)
        left = InboundDelivery.objects.filter(account=account, state=DeliveryState.FAILED)
        if data.get("deliveries"):
            left = left.filter(pk__in=data["deliveries"])
        return Response({"queued": queued, "remaining": left.exists()})


class InboxMetricsViewSet(viewsets.ViewSet):
    """``GET /api/v1/metrics/inbox/?since=YYYY-MM-DD&until=YYYY-MM-DD&group_by=team|unit|language|account``."""

    @extend_schema(parameters=[
        OpenApiParameter("since", dt.date), OpenApiParameter("until", dt.date),
        OpenApiParameter("group_by", str, enum=["team", "unit", "language", "account"]),
    ], responses={200: dict})
    def list(self, request):
        query = s.MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        today = timezone.now().date()
        since = data.get("since") or today - dt.timedelta(days=30)
        until = data.get("until") or today
        return Response(inbox_metrics(user=request.user, since=since, until=until, group_by=data["group_by"]))
