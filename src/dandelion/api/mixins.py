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


class IsAuthenticatedMember(permissions.IsAuthenticated):
    """Authenticated; object-level checks are done by restricted querysets and services."""


def not_found():
    raise Http404
