"""A model serialiser that reads a row for less: the same output as DRF's ``ModelSerializer``, per row.

A 50-row page of conversations cost ~10 ms of Python in DRF's ``to_representation`` (on the machine of
docs/benchmarks.md §3): for each of 28 fields of each row, ``Field.get_attribute`` walks ``source_attrs`` with an
``isinstance(…, Mapping)`` (an ABC check) and an ``is_simple_callable`` per step, related ids go through
``serializable_value`` and a ``PKOnlyObject``, and every date-time asks asgiref for the current time zone.

:class:`FastReadModelSerializer` decides once per serialiser instance (so once per page: a ``many=True`` list shares
its child) how each readable field is read. A field whose source is a chain of the model's own columns (``status``,
``account.handle``, an ``account`` id) is read with one :func:`operator.attrgetter` and converted by what DRF's own
field would do: ``int``, ``str``, the field's ``to_representation``, or an ISO 8601 date-time in the current zone
(looked up once per row). Anything else (a many-to-many, a method field, a custom field, a dictionary instead of a
model, a missing related row, a ``None`` half-way along a chain) goes through DRF's generic code for that field, so
its defaults, ``SkipField`` and errors stay DRF's. ``tests/inbox/test_api_serialization.py`` holds every converted field
to DRF's output.

Read-only use: validation, ``create`` and ``update`` are ``ModelSerializer``'s, unchanged, and so is the OpenAPI
schema (drf-spectacular reads the same fields).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.utils import timezone
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

#: DRF field classes whose ``to_representation`` of a non-``None`` value is exactly this function.
_CONVERT = ((fields.IntegerField, int), (fields.CharField, str))
#: DRF field classes whose ``to_representation`` is called as it is (only the reading is shortened).
_AS_FIELD_DOES = (fields.BigIntegerField, fields.BooleanField, fields.ChoiceField, fields.FloatField, fields.UUIDField,
                  fields.JSONField)


def _own(field, cls, *names) -> bool:
    """``field`` is a ``cls`` whose methods ``names`` are ``cls``'s own (not overridden by a subclass)."""
    return isinstance(field, cls) and all(getattr(type(field), n) is getattr(cls, n) for n in names)


def _column_path(model, attrs) -> list[str] | None:
    """The attribute names reading ``attrs`` on ``model`` when each step but the last is a forward one-to-one or
    many-to-one relation and the last a concrete column that is not a relation; else ``None``."""
    path = []
    for i, attr in enumerate(attrs):
        try:
            f = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        last = i == len(attrs) - 1
        if last and (f.is_relation or not f.concrete):
            return None
        if not last and not (f.concrete and (f.many_to_one or f.one_to_one)):
            return None
        path.append(f.attname if last else f.name)
        model = f.related_model
    return path


class FastReadModelSerializer(serializers.ModelSerializer):
    # ``ModelSerializer`` whose ``to_representation`` reads plain columns directly (see the module). No docstring:
    # drf-spectacular would give it to every subclass without one as its schema description.

    @cached_property
    def _row_plan(self) -> list[tuple]:
        """``(name, getter or None, convert, is_datetime, field)`` per readable field, in the fields' order."""
        model: Any = self.Meta.model
        plan: list[tuple] = []
        for field in self._readable_fields:
            getter: Callable[[Any], Any] | None = None
            convert: Callable[[Any], Any] | None = field.to_representation
            is_datetime = False
            if isinstance(field, relations.PrimaryKeyRelatedField) and _own(
                    field, relations.PrimaryKeyRelatedField, "get_attribute", "to_representation",
                    "use_pk_only_optimization") and field.pk_field is None and len(field.source_attrs) == 1:
                try:
                    fk = model._meta.get_field(field.source_attrs[0])
                except FieldDoesNotExist:
                    fk = None
                if fk is not None and fk.concrete and (fk.many_to_one or fk.one_to_one):
                    getter, convert = operator.attrgetter(fk.attname), None  # the id is the output
            elif type(field).get_attribute is fields.Field.get_attribute and field.source_attrs:
                path = _column_path(model, field.source_attrs)
                to = next((to for cls, to in _CONVERT if _own(field, cls, "to_representation")), None)
                if path is not None:
                    if to is not None:
                        getter, convert = operator.attrgetter(".".join(path)), to
                    elif _own(field, fields.DateTimeField, "to_representation", "enforce_timezone",
                              "default_timezone") and not hasattr(field, "timezone") and \
                            str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601:
                        getter, is_datetime = operator.attrgetter(".".join(path)), True
                    elif any(_own(field, cls, "to_representation") for cls in _AS_FIELD_DOES):
                        getter = operator.attrgetter(".".join(path))
            plan.append((field.field_name, getter, convert, is_datetime, field))
        return plan

    def to_representation(self, instance):
        if not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        ret: dict[str, Any] = {}
        for name, getter, convert, is_datetime, field in self._row_plan:
            if getter is not None:
                try:
                    value = getter(instance)
                except (AttributeError, ObjectDoesNotExist):  # a None or missing row along the way: DRF decides
                    pass
                else:
                    if value is None:
                        ret[name] = None
                    elif is_datetime:
                        ret[name] = _iso(value, zone, field)
                    elif convert is None:
                        ret[name] = value
                    else:
                        ret[name] = convert(value)
                    continue
            try:  # DRF's own loop body (Serializer.to_representation)
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


def _iso(value, zone, field):
    """DRF's ``DateTimeField.to_representation`` in ISO 8601 for an aware date-time; anything else: the field's."""
    if zone is None or type(value) is not dt.datetime or value.utcoffset() is None:
        return field.to_representation(value)
    try:
        text = value.astimezone(zone).isoformat()
    except OverflowError:
        return field.to_representation(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text
