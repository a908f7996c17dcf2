import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from dandelion.api.mixins import PermissionFirstMixin
from dandelion.api.viewsets import ServiceModelViewSet, ServiceViewSet
from dandelion.core.filters import IdFilter
from dandelion.listening import series as series_mod
from dandelion.listening import services
from dandelion.listening.api.serializers import (
    AlertSerializer,
    ConversationRefSerializer,
    ListeningQuerySerializer,
    MentionSerializer,
    QueryCheckSerializer,
    ToInboxSerializer,
)
from dandelion.listening.models import Alert, ListeningQuery, Mention, MentionMatch
from dandelion.listening.query import check


class ListeningQueryFilter(django_filters.FilterSet):
    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = ListeningQuery
        fields = ["unit", "is_active", "is_competitor"]


class ListeningQueryViewSet(PermissionFirstMixin, ServiceModelViewSet):
    """Listening queries within your scope. A query that does not parse, or would match almost everything, is
    refused (400) with the reason and the position of the mistake."""

    queryset = ListeningQuery.objects.select_related("unit")
    serializer_class = ListeningQuerySerializer
    filterset_class = ListeningQueryFilter
    ordering_fields = ["name", "id", "mention_count"]
    search_fields = ["name", "text"]
    service_calls = {"create": services.create_query, "update": services.update_query,
                     "destroy": services.delete_query}

    @extend_schema(request=QueryCheckSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def check(self, request):
        """Parse a query without saving it: ``{"ok": true, "normalised", "terms"}`` or the error and position."""
        self.require("listening.view_listeningquery")
        data = self.validated(QueryCheckSerializer)
        return Response(check(data["text"]))

    @extend_schema(parameters=[OpenApiParameter("start", str), OpenApiParameter("end", str),
                               OpenApiParameter("bucket", str, enum=["hour", "day"])],
                   responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def series(self, request, pk=None):
        """Volume, sentiment mix, top terms/hashtags/authors, languages, countries and share of voice, by hour or
        day over the period (default: the last 7 days), from the hourly rollups."""
        query = self.get_object()
        try:
            start, end = series_mod.parse_period(request.query_params.get("start"), request.query_params.get("end"))
            return Response(series_mod.series(query, start, end, bucket=request.query_params.get("bucket", "hour")))
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from None

    @extend_schema(responses={200: MentionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def mentions(self, request, pk=None):
        """The query's mentions, newest first (paginated)."""
        query = self.get_object()
        qs = Mention.objects.filter(pk__in=MentionMatch.objects.filter(query=query).values("mention_id")
                                    ).order_by("-posted_at", "-pk")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MentionSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post", "delete"])
    def subscription(self, request, pk=None):
        """Follow the query's alerts by e-mail (POST) or stop (DELETE), for yourself."""
        query = self.get_object()
        following = services.set_subscription(query, actor=request.user, subscribed=request.method == "POST")
        return Response({"subscribed": following})

    @extend_schema(request=ToInboxSerializer, responses={201: ConversationRefSerializer})
    @action(detail=True, methods=["post"], url_path="to-inbox")
    def to_inbox(self, request, pk=None):
        """Turn one of the query's mentions into an inbox conversation on an account you may work on."""
        query = self.get_object()
        self.require("inbox.change_conversation")
        data = self.validated(ToInboxSerializer)
        match = MentionMatch.objects.filter(query=query, mention_id=data["mention"]).select_related("mention").first()
        if match is None:
            raise NotFound(_("This query has no such mention."))
        conversation = services.send_mention_to_inbox(match.mention, account=data["account"], actor=request.user)
        return Response({"conversation": conversation}, status=status.HTTP_201_CREATED)


class AlertFilter(django_filters.FilterSet):
    query = IdFilter(field_name="query_id")

    class Meta:
        model = Alert
        fields = ["query", "state"]


class AlertViewSet(ServiceViewSet):
    """Spike alerts of the queries within your scope, newest first."""

    queryset = Alert.objects.select_related("query__unit")
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["started_at", "severity", "id"]

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        return self.respond(services.acknowledge_alert(alert, actor=request.user))


