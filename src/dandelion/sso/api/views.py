"""The hub's REST API for single sign-on: identity providers, claim rules, the per-unit local password switch.

Everything here is the hub's (``sso.manage_identityprovider`` on the root unit, which only the hub admin role
holds): anyone else gets a 403 on every endpoint, whatever the id, before the input is read. Writes go through
``dandelion.sso.services`` (the same checks and audit rows as the hub's pages)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from dandelion.api.viewsets import ServiceModelViewSet, ServiceViewSet
from dandelion.core.filters import IdFilter
from dandelion.core.permissions import has_perm
from dandelion.orgs import services as orgs
from dandelion.sso import services
from dandelion.sso.api.serializers import (
    ClaimRuleSerializer,
    ClaimRuleUpdateSerializer,
    IdentityProviderSerializer,
    IdentityProviderUpdateSerializer,
    LocalPasswordPolicySerializer,
    LocalPasswordSwitchSerializer,
    ScimTokenSerializer,
)
from dandelion.sso.models import ClaimRule, IdentityProvider, LocalPasswordPolicy


class HubOnly(permissions.BasePermission):
    """The hub admins only (``sso.manage_identityprovider`` on the root unit)."""

    message = "Only the hub manages single sign-on."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated
                    and has_perm(request.user, services.PERM_MANAGE, orgs.root_unit()))


class IdentityProviderViewSet(ServiceModelViewSet):
    """Identity providers (the hub only). ``client_secret`` is write-only (left out on update: kept); the slug and
    the bound unit are fixed once created. ``POST …/{id}/scim-token/`` returns a new SCIM bearer token, once."""

    permission_classes = [permissions.IsAuthenticated, HubOnly]
    queryset = IdentityProvider.objects.select_related("bound_unit")
    serializer_class = IdentityProviderSerializer
    write_serializers = {"update": IdentityProviderUpdateSerializer,
                         "partial_update": IdentityProviderUpdateSerializer}
    instance_kwarg = "provider"
    ordering_fields = ["name", "id"]
    search_fields = ["name", "slug", "issuer"]
    filterset_fields = ["is_active"]
    service_calls = {"create": services.create_provider, "update": services.update_provider,
                     "destroy": services.delete_provider, "scim_token": services.rotate_scim_token}

    @extend_schema(request=None, responses={201: ScimTokenSerializer})
    @action(detail=True, methods=["post"], url_path="scim-token")
    def scim_token(self, request, pk=None):
        provider = self.get_object()
        token = self.call_service("scim_token", provider=provider)
        response = Response({"token": token, "hint": provider.scim_token_hint}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class ClaimRuleFilter(django_filters.FilterSet):
    provider = IdFilter(field_name="provider_id")
    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = ClaimRule
        fields = ["provider", "unit", "role", "is_active"]


class ClaimRuleViewSet(ServiceModelViewSet):
    """Claim rules of the providers (the hub only): a rule may grant only inside its provider's bound subtree
    (a 400 naming ``unit`` otherwise); a duplicate is a 409."""

    permission_classes = [permissions.IsAuthenticated, HubOnly]
    queryset = ClaimRule.objects.select_related("provider", "unit", "team")
    serializer_class = ClaimRuleSerializer
    write_serializers = {"update": ClaimRuleUpdateSerializer, "partial_update": ClaimRuleUpdateSerializer}
    filterset_class = ClaimRuleFilter
    instance_kwarg = "rule"
    ordering_fields = ["id", "claim", "value"]
    service_calls = {"create": services.create_rule, "update": services.update_rule,
                     "destroy": services.delete_rule}


class LocalPasswordPolicyViewSet(ServiceViewSet):
    """The units where local passwords are switched off (the hub only). ``POST`` ``{unit, allowed}`` switches them
    off (``allowed: false``) or allows them again, for the unit and its sub-units; it answers whether anything
    changed (setting the current state again writes nothing)."""

    permission_classes = [permissions.IsAuthenticated, HubOnly]
    queryset = LocalPasswordPolicy.objects.select_related("unit")
    serializer_class = LocalPasswordPolicySerializer
    write_serializers = {"create": LocalPasswordSwitchSerializer}
    service_calls = {"switch": services.set_local_passwords}

    @extend_schema(request=LocalPasswordSwitchSerializer, responses={200: LocalPasswordSwitchSerializer})
    def create(self, request, *args, **kwargs):
        data = self.validated()
        changed = self.call_service("switch", unit=data["unit"], allowed=data["allowed"])
        return Response({"unit": data["unit"].pk, "allowed": data["allowed"], "changed": changed})
