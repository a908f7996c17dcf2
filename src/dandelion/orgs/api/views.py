"""REST endpoints of the organisation. Reads go through ``restrict()`` (404 outside the requester's scope);
writes validate with a serializer and call ``orgs.services`` (403 when visible but not allowed).

There is no DELETE: units and teams are deactivated, memberships revoked, published guidelines kept forever.
"""

from __future__ import annotations

from typing import ClassVar

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from dandelion.api.viewsets import ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.filters import query_id
from dandelion.core.permissions import has_perm
from dandelion.orgs import services
from dandelion.orgs.api import serializers as s
from dandelion.orgs.filters import GuidelineFilter, MembershipFilter, OrgUnitFilter, TeamFilter
from dandelion.orgs.models import Guideline, GuidelineAcknowledgement, Membership, OrgUnit, Team
from dandelion.orgs.reports import build_rollup, pending_acknowledgements


def _writes(read, write):
    """drf-spectacular: request shape ``write``, response shape ``read``."""
    return extend_schema(request=write, responses={200: read, 201: read})


@extend_schema_view(
    create=_writes(s.OrgUnitSerializer, s.OrgUnitCreateSerializer),
    update=_writes(s.OrgUnitSerializer, s.OrgUnitUpdateSerializer),
    partial_update=_writes(s.OrgUnitSerializer, s.OrgUnitUpdateSerializer),
)
class OrgUnitViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """The organisation tree: units visible to the requester (a grant covers its unit's subtree)."""

    queryset = OrgUnit.objects.all()
    serializer_class = s.OrgUnitSerializer
    write_serializers: ClassVar[dict[str, type]] = {"create": s.OrgUnitCreateSerializer, "update": s.OrgUnitUpdateSerializer,
                         "partial_update": s.OrgUnitUpdateSerializer, "move": s.MoveUnitSerializer}
    service_calls: ClassVar[dict] = {"create": services.create_unit, "update": services.update_unit}
    instance_kwarg = "unit"
    filterset_class = OrgUnitFilter
    search_fields = ("name", "slug")
    ordering_fields = ("path", "name", "depth", "created_at")

    def create(self, request):
        self.require("orgs.add_orgunit")
        unit = services.create_unit(actor=request.user, **self.validated())
        return self.respond(unit, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        unit = self.get_object()
        self.require("orgs.change_orgunit", unit)
        return self.respond(services.update_unit(actor=request.user, unit=unit, **self.validated(partial=partial)))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=s.MoveUnitSerializer, responses=s.OrgUnitSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Re-parent the unit and its whole subtree."""
        unit = self.get_object()
        if unit.parent_id is not None:
            self.require("orgs.change_orgunit", unit.parent)
        return self.respond(services.move_unit(actor=request.user, unit=unit, new_parent=self.validated()["parent"]))

    @extend_schema(request=None, responses=s.OrgUnitSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self.respond(services.deactivate_unit(actor=request.user, unit=self.get_object()))

    @extend_schema(request=None, responses=s.OrgUnitSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self.respond(services.reactivate_unit(actor=request.user, unit=self.get_object()))

    @extend_schema(
        responses=s.RollupSerializer(many=True),
        parameters=[
            OpenApiParameter("within", int, description="Only this unit's subtree."),
            OpenApiParameter("inactive", bool, description="Include deactivated units."),
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def tree(self, request):
        """Every visible unit in tree order with figures rolled up over its subtree (not paginated)."""
        within = None
        within_id = query_id(request, "within")
        if within_id is not None:
            within = self.get_queryset().filter(pk=within_id).first()
            if within is None:
                return Response({"detail": "No such unit."}, status=status.HTTP_404_NOT_FOUND)
        rollup = build_rollup(request.user, within=within,
                              include_inactive=request.query_params.get("inactive") in ("1", "true"))
        rows = [
            {"id": n.unit.pk, "parent": n.unit.parent_id, "name": n.unit.name, "kind": n.unit.kind,
             "depth": n.unit.depth, "is_active": n.unit.is_active, **n.total.as_dict()}
            for n in rollup
        ]
        return Response(s.RollupSerializer(rows, many=True).data)


@extend_schema_view(
    create=_writes(s.TeamSerializer, s.TeamCreateSerializer),
    update=_writes(s.TeamSerializer, s.TeamUpdateSerializer),
    partial_update=_writes(s.TeamSerializer, s.TeamUpdateSerializer),
)
class TeamViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Teams of the visible units (an external moderator sees only their own team)."""

    queryset = Team.objects.select_related("unit")
    serializer_class = s.TeamSerializer
    write_serializers: ClassVar[dict[str, type]] = {"create": s.TeamCreateSerializer, "update": s.TeamUpdateSerializer,
                         "partial_update": s.TeamUpdateSerializer}
    service_calls: ClassVar[dict] = {"create": services.create_team, "update": services.update_team}
    instance_kwarg = "team"
    filterset_class = TeamFilter
    search_fields = ("name",)
    ordering_fields = ("name", "unit__path", "created_at")

    def create(self, request):
        self.require("orgs.add_team")
        return self.respond(services.create_team(actor=request.user, **self.validated()), status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        team = self.get_object()
        self.require("orgs.change_team", team.unit)
        return self.respond(services.update_team(actor=request.user, team=team, **self.validated(partial=partial)))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=None, responses=s.TeamSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self.respond(services.deactivate_team(actor=request.user, team=self.get_object()))

    @extend_schema(request=None, responses=s.TeamSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self.respond(services.reactivate_team(actor=request.user, team=self.get_object()))


@extend_schema_view(
    create=_writes(s.MembershipSerializer, s.MembershipCreateSerializer),
    update=_writes(s.MembershipSerializer, s.MembershipUpdateSerializer),
    partial_update=_writes(s.MembershipSerializer, s.MembershipUpdateSerializer),
)
class MembershipViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Roles granted on the visible units. Granting needs ``orgs.manage_members`` on the unit."""

    queryset = Membership.objects.select_related("user", "unit", "team")
    serializer_class = s.MembershipSerializer
    write_serializers: ClassVar[dict[str, type]] = {"create": s.MembershipCreateSerializer, "update": s.MembershipUpdateSerializer,
                         "partial_update": s.MembershipUpdateSerializer, "invite": s.InviteSerializer}
    service_calls: ClassVar[dict] = {"create": services.grant_membership, "update": services.update_membership}
    instance_kwarg = "membership"
    filterset_class = MembershipFilter
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    ordering_fields = ("unit__path", "user__username", "role", "created_at")

    def create(self, request):
        self.require("orgs.manage_members")
        data = self.validated()
        self.require("orgs.manage_members", data["unit"])  # who exists is told only to who may grant roles there
        data["user"] = s.MembershipCreateSerializer.person(data.pop("username"))
        return self.respond(services.grant_membership(actor=request.user, **data), status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        membership = self.get_object()
        self.require("orgs.manage_members", membership.unit)
        data = self.validated(partial=partial)
        return self.respond(services.update_membership(actor=request.user, membership=membership, **data))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=None, responses=s.MembershipSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Deactivate the membership (the row stays, for history)."""
        return self.respond(services.revoke_membership(actor=request.user, membership=self.get_object()))

    @extend_schema(request=s.InviteSerializer, responses={201: s.MembershipSerializer})
    @action(detail=False, methods=["post"])
    def invite(self, request):
        """Create an account for a new person (no usable password) and grant them a role; they are e-mailed a
        link to choose their password."""
        self.require("orgs.manage_members")
        return self.respond(services.invite_member(actor=request.user, **self.validated()), status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.MembershipSerializer)
    @action(detail=True, methods=["post"], url_path="resend-invitation")
    def resend_invitation(self, request, pk=None):
        """E-mail a new invitation link (earlier ones stop working); 409 once the person has set a password."""
        return self.respond(services.resend_invitation(actor=request.user, membership=self.get_object()))


@extend_schema_view(
    create=_writes(s.GuidelineSerializer, s.GuidelineWriteSerializer),
    update=_writes(s.GuidelineSerializer, s.GuidelineWriteSerializer),
    partial_update=_writes(s.GuidelineSerializer, s.GuidelineWriteSerializer),
)
class GuidelineViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Guideline versions. Everyone with a role reads the published ones; the hub drafts and publishes."""

    queryset = Guideline.objects.all()
    serializer_class = s.GuidelineSerializer
    write_serializers: ClassVar[dict[str, type]] = {"create": s.GuidelineWriteSerializer, "update": s.GuidelineWriteSerializer,
                         "partial_update": s.GuidelineWriteSerializer}
    service_calls: ClassVar[dict] = {"create": services.create_guideline, "update": services.update_guideline}
    instance_kwarg = "guideline"
    filterset_class = GuidelineFilter
    search_fields = ("title",)
    ordering_fields = ("version", "published_at", "created_at")

    def get_queryset(self):
        qs = super().get_queryset()
        user = self.request.user
        if not has_perm(user, "orgs.change_guideline", services.root_unit()):
            qs = qs.filter(published_at__isnull=False)  # drafts are the hub's business
        if user.is_authenticated:
            qs = qs.annotate(acknowledged_by_me=Exists(
                GuidelineAcknowledgement.objects.filter(guideline=OuterRef("pk"), user=user)))
        return qs

    def create(self, request):
        self.require("orgs.add_guideline", services.root_unit())
        return self.respond(services.create_guideline(actor=request.user, **self.validated()), status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        guideline = self.get_object()
        self.require("orgs.change_guideline", services.root_unit())
        data = self.validated(partial=partial)
        return self.respond(services.update_guideline(actor=request.user, guideline=guideline, **data))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(request=None, responses=s.GuidelineSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish a draft as the next version (hub only)."""
        services.publish_guideline(actor=request.user, guideline=self.get_object())
        return self.respond(self.get_object())

    @extend_schema(request=None, responses=s.AcknowledgementSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The requester acknowledges this published version (idempotent)."""
        ack = services.acknowledge_guideline(actor=request.user, guideline=self.get_object())
        return Response(s.AcknowledgementSerializer(ack).data)

    @extend_schema(
        responses=s.PendingPersonSerializer(many=True),
        parameters=[OpenApiParameter("within", int, description="Only people with a role in this unit's subtree.")],
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def pending(self, request, pk=None):
        """People within the requester's member-management scope who have not acknowledged this version."""
        guideline = self.get_object()
        if not has_perm(request.user, "orgs.manage_members"):
            raise PermissionDeniedError(_("Only admins may see who has not acknowledged the guidelines."))
        within = None
        within_id = query_id(request, "within")
        if within_id is not None:
            within = OrgUnit.objects.restrict(request.user, "view").filter(pk=within_id).first()
            if within is None:
                return Response({"detail": "No such unit."}, status=status.HTTP_404_NOT_FOUND)
        pending, _total = pending_acknowledgements(request.user, guideline, within=within)
        page = self.paginate_queryset(pending)
        return self.get_paginated_response(s.PendingPersonSerializer(page, many=True).data)
