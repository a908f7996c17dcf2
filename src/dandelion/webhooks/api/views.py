"""``/api/v1/webhooks/`` and ``/api/v1/webhook-deliveries/``: subscriptions and their delivery log over REST.
Whoever may manage webhooks nowhere gets a 403; a subscription outside their units is a 404. Writes call services."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from dandelion.core.permissions import has_perm
from dandelion.webhooks import services
from dandelion.webhooks.api.serializers import (
    CreatedSubscriptionSerializer,
    SecretSerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionSerializer,
)
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription


class _ManagersOnly:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):
            return
        if not has_perm(request.user, services.PERM_MANAGE):
            raise PermissionDenied(_("You may not manage webhooks."))

    def get_queryset(self):
        qs = super().get_queryset()  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        return qs.restrict(self.request.user, services.PERM_MANAGE)  # type: ignore[attr-defined]


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions within your units"),
    retrieve=extend_schema(summary="One webhook subscription (never its secret)"),
    create=extend_schema(summary="Subscribe a URL to events (the secret is returned once)",
                         responses={201: CreatedSubscriptionSerializer}),
    update=extend_schema(summary="Update a webhook subscription"),
    partial_update=extend_schema(summary="Update some fields of a webhook subscription"),
    destroy=extend_schema(summary="Delete a webhook subscription and its delivery log"),
)
class WebhookSubscriptionViewSet(_ManagersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                 mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                                 viewsets.GenericViewSet):
    queryset = WebhookSubscription.objects.select_related("unit")
    serializer_class = WebhookSubscriptionSerializer
    filterset_fields = ["state", "unit"]
    ordering = ["unit__path", "name", "id"]
    ordering_fields = ["name", "created_at"]
    search_fields = ["name", "url"]
    lookup_value_regex = r"\d+"

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sub, secret = services.create_subscription(actor=request.user, **serializer.validated_data)
        body = CreatedSubscriptionSerializer(sub).data
        body["secret"] = secret
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def update(self, request, *args, **kwargs):
        sub = self.get_object()
        serializer = self.get_serializer(sub, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k in ("name", "url", "event_types")}
        sub = services.update_subscription(sub, actor=request.user, **changes)
        return Response(WebhookSubscriptionSerializer(sub).data)

    def perform_destroy(self, instance):
        services.delete_subscription(instance, actor=self.request.user)

    @extend_schema(request=None, responses=WebhookSubscriptionSerializer, summary="Re-enable a disabled subscription")
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return Response(WebhookSubscriptionSerializer(
            services.enable_subscription(self.get_object(), actor=request.user)).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer}, summary="Queue a test event")
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        row = services.send_test_event(self.get_object(), actor=request.user)
        return Response(WebhookDeliverySerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=SecretSerializer, summary="Rotate the signing secret (returned once)")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        response = Response({"secret": services.rotate_secret(self.get_object(), actor=request.user)})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(responses=WebhookDeliverySerializer(many=True), summary="The subscription's delivery log")
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        sub = self.get_object()
        qs = sub.deliveries.order_by("-created_at", "-id")
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="List webhook deliveries within your units"),
    retrieve=extend_schema(summary="One webhook delivery, with the body sent and the response"),
)
class WebhookDeliveryViewSet(_ManagersOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):
    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_fields = ["status", "event_type", "subscription"]
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at"]
    search_fields: list[str] = []
    lookup_value_regex = r"\d+"

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer},
                   summary="Send a finished delivery's event again (as a new delivery)")
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        row = services.redeliver(self.get_object(), actor=request.user)
        return Response(WebhookDeliverySerializer(row).data, status=status.HTTP_202_ACCEPTED)
