"""Shared API plumbing: every viewset reads through ``restrict()`` and writes through services."""

from __future__ import annotations

from django.http import Http404
from rest_framework import permissions

ACTION_FOR_METHOD = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "PUT": "change", "PATCH": "change",
                     "DELETE": "delete", "POST": "add"}


class RestrictedQuerysetMixin:
    """``get_queryset`` returns only rows the user may view (a grant covers its subtree)."""

    queryset = None

    def get_queryset(self):
        qs = super().get_queryset()  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        return qs.restrict(self.request.user, "view")

    def get_object_for(self, action: str):
        """The object if the user may ``action`` it; 404 when not visible, 403 when visible but not allowed."""
        obj = self.get_object()  # type: ignore[attr-defined]
        model = type(obj)
        if not model.objects.restrict(self.request.user, action).filter(pk=obj.pk).exists():
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied(f"You may not {action} this {model._meta.verbose_name}.")
        return obj


class IsAuthenticatedMember(permissions.IsAuthenticated):
    """Authenticated; object-level checks are done by restricted querysets and services."""


def not_found():
    raise Http404
