"""Domain events: what happened, to which subject, in which org unit, by whom. One mechanism for every app.

* Apps **declare** their event types (:func:`register_type`) in an ``<app>/events.py`` module, imported on first
  use of the registry (like ``jobs`` modules), with a label, a description and an example payload (the catalogue
  in ``docs/webhooks.md`` and the webhook form read it).
* Services **emit** inside their transaction: ``emit(Event(...))`` (or ``emit_many`` for a batch). Emitting writes
  nothing and costs a list append; the events are handed to the subscribers once the transaction commits
  (``transaction.on_commit``), never for rolled-back work. A batch (the pipeline's new conversations) is one
  hand-over, so subscribers write one bulk insert per batch, not one per event.
* Apps **subscribe** (:func:`subscribe`, from ``AppConfig.ready``) with a handler taking the list of committed
  events. Subscribers never name each other and never name the emitting app; one that fails is logged and the
  others still run (the emitting request or worker never fails because of a subscriber).

The audit log stays the service's own record, written in the same transaction as the change (stronger than an
after-commit handler); events carry the same actor and feed notifications and outgoing webhooks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

#: Events larger than this (serialised payload) are refused at emission: payloads are references and a summary.
MAX_PAYLOAD_BYTES = 16_384


class EventError(ValueError):
    """An event that cannot be emitted: unknown type, payload not plain JSON or too large."""


@dataclass(frozen=True)
class EventType:
    """A kind of event an app declares: ``conversation.assigned``."""

    name: str
    label: str
    description: str = ""
    subject_type: str = ""  # "inbox.conversation"
    example: dict[str, Any] = field(default_factory=dict)  # an example ``data`` payload, for the docs and tests


_TYPES: dict[str, EventType] = {}
_SUBSCRIBERS: dict[str, Callable[[list[Event]], Any]] = {}
_discovered = False


def register_type(name: str, label: str, *, description: str = "", subject_type: str = "",
                  example: dict[str, Any] | None = None) -> EventType:
    """Declare an event type (idempotent: declaring the same name again replaces it)."""
    if not name or name != name.strip().lower() or "." not in name or len(name) > 80:
        raise EventError(f"Event type names are lower-case 'subject.verb' (at most 80 characters): {name!r}")
    event_type = EventType(name=name, label=label, description=description, subject_type=subject_type,
                           example=dict(example or {}))
    _TYPES[name] = event_type
    return event_type


def autodiscover() -> None:
    """Import every installed Dandelion app's ``events`` module, where it declares its event types."""
    global _discovered
    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("dandelion.") and find_spec(f"{config.name}.events") is not None:
            import_module(f"{config.name}.events")
    _discovered = True


def event_types() -> dict[str, EventType]:
    """Every declared event type, by name, in name order."""
    if not _discovered:
        autodiscover()
    return dict(sorted(_TYPES.items()))


def get_type(name: str) -> EventType | None:
    if name not in _TYPES and not _discovered:
        autodiscover()
    return _TYPES.get(name)


def type_choices() -> list[tuple[str, str]]:
    """``[(name, label)]`` for forms."""
    return [(t.name, f"{t.label} ({t.name})") for t in event_types().values()]


def subscribe(name: str, handler: Callable[[list[Event]], Any]) -> None:
    """Register ``handler(events)`` under ``name`` (registering the same name again replaces it)."""
    _SUBSCRIBERS[name] = handler


def unsubscribe(name: str) -> None:
    _SUBSCRIBERS.pop(name, None)


def subscribers() -> dict[str, Callable[[list[Event]], Any]]:
    return dict(_SUBSCRIBERS)


def _actor_fields(actor) -> tuple[int | None, str]:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.pk, actor.get_username()
    return None, (str(actor) if actor else "system")[:150]


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``data`` is plain JSON (ids, states, short labels: never a secret).

    ``unit_id`` is the org unit of the subject (subscriptions and notifications are scoped by it); ``unit_path``
    is filled at dispatch when the emitter did not know it."""

    name: str
    unit_id: int | None
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    actor_id: int | None = None
    actor_repr: str = "system"
    occurred_at: dt.datetime = field(default_factory=timezone.now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    unit_path: str = ""

    @classmethod
    def create(cls, name: str, *, unit, subject, actor=None, data: dict[str, Any] | None = None,
               subject_type: str | None = None, occurred_at: dt.datetime | None = None) -> Event:
        """Build an event about ``subject`` (a model instance) in ``unit`` (an OrgUnit, or its id)."""
        actor_id, actor_repr = _actor_fields(actor)
        unit_id = getattr(unit, "pk", unit)
        unit_path = getattr(unit, "path", "") if not isinstance(unit, int) else ""
        if subject_type is None:
            subject_type = f"{subject._meta.app_label}.{subject._meta.model_name}"
        return cls(name=name, unit_id=unit_id, unit_path=unit_path or "", subject_type=subject_type,
                   subject_id=str(getattr(subject, "pk", subject)), data=dict(data or {}), actor_id=actor_id,
                   actor_repr=actor_repr, occurred_at=occurred_at or timezone.now())

    def as_dict(self) -> dict[str, Any]:
        """The event as sent to webhook receivers (the documented envelope)."""
        return {
            "id": self.id,
            "type": self.name,
            "occurred_at": self.occurred_at.isoformat(),
            "unit": {"id": self.unit_id, "path": self.unit_path},
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "actor": {"id": self.actor_id, "name": self.actor_repr},
            "data": self.data,
        }

    def with_path(self, path: str) -> Event:
        from dataclasses import replace

        return replace(self, unit_path=path)


def validate(event: Event) -> None:
    """Refuse an unknown type or a payload that is not plain, bounded JSON (emitters' bugs, caught in tests)."""
    if get_type(event.name) is None:
        raise EventError(f"Unknown event type {event.name!r}: declare it with register_type() in <app>/events.py")
    try:
        size = len(json.dumps(event.data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise EventError(f"{event.name}: the payload is not plain JSON ({exc})") from exc
    if size > MAX_PAYLOAD_BYTES:
        raise EventError(f"{event.name}: the payload is {size} bytes (at most {MAX_PAYLOAD_BYTES})")


def emit(event: Event) -> None:
    """Hand ``event`` to the subscribers once the current transaction commits (at once outside one)."""
    emit_many([event])


def emit_many(events: Iterable[Event]) -> None:
    """Hand a batch of events to the subscribers, as one list, once the current transaction commits."""
    batch = list(events)
    if not batch:
        return
    for event in batch:
        validate(event)
    transaction.on_commit(lambda: dispatch(batch))


def _fill_paths(events: Sequence[Event]) -> list[Event]:
    missing = {e.unit_id for e in events if not e.unit_path and e.unit_id is not None}
    if not missing:
        return list(events)
    from dandelion.core.plugins import org_tree

    paths = org_tree().unit_paths(missing)
    return [e if e.unit_path or e.unit_id is None else e.with_path(paths.get(e.unit_id, "")) for e in events]


def dispatch(events: Sequence[Event]) -> dict[str, bool]:
    """Run every subscriber on the committed ``events``; returns ``{subscriber: succeeded}``. A subscriber that
    raises is logged (with the events' ids) and rolled back alone; the others still run."""
    events = _fill_paths(events)
    outcome: dict[str, bool] = {}
    for name, handler in list(_SUBSCRIBERS.items()):
        try:
            with transaction.atomic():
                handler(events)
        except Exception:
            logger.exception("event subscriber %s failed on %s event(s): %s", name, len(events),
                             ", ".join(f"{e.name}:{e.id}" for e in events[:10]))
            outcome[name] = False
        else:
            outcome[name] = True
    return outcome
