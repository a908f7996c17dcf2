import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from dandelion.api.viewsets import ServiceCreateMixin, ServiceViewSet
from dandelion.core.filters import IdFilter
from dandelion.crisis import services
from dandelion.crisis.api.serializers import (
    ChecklistItemSerializer,
    CloseInputSerializer,
    IncidentInputSerializer,
    IncidentSerializer,
    LogEntrySerializer,
    LogInputSerializer,
    OwnerInputSerializer,
    PauseInputSerializer,
    PlaybookInputSerializer,
    PlaybookSerializer,
    PushedStatementSerializer,
    ResumedSerializer,
    RoutedConversationSerializer,
    SeverityInputSerializer,
    StakeholderInputSerializer,
    StakeholderUpdateSerializer,
    StatementInputSerializer,
    StatementTranslationInputSerializer,
    StatusInputSerializer,
    TickInputSerializer,
)
from dandelion.crisis.models import ChecklistItem, Incident, Playbook


class IncidentFilter(django_filters.FilterSet):
    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = Incident
        fields = ["unit", "status", "source"]


class IncidentViewSet(ServiceCreateMixin, ServiceViewSet):
    """Crisis rooms (incidents) within your scope, newest first, with who is on them and their response times;
    ``POST`` opens one by hand on a unit (and its subtree)."""

    queryset = Incident.objects.select_related("unit").prefetch_related("responders__user", "checklist__done_by")
    serializer_class = IncidentSerializer
    write_serializers = {"create": IncidentInputSerializer}
    service_calls = {"create": services.open_incident}
    create_permission = services.PERM_OPEN
    filterset_class = IncidentFilter
    ordering_fields = ["opened_at", "severity", "id"]

    def _change(self):
        """The incident, once the actor is known to may act on it (403 before any validation of the input)."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        return incident

    @extend_schema(request=OwnerInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def owner(self, request, pk=None):
        """Make a person the PR owner (someone who may act on the incident's unit)."""
        from django.contrib.auth import get_user_model
        from rest_framework.exceptions import ValidationError

        incident = self._change()
        data = self.validated(OwnerInputSerializer)
        owner = get_user_model().objects.filter(pk=data["owner"], is_active=True).first()
        if owner is None:
            raise ValidationError({"owner": ["No such active person."]})
        return self.respond(services.assign_owner(incident, actor=request.user, owner=owner))

    @extend_schema(request=StatusInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """open → monitoring and back (closing is ``close/``, with the post-mortem)."""
        incident = self._change()
        data = self.validated(StatusInputSerializer)
        return self.respond(services.set_status(incident, actor=request.user, status=data["status"]))

    @extend_schema(request=SeverityInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def severity(self, request, pk=None):
        """Raise or lower the severity (a rise is announced like an opening)."""
        incident = self._change()
        data = self.validated(SeverityInputSerializer)
        return self.respond(services.escalate_incident(incident, actor=request.user, **data))

    @extend_schema(request=PauseInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Pause every scheduled post of the incident's subtree (the publishing app's pause, linked to the room)."""
        incident = self._change()
        self.require("publishing.add_crisispause", incident.unit)
        data = self.validated(PauseInputSerializer)
        return self.respond(services.pause_publishing(incident, actor=request.user, **data))

    @extend_schema(request=None, responses={200: ResumedSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """End the room's publishing pause: posts still ahead of their time are scheduled again."""
        incident = self._change()
        self.require("publishing.change_crisispause", incident.unit)
        return Response(ResumedSerializer(services.resume_publishing(incident, actor=request.user)).data)

    @extend_schema(request=CloseInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the room with its post-mortem (read-only afterwards: 409 on any change)."""
        incident = self._change()
        data = self.validated(CloseInputSerializer)
        return self.respond(services.close_incident(incident, actor=request.user, summary=data["summary"]))

    @extend_schema(request=LogInputSerializer, responses={201: LogEntrySerializer})
    @action(detail=True, methods=["post"])
    def log(self, request, pk=None):
        """Append a note, an action or a decision to the incident's shared log (append-only)."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        data = self.validated(LogInputSerializer)
        entry = services.add_log_entry(incident, actor=request.user, text=data["text"], kind=data["kind"])
        return self.respond(entry, status.HTTP_201_CREATED, LogEntrySerializer)

    @extend_schema(request=TickInputSerializer, responses={200: ChecklistItemSerializer})
    @action(detail=True, methods=["post"])
    def tick(self, request, pk=None):
        """Tick a step of the incident's playbook checklist off (``done: true``) or back on (``done: false``)."""
        incident = self.get_object()
        self.require(services.PERM_TICK, incident.unit)
        data = self.validated(TickInputSerializer)
        item = ChecklistItem.objects.filter(incident=incident, pk=data["item"]).first()
        if item is None:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"item": ["Not a step of this incident's checklist."]})
        item = services.tick_item(item, actor=request.user, done=data["done"])
        return self.respond(item, status.HTTP_200_OK, ChecklistItemSerializer)

    @extend_schema(request=StakeholderInputSerializer, responses={201: StakeholderUpdateSerializer})
    @action(detail=True, methods=["post"])
    def stakeholders(self, request, pk=None):
        """E-mail a stakeholder update (to ``recipients`` and, by default, the people on the incident)."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        data = self.validated(StakeholderInputSerializer)
        update = services.send_stakeholder_update(incident, actor=request.user, **data)
        return self.respond(update, status.HTTP_201_CREATED, StakeholderUpdateSerializer)


    @extend_schema(request=StatementInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def statement(self, request, pk=None):
        """Save the holding statement's draft (each version is a line of the log)."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        data = self.validated(StatementInputSerializer)
        incident = services.save_holding_statement(incident, actor=request.user, text=data["text"])
        return self.respond(incident, status.HTTP_200_OK, IncidentSerializer)

    @extend_schema(request=StatementTranslationInputSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"], url_path="statement-translation")
    def statement_translation(self, request, pk=None):
        """Save the holding statement in one language (an empty text removes it); the draft is in the room's
        language (``statement_language``)."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        data = self.validated(StatementTranslationInputSerializer)
        incident = services.save_statement_translation(incident, actor=request.user, **data)
        return self.respond(incident, status.HTTP_200_OK, IncidentSerializer)

    @extend_schema(request=None, responses={200: PushedStatementSerializer})
    @action(detail=True, methods=["post"], url_path="push-statement")
    def push_statement(self, request, pk=None):
        """Push the holding statement as a canned response to every helper team of the incident's subtree."""
        incident = self.get_object()
        self.require(services.PERM_CHANGE, incident.unit)
        pushed = services.push_statement_to_helpers(incident, actor=request.user)
        return Response(PushedStatementSerializer({"canned_responses": pushed}).data)


    @extend_schema(request=None, responses={200: RoutedConversationSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def conversations(self, request, pk=None):
        """The inbox conversations the room routed to PR (those you may see in the inbox), newest first, paginated,
        with their live state."""
        from dandelion.inbox.models import Conversation

        incident = self.get_object()
        visible = Conversation.objects.restrict(request.user, "view").values("pk")
        rows = (incident.routed_conversations.filter(conversation__in=visible).select_related("conversation")
                .order_by("-routed_at", "-pk"))
        page = self.paginate_queryset(rows)
        data = RoutedConversationSerializer(page, many=True).data
        return self.get_paginated_response(data)


class PlaybookViewSet(ServiceCreateMixin, ServiceViewSet):
    """Crisis playbooks within your scope (steps owned by roles, due times, a holding statement); ``POST`` defines
    one for a unit and below."""

    queryset = Playbook.objects.select_related("unit")
    serializer_class = PlaybookSerializer
    write_serializers = {"create": PlaybookInputSerializer}
    service_calls = {"create": services.create_playbook}
    create_permission = services.PERM_ADD_PLAYBOOK
    ordering_fields = ["id", "name"]
