"""One API base: reads through ``restrict()``, writes through the owning app's services.

A viewset subclasses :class:`ServiceViewSet` (list and retrieve) and adds the write mixins it offers
(:class:`ServiceCreateMixin`, :class:`ServiceUpdateMixin`, :class:`ServiceDestroyMixin`). It names the service
functions in ``service_calls``; the mixins validate the input with the action's serializer (``write_serializers``,
else ``serializer_class``), call the service with ``actor=request.user`` and answer with the read serializer::

    class RoutingRuleViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet):
        queryset = RoutingRule.objects.select_related("unit")
        serializer_class = RoutingRuleSerializer
        service_calls = {"create": services.create_routing_rule, "update": services.update_routing_rule,
                         "destroy": services.delete_routing_rule}

Calls: ``create(actor=..., **data)``; ``update(obj, actor=..., **data)`` and ``destroy(obj, actor=...)``, or with
the object as a keyword when ``instance_kwarg`` names it (``update_unit(unit=obj, actor=..., **data)``).

Errors are mapped once, by ``dandelion.api.exceptions.exception_handler``: a serializer's ``ValidationError`` and a
service's :class:`~dandelion.core.exceptions.DandelionError` are 400, ``PermissionDeniedError`` 403,
``NotFoundError`` (and a row that vanished meanwhile) 404, ``ConflictError`` (and a lost unique race) 409. An object
outside the caller's scope is a 404 (``get_object`` reads through ``restrict()``); ``write_action`` makes one the
caller sees but may not change a 403 before its input is read, and ``create_permission`` does the same for creation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from dandelion.api.mixins import RestrictedQuerysetMixin
from dandelion.core.permissions import has_perm, require_perm


class ServiceViewSet(RestrictedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """List and retrieve through ``restrict()``; helpers for actions that call services (see the module)."""

    #: action -> the serializer validating that action's input (the read serializer answers)
    write_serializers: ClassVar[dict[str, type]] = {}
    #: "create" / "update" / "destroy" -> the service function
    service_calls: ClassVar[dict[str, Callable[..., Any]]] = {}
    #: how update/destroy services name the object (None: the first positional argument)
    instance_kwarg: ClassVar[str | None] = None
    #: checked with ``restrict(user, write_action)`` before an update reads its input (403 when visible only)
    write_action: ClassVar[str | None] = None
    #: a permission the caller must hold somewhere before a create reads its input (403 otherwise)
    create_permission: ClassVar[str | None] = None
    create_denied_message: ClassVar[str] = "You do not have permission to create this."

    def get_serializer_class(self):
        return self.write_serializers.get(self.action, self.serializer_class)

    # --- helpers for actions ---------------------------------------------------------------------------------
    def validated(self, serializer_class: type | None = None, *, partial: bool = False, instance=None) -> dict:
        """The request's input validated by ``serializer_class`` (default: the action's serializer)."""
        if serializer_class is None:
            serializer = self.get_serializer(instance, data=self.request.data, partial=partial)
        else:
            serializer = serializer_class(instance, data=self.request.data, partial=partial,
                                          context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def require(self, perm: str, unit=None) -> None:
        """The permission check that comes before any validation of the input: without ``perm`` (on ``unit``, or
        anywhere for a creation) the answer is a 403, whatever the input says, so that validation errors ("taken",
        "does not exist") are only ever told to people who may act."""
        require_perm(self.request.user, perm, unit)

    def respond(self, obj, code: int = status.HTTP_200_OK, serializer_class: type | None = None) -> Response:
        """``obj`` in the read serializer (or ``serializer_class``)."""
        read = serializer_class or self.serializer_class
        assert read is not None, f"{type(self).__name__} has no serializer_class"
        return Response(read(obj, context=self.get_serializer_context()).data, status=code)

    def call_service(self, service_name: str, /, *args, **kwargs):
        """The service ``service_calls[service_name]`` called with ``actor=request.user``."""
        service = self.service_calls.get(service_name)
        if service is None:
            raise NotImplementedError(f"{type(self).__name__}.service_calls has no {service_name!r} service")
        return service(*args, actor=self.request.user, **kwargs)

    def call_on(self, service_name: str, obj, /, **kwargs):
        """An update/destroy-like service called on ``obj`` (positionally, or as ``instance_kwarg``)."""
        if self.instance_kwarg:
            return self.call_service(service_name, **{self.instance_kwarg: obj}, **kwargs)
        return self.call_service(service_name, obj, **kwargs)

    def service_data(self, data: dict) -> dict:
        """The validated input as the service's keyword arguments (override to rename or drop fields)."""
        return data


if TYPE_CHECKING:  # what the write mixins are mixed into: the checker sees its attributes
    _WriteBase = ServiceViewSet
else:
    _WriteBase = object


class ServiceCreateMixin(_WriteBase):
    """``POST``: validate, call ``service_calls["create"]``, answer 201 with the read serializer."""

    def create(self, request, *args, **kwargs):
        if self.create_permission and not has_perm(request.user, self.create_permission):
            raise PermissionDenied(self.create_denied_message)
        obj = self.perform_create(self.validated())
        return self.respond(obj, status.HTTP_201_CREATED)

    def perform_create(self, data: dict):
        return self.call_service("create", **self.service_data(data))


class ServiceUpdateMixin(_WriteBase):
    """``PUT``/``PATCH``: validate, call ``service_calls["update"]`` on the object, answer with the read serializer."""

    def update(self, request, *args, partial: bool = False, **kwargs):
        obj = self.get_object_for(self.write_action) if self.write_action else self.get_object()
        data = self.validated(partial=partial, instance=obj)
        return self.respond(self.perform_update(obj, data))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_update(self, obj, data: dict):
        return self.call_on("update", obj, **self.service_data(data))


class ServiceDestroyMixin(_WriteBase):
    """``DELETE``: call ``service_calls["destroy"]`` on the object, answer 204."""

    def destroy(self, request, *args, **kwargs):
        self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, obj) -> None:
        self.call_on("destroy", obj)


class ServiceModelViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet):
    """Every write: create, update, destroy, each through a service."""
