"""``/api/v1/accounts/``: the registry over REST. Reads are restricted; every write calls a service."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import parsers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from dandelion.api.viewsets import ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet
from dandelion.assets import services
from dandelion.assets.api.serializers import (
    ArchiveSerializer,
    CredentialsSerializer,
    ImportResultSerializer,
    ImportSerializer,
    SocialAccountSerializer,
    TransferSerializer,
    WebhookSecretSerializer,
)
from dandelion.assets.choices import AccountStatus
from dandelion.assets.filters import SocialAccountFilter
from dandelion.assets.models import SocialAccount
from dandelion.core.permissions import has_perm


class CSVRenderer(BaseRenderer):
    """Lets ``Accept: text/csv`` (or ``?format=csv``) reach the export, which streams its own CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (bytes, str)) else b""


@extend_schema_view(
    list=extend_schema(summary="List accounts within your scope"),
    retrieve=extend_schema(summary="One account (never its secrets)"),
    create=extend_schema(summary="Register an account"),
    update=extend_schema(summary="Update an account"),
    partial_update=extend_schema(summary="Update some fields of an account"),
)
class SocialAccountViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Social accounts. No hard delete: ``POST accounts/<id>/archive/``."""

    queryset = SocialAccount.objects.select_related("owner_unit", "owner")
    serializer_class = SocialAccountSerializer
    filterset_class = SocialAccountFilter
    search_fields = ["handle", "display_name", "external_id"]
    ordering_fields = ["handle", "network", "followers", "created_at", "last_activity_at"]
    ordering = ["network", "handle"]
    lookup_value_regex = r"\d+"
    service_calls = {"create": services.register_account, "update": services.update_account}
    create_permission = services.PERM_ADD  # 403 before the input is read
    create_denied_message = "You may not register accounts."
    write_action = "change"  # an account seen but not changeable: 403 before the input is read

    def get_serializer_class(self):
        return {
            "transfer": TransferSerializer,
            "archive": ArchiveSerializer,
            "restore": ArchiveSerializer,
            "credentials": CredentialsSerializer,
            "rotate_webhook_secret": WebhookSecretSerializer,
            "import_csv": ImportSerializer,
        }.get(self.action, SocialAccountSerializer)

    def filter_queryset(self, queryset):
        """As in the registry's UI: lists and exports leave archived accounts out unless ``?status=`` asks for a
        status (``archived`` included); one account stays reachable by id whatever its status."""
        queryset = super().filter_queryset(queryset)
        if self.action in ("list", "export") and not self.request.query_params.get("status"):
            queryset = queryset.exclude(status=AccountStatus.ARCHIVED)
        return queryset

    # --- writes go through services -----------------------------------------------------------------------

    def perform_update(self, obj, data: dict):
        data.pop("owner_unit", None)  # moved by the transfer action only
        return super().perform_update(obj, data)

    @extend_schema(request=TransferSerializer, responses=SocialAccountSerializer, summary="Move to another unit")
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        account = self.get_object_for("change")
        data = self.validated(TransferSerializer)
        account = services.transfer_account(account, to_unit=data["to_unit"], new_owner=data.get("new_owner"),
                                            clear_owner=data["clear_owner"], actor=request.user,
                                            reason=data["reason"])
        return self.respond(account)

    @extend_schema(request=ArchiveSerializer, responses=SocialAccountSerializer, summary="Archive (soft delete)")
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        account = self.get_object_for("delete")  # archiving is the registry's delete: refused before validation
        reason = self.validated(ArchiveSerializer)["reason"]
        account = services.archive_account(account, actor=request.user, reason=reason)
        return self.respond(account)

    @extend_schema(request=None, responses=SocialAccountSerializer, summary="Restore an archived account")
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        account = services.restore_account(self.get_object(), actor=request.user)
        return self.respond(account)

    @extend_schema(request=CredentialsSerializer, responses=SocialAccountSerializer,
                   summary="Replace the credentials (write-only)")
    @action(detail=True, methods=["post"])
    def credentials(self, request, pk=None):
        account = self.get_object_for("change")
        data = self.validated(CredentialsSerializer)
        account = services.set_account_credentials(
            account, credentials=data["credentials"], expires_at=data.get("expires_at"), actor=request.user,
        )
        return self.respond(account)

    @extend_schema(request=None, responses=WebhookSecretSerializer,
                   summary="Rotate the webhook secret (returned once; admins of the unit only)")
    @action(detail=True, methods=["post"], url_path="rotate-webhook-secret")
    def rotate_webhook_secret(self, request, pk=None):
        secret = services.rotate_webhook_secret(self.get_object(), actor=request.user)
        response = Response({"webhook_secret": secret})
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={201: ImportResultSerializer, 400: ImportResultSerializer},
        summary="Import accounts from CSV (all or nothing)",
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            parser_classes=[parsers.MultiPartParser, parsers.FormParser])
    def import_csv(self, request):
        if not has_perm(request.user, services.PERM_ADD):
            raise PermissionDenied("You may not register accounts.")
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"filename": "", "rows": 0, "ok": False, "created": 0, "errors": [
                {"line": 0, "column": "", "reason": "Upload the CSV file in the 'file' field."}]},
                status=status.HTTP_400_BAD_REQUEST)
        result = services.import_accounts_csv(upload, actor=request.user)
        return Response(result.as_dict(), status=status.HTTP_201_CREATED if result.ok else status.HTTP_400_BAD_REQUEST)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, the import's columns")},
        summary="Export the filtered list as CSV (streamed)",
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None,
            renderer_classes=[JSONRenderer, CSVRenderer])  # JSON first: an error is JSON unless CSV is asked for
    def export(self, request):
        from dandelion.assets.views import export_response

        return export_response(self.filter_queryset(self.get_queryset()))

