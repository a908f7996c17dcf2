"""``/api/v1/analytics-rollups/`` (the rows), ``/api/v1/analytics-dashboard/`` (a period's figures against the
previous period, a daily series and breakdowns), ``/api/v1/analytics-leaderboard/`` and ``/api/v1/success-stories/``.
Reads go through ``restrict()``; story writes through ``analytics.services``."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dandelion.analytics import filters, published, reports, services
from dandelion.analytics.api.serializers import (
    DailyRollupSerializer,
    SuccessStorySerializer,
    SuccessStoryUpdateSerializer,
    SuccessStoryWriteSerializer,
)
from dandelion.analytics.models import DailyRollup, SuccessStory
from dandelion.api.mixins import PermissionFirstMixin
from dandelion.api.viewsets import ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet

SCOPE_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: 27 days before the end)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
    OpenApiParameter("unit", OpenApiTypes.INT, description="A unit: its whole subtree."),
    OpenApiParameter("team", OpenApiTypes.INT),
    OpenApiParameter("account", OpenApiTypes.INT),
    OpenApiParameter("network", OpenApiTypes.STR),
    OpenApiParameter("language", OpenApiTypes.STR),
    OpenApiParameter("campaign", OpenApiTypes.INT, description="A publishing campaign: narrows the publishing "
                     "figures to its posts (unknown or not visible: 404)"),
]


@extend_schema_view(
    list=extend_schema(summary="Daily rollup rows within your units", parameters=SCOPE_PARAMETERS),
    retrieve=extend_schema(summary="One daily rollup row"),
)
class DailyRollupViewSet(ServiceViewSet):
    queryset = DailyRollup.objects.all()
    serializer_class = DailyRollupSerializer
    ordering = ["day", "account_id", "team_id", "language", "id"]
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def list(self, request, *args, **kwargs):
        scope = filters.resolve(request.user, request.query_params)
        qs = scope.queryset.filter(day__gte=scope.period.start, day__lte=scope.period.end).order_by(*self.ordering)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DashboardViewSet(viewsets.ViewSet):
    @extend_schema(summary="A dashboard: the period's figures, the previous period's, a daily series, per unit "
                           "and per account; posts published and their clicks", parameters=SCOPE_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        scope = filters.resolve(request.user, request.query_params)
        data = reports.merged_dashboard(scope, _unit_labels, _account_labels)
        data["scope"] = {"kind": scope.kind, "label": scope.label, **scope.params}
        # posts published and short-link clicks (null under a team or language filter: posts carry neither)
        data["published"] = published.performance(request.user, scope) if published.applies(scope) else None
        return Response(data)


class LeaderboardViewSet(viewsets.ViewSet):
    @extend_schema(summary="Top properties: accounts ranked within their peer group", parameters=SCOPE_PARAMETERS,
                   responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        scope = filters.resolve(request.user, request.query_params)
        entries = reports.leaderboard(scope.queryset, leaderboard_accounts(request.user, scope), scope.period)
        return Response({"period": {"start": scope.period.start.isoformat(), "end": scope.period.end.isoformat()},
                         "results": entries})


def leaderboard_accounts(user, scope):
    from dandelion.assets.models import SocialAccount

    accounts = SocialAccount.objects.restrict(user, "view").select_related("owner_unit")
    if scope.unit is not None:
        accounts = accounts.filter(owner_unit__path__startswith=scope.unit.path)
    if scope.account is not None:
        accounts = accounts.filter(pk=scope.account.pk)
    if scope.network:
        accounts = accounts.filter(network=scope.network)
    return accounts


def _unit_labels(ids: set) -> dict:
    from dandelion.orgs.models import OrgUnit

    return dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "name"))


def _account_labels(ids: set) -> dict:
    from dandelion.assets.models import SocialAccount

    return {a.pk: str(a) for a in SocialAccount.objects.filter(pk__in=ids)}


@extend_schema_view(
    list=extend_schema(summary="Success stories: your units' and every featured one"),
    retrieve=extend_schema(summary="One success story, with its frozen before/after figures"),
    create=extend_schema(summary="Draft a success story (the snapshot is frozen from the rollups)"),
    update=extend_schema(summary="Edit a story that is not featured yet"),
    partial_update=extend_schema(summary="Edit some fields of a story that is not featured yet"),
)
class SuccessStoryViewSet(PermissionFirstMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    queryset = SuccessStory.objects.select_related("unit", "account")
    serializer_class = SuccessStorySerializer
    write_serializers = {"create": SuccessStoryWriteSerializer, "update": SuccessStoryUpdateSerializer,
                         "partial_update": SuccessStoryUpdateSerializer}
    service_calls = {"create": services.create_story, "update": services.update_story}
    filterset_fields = ["status", "theme"]
    ordering = ["-featured_at", "-submitted_at", "-created_at", "-id"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        qs = SuccessStory.objects.select_related("unit", "account")
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        return qs.readable_by(self.request.user)

    @extend_schema(request=None, responses=SuccessStorySerializer, summary="Submit a draft to the hub")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        story = self.get_object()
        self.require(services.PERM_SUBMIT_STORY, story.unit)
        return self.respond(services.submit_story(story, actor=request.user))

    @extend_schema(request=None, responses=SuccessStorySerializer, summary="Feature a submitted story (the hub)")
    @action(detail=True, methods=["post"])
    def feature(self, request, pk=None):
        from dandelion.core.plugins import org_tree

        story = self.get_object()
        self.require(services.PERM_FEATURE_STORY, org_tree().root_unit())
        return self.respond(services.feature_story(story, actor=request.user))
