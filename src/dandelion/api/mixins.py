"""Shared API plumbing: every viewset reads through ``restrict()`` and writes through services."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import Http404
from rest_framework import permissions

from dandelion.core.querysets import RestrictedQuerySet

if TYPE_CHECKING:  # what the mixin is mixed into: the checker sees its attributes
    from rest_framework.generics import GenericAPIView as _ViewBase
else:
    _ViewBase = object

ACTION_FOR_METHOD = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "PUT": "change", "PATCH": "change",
                     "DELETE": "delete", "POST": "add"}


class RestrictedQuerysetMixin(_ViewBase):
    """``get_queryset`` returns only rows the user may view (a grant covers its subtree)."""

    def get_queryset(self):
        qs = cast(RestrictedQuerySet, super().get_queryset())
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        return qs.restrict(self.request.user, "view")

    def get_object_for(self, action: str):
        """The object if the user may ``action`` it; 404 when not visible, 403 when visible but not allowed."""
        obj = self.get_object()
        model = type(obj)
        if not model.objects.restrict(self.request.user, action).filter(pk=obj.pk).exists():
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied(f"You may not {action} this {model._meta.verbose_name}.")
        return obj


class PermissionFirstMixin:
    """Writes answer the permission before the input: a create needs the model's ``add`` permission somewhere, an
    update or a delete the ``change``/``delete`` permission on the object's unit (found through the model's
    ``org_scope``), else a 403, whatever was sent. Validation errors ("invalid", "taken", "does not exist") are thus
    told only to people who may act; the service still checks the permission on the exact unit."""

    WRITE_ACTIONS = {"update": "change", "partial_update": "change", "destroy": "delete"}

    def create(self, request, *args, **kwargs):
        from dandelion.core.permissions import model_perm, require_perm

        require_perm(request.user, model_perm(self.get_queryset().model, "add"))  # type: ignore[attr-defined]
        return super().create(request, *args, **kwargs)  # type: ignore[misc]

    def get_object(self):
        from dandelion.core.permissions import model_perm, require_perm
        from dandelion.core.querysets import org_scope_of

        obj = super().get_object()  # type: ignore[misc]
        action = self.WRITE_ACTIONS.get(self.action)  # type: ignore[attr-defined]
        if action:
            model = type(obj)
            require_perm(self.request.user, model_perm(model, action),  # type: ignore[attr-defined]
                         org_scope_of(model).unit_of(obj))
        return obj


class IsAuthenticatedMember(permissions.IsAuthenticated):
    """Authenticated; object-level checks are done by restricted querysets and services."""


def not_found():
    raise Http404
