"""Writing audit rows. Services call :func:`record` inside their transaction."""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from dandelion.core.actors import is_system

_request_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("dandelion_request",
                                                                                           default=None)

#: Field names never copied into the audit log (secrets, encrypted blobs).
SECRET_FIELDS = frozenset({"credentials_encrypted", "webhook_secret_encrypted", "webhook_secret", "password", "key", "secret"})


def set_request_context(**values: Any) -> contextvars.Token:
    return _request_context.set(values)


def reset_request_context(token: contextvars.Token) -> None:
    _request_context.reset(token)


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)[:100]}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The instance's concrete field values (foreign keys as ids), secrets left out."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in SECRET_FIELDS:
            continue
        data[field.name] = _jsonable(getattr(instance, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field that changed."""
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def build_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    unit=None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
):
    """One audit row, unsaved (see :func:`record`; :func:`record_many` writes many at once)."""
    from dandelion.core.models import AuditEvent
    from dandelion.core.plugins import org_tree

    if unit is None and obj is not None:
        unit = getattr(obj, "audit_unit", None)
    if unit is None:
        unit = org_tree().root_unit()
    ctx = _request_context.get() or {}
    # the SYSTEM actor (jobs, commands) and None are written "system"; a person is linked and named
    is_user = actor is not None and not is_system(actor) and getattr(actor, "is_authenticated", False)
    if is_user:
        actor_repr = actor.get_username()
    elif actor is None or is_system(actor):
        actor_repr = "system"
    else:
        actor_repr = str(actor)
    return AuditEvent(
        actor=actor if is_user else None,
        actor_repr=actor_repr[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        unit=unit,
        unit_path=unit.path if unit is not None else "/",
        summary=summary[:300],
        changes=_jsonable(changes or {}),
        request_id=ctx.get("request_id", ""),
        ip_address=ctx.get("ip"),
    )


def record(**fields):
    """Append one audit row (the keyword arguments of :func:`build_record`: ``actor``, ``action``, ``obj``,
    ``unit``, ``summary``, ``changes``). ``unit`` defaults to ``obj.audit_unit`` (or the root unit for global
    events)."""
    row = build_record(**fields)
    row.save(force_insert=True)
    return row


def record_many(rows) -> list:
    """Append many audit rows built by :func:`build_record` in one INSERT (a batch job's actions)."""
    from dandelion.core.models import AuditEvent

    return AuditEvent.objects.bulk_create(list(rows))
