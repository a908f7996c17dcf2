"""The OpenAPI schema documents what the API answers: its error responses too, in one place.

``DandelionAutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds to every operation the error statuses
:func:`dandelion.api.exceptions.exception_handler` and DRF can answer it with, unless a view documents that status
itself (``@extend_schema(responses={409: ...})`` wins):

- 400: bad input (a body, filter, page size or path value that does not validate, a value out of the database's
  range, a service's rule violation): the ``ValidationError`` body, a field name per invalid field, or ``detail``;
- 401: no or bad credentials; 403: authenticated but not allowed;
- 404: the object is not visible to the caller, the page is past the end of a list, or DRF has no renderer for
  the ``?format=`` asked for (any operation);
- 409: the write conflicts with the object's current state (writes only).

It also marks nullable the read-only fields that can answer ``null`` without saying so (:func:`field_may_be_null`),
and types integer-valued django-filter parameters with their bounds (:class:`DandelionFilterExtension`).

Each is a ``$ref`` to one component, so clients generated from the schema get one error type.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django_filters import rest_framework as filters
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_parameter_type
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from dandelion.api.fields import ReadWriteChoiceField

#: ``{"detail": ..., "code": ...}``: DRF's errors carry ``detail``; the service errors (``DandelionError``) add
#: ``code`` and, when one field is at fault, ``field``.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error: a human-readable message and, for the application's own errors, a stable code.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the user's language."},
        "code": {"type": "string", "description": "A stable, machine-readable code (e.g. `conflict`)."},
        "field": {"type": "string", "description": "The field at fault, when there is one."},
    },
    "required": ["detail"],
}

#: A 400: either an ``Error``, DRF's validation errors, ``{"field": ["message", ...]}`` per invalid field (nested
#: for nested input, ``non_field_errors`` for errors of the whole object), or a list of messages (DRF's answer to a
#: ``ValidationError("message")`` raised outside a serializer, e.g. a search term with a NUL character).
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "description": "Invalid input: the messages per field name (`non_field_errors` for the whole object), an "
                   "error's `detail` and `code`, or a list of messages about the request as a whole.",
    "oneOf": [
        {
            "type": "object",
            "properties": {
                **ERROR_SCHEMA["properties"],
                "non_field_errors": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": {
                "description": "The messages for one field: a list of strings, or an object for a nested field.",
                "oneOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}],
            },
        },
        {"type": "array", "items": {"type": "string"}},
    ],
}

NOT_FOUND = "Not found: the object is not visible to you, the page is past the end of the list, or no such `format`."
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _component(name: str, schema: dict[str, Any]) -> ResolvedComponent:
    return ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)


def field_may_be_null(field) -> bool:
    """A read-only serializer field can answer ``null`` without ``allow_null``: its ``default`` is ``None``
    (``CharField(source="team.name", default=None)``), or its dotted source crosses a nullable relation (DRF returns
    ``None`` as soon as a step is ``None``) or ends on a nullable column."""
    if not isinstance(field, serializers.Field) or not field.read_only:
        return False
    if field.default is None:
        return True
    attrs = getattr(field, "source_attrs", None) or []
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if len(attrs) < 2 or model is None:
        return False
    for i, attr in enumerate(attrs):
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if getattr(model_field, "null", False) or (i < len(attrs) - 1 and not model_field.concrete):
            return True
        if i < len(attrs) - 1:
            if not model_field.is_relation:
                return False
            model = model_field.related_model
    return False


def field_may_be_blank(field) -> bool:
    """A read-only field (DRF drops ``allow_blank`` from those) over a ``blank=True`` model column can answer
    ``""``, which a documented format (``email``, ``uri``) does not allow."""
    if not isinstance(field, serializers.CharField) or not field.read_only or field.allow_blank:
        return False
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    attrs = getattr(field, "source_attrs", None) or []
    for i, attr in enumerate(attrs):
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if i == len(attrs) - 1:
            return bool(getattr(model_field, "blank", False))
        model = model_field.related_model
    return False


class DandelionAutoSchema(AutoSchema):
    """drf-spectacular's ``AutoSchema`` that documents the error responses (see the module)."""

    def _error_statuses(self) -> dict[str, tuple[str, str]]:
        """``{status: (component, description)}`` for this operation."""
        statuses = {
            "400": ("ValidationError", "Invalid input."),
            "401": ("Error", "Authentication credentials were not provided or are not valid."),
            "403": ("Error", "You are not allowed to do this."),
            # DRF answers 404 to a ``?format=`` it has no renderer for, on any operation
            "404": ("Error", NOT_FOUND),
        }
        if self.method in WRITE_METHODS:
            statuses["409"] = ("Error", "The request conflicts with the current state of the object.")
        return statuses

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if not meta.get("nullable") and field_may_be_null(field):
            meta["nullable"] = True
        return meta

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if field_may_be_blank(field) and schema.get("type") == "string" and ("format" in schema or "pattern" in schema):
            # as drf-spectacular does for a writable field with allow_blank: the format, or the empty string
            outer = {"readOnly", "writeOnly", "nullable", "deprecated", "description", "title"}
            inner = {k: schema.pop(k) for k in list(schema) if k not in outer}
            schema["oneOf"] = [inner, {"type": "string", "maxLength": 0}]
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        components = {"Error": _component("Error", ERROR_SCHEMA),
                      "ValidationError": _component("ValidationError", VALIDATION_ERROR_SCHEMA)}
        for status, (name, description) in self._error_statuses().items():
            if status in responses:
                continue  # the view documents this status itself
            component = components[name]
            self.registry.register_on_missing(component)
            responses[status] = {"content": {"application/json": {"schema": component.ref}},
                                 "description": description}
        return responses


class DandelionFilterExtension(DjangoFilterExtension):
    """django-filter parameters typed as they validate: an integer-valued filter (``IdFilter``, a filter method
    over one) is an ``integer`` with the bounds its form field enforces, so that a client knows ``?unit=0`` is a 400
    before sending it."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        field_class = filter_field.field_class
        if not issubclass(field_class, forms.IntegerField) or issubclass(field_class, forms.FloatField) or \
                isinstance(filter_field, filters.BaseCSVFilter | filters.RangeFilter):  # (DecimalField: a float)
            return super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        schema: dict[str, Any] = {"type": "integer"}
        for key, bound in (("minimum", "min_value"), ("maximum", "max_value")):
            if filter_field.extra.get(bound) is not None:
                schema[key] = filter_field.extra[bound]
        return [build_parameter_type(name=field_name, required=filter_field.extra["required"],
                                     location=OpenApiParameter.QUERY,
                                     description=self._get_field_description(filter_field, None), schema=schema)]


class ReadWriteChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """A :class:`~dandelion.api.fields.ReadWriteChoiceField` documents ``read_choices`` in responses and
    ``choices`` in requests."""

    target_class = ReadWriteChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        choices = field.read_choices if direction == "response" else list(field.choices.items())
        stand_in = serializers.ChoiceField(choices=choices, allow_null=field.allow_null, allow_blank=field.allow_blank)
        return auto_schema._map_serializer_field(stand_in, direction, bypass_extensions=True)


def only_dandelion_endpoints(endpoints):
    """drf-spectacular preprocessing hook: the schema describes Dandelion's API (``/api/``), not the DRF views of
    third-party apps mounted elsewhere (Wagtail's admin API under ``/cms/``)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]
