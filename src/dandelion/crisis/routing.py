"""PR routing while a room is open: an inbound conversation whose messages match an open room's listening query,
on an account of the room's subtree, is tagged ``crisis-<id>`` and escalated to PR through the inbox's own service
(``inbox.services.mark_for_pr``: the PR teams over it see it in their queue, its own team keeps answering the
customer), and listed in the room with its live state.

It runs from the crisis app's event subscriber on ``conversation.created`` (the inbox emits it once the pipeline's
batch commits): no crisis code inside the inbox. Idempotent: one :class:`~dandelion.crisis.models.RoutedConversation`
per (room, conversation), a redelivered event changes nothing. A closed room routes nothing more (the rows it
routed stay, for the post-mortem).

:func:`plan` is pure (rooms and documents in, pairs out); :func:`route_conversations` loads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from dandelion.core.actors import SYSTEM
from dandelion.crisis.choices import IncidentStatus, LogKind

#: inbound messages of one conversation read to decide (a new thread has one or a few)
MESSAGES_PER_CONVERSATION = 20
TAG = "crisis-{pk}"


@dataclass(frozen=True)
class Room:
    """An open room that routes: its id, its unit's path (the subtree) and its compiled query."""

    pk: int
    unit_path: str
    node: object  # listening.query.Node


@dataclass(frozen=True)
class Thread:
    """A new conversation as the matcher sees it: its account's unit path and its inbound messages' documents."""

    pk: int
    unit_path: str
    docs: tuple


def plan(rooms: Sequence[Room], threads: Iterable[Thread]) -> list[tuple[int, int]]:
    """``(room id, conversation id)`` of every thread of a room's subtree one of whose messages its query
    matches."""
    out = []
    for thread in threads:
        for room in rooms:
            if thread.unit_path.startswith(room.unit_path) and any(room.node.matches(d) for d in thread.docs):
                out.append((room.pk, thread.pk))
    return out


def open_rooms() -> list[Room]:
    """The rooms that route now: not closed, with a listening query that compiles."""
    from dandelion.crisis.models import Incident
    from dandelion.listening.query import QuerySyntaxError, compile_query

    rooms = []
    for pk, path, text in (Incident.objects.exclude(status=IncidentStatus.CLOSED).filter(query__isnull=False)
                           .values_list("pk", "unit__path", "query__text")):
        try:
            rooms.append(Room(pk=pk, unit_path=path, node=compile_query(text)))
        except QuerySyntaxError:  # a query that no longer parses routes nothing (its page says why)
            continue
    return rooms


def _threads(conversation_ids: Iterable[int]) -> list[Thread]:
    from dandelion.inbox.choices import Direction
    from dandelion.inbox.models import Conversation, Message
    from dandelion.listening.query import Doc

    paths = dict(Conversation.objects.filter(pk__in=list(conversation_ids))
                 .values_list("pk", "account__owner_unit__path"))
    docs: dict[int, list] = {pk: [] for pk in paths}
    rows = (Message.objects.filter(conversation_id__in=list(paths), direction=Direction.INBOUND)
            .order_by("conversation_id", "sent_at", "pk")
            .values_list("conversation_id", "text", "language", "network", "account__country",
                         "author_identity__handle"))
    for conv_id, text, language, network, country, handle in rows:
        if len(docs[conv_id]) < MESSAGES_PER_CONVERSATION:
            docs[conv_id].append(Doc.build(text or "", lang=language or "", network=network or "",
                                           country=country or "", author=handle or ""))
    return [Thread(pk=pk, unit_path=paths[pk], docs=tuple(docs[pk])) for pk in paths if docs[pk]]


def route_conversations(conversation_ids: Iterable[int], *, actor=SYSTEM) -> list[tuple[int, int]]:
    """Route the new conversations that match an open room's query to PR (see the module docstring). Returns the
    ``(room id, conversation id)`` pairs routed now (none again for pairs already routed)."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return []
    rooms = open_rooms()
    if not rooms:
        return []
    pairs = plan(rooms, _threads(ids))
    if not pairs:
        return []
    return _write(pairs, actor=actor)


@transaction.atomic
def _write(pairs: list[tuple[int, int]], *, actor) -> list[tuple[int, int]]:
    from dandelion.crisis.models import Incident, RoutedConversation
    from dandelion.crisis.services import log_line
    from dandelion.inbox.models import Conversation
    from dandelion.inbox.services import mark_for_pr

    incidents = Incident.objects.select_related("unit").in_bulk({i for i, _ in pairs})
    conversations = Conversation.objects.select_related("account__owner_unit").in_bulk({c for _, c in pairs})
    done: list[tuple[int, int]] = []
    per_room: dict[int, list[int]] = {}
    now = timezone.now()
    for incident_id, conversation_id in pairs:
        incident = incidents[incident_id]
        if incident.is_closed:
            continue
        _row, created = RoutedConversation.objects.get_or_create(
            incident=incident, conversation_id=conversation_id, defaults={"routed_at": now})
        if not created:
            continue
        mark_for_pr(conversations[conversation_id], actor=actor, tags=[TAG.format(pk=incident.pk)],
                    reason=f"Crisis room #{incident.pk}: {incident.title}"[:300], incident=incident.pk)
        per_room.setdefault(incident_id, []).append(conversation_id)
        done.append((incident_id, conversation_id))
    for incident_id, conv_ids in per_room.items():
        listed = ", ".join(f"#{c}" for c in conv_ids[:20]) + (" …" if len(conv_ids) > 20 else "")
        log_line(incidents[incident_id], actor=actor, kind=LogKind.SYSTEM, action="crisis.incident.routed",
                   text=f"{len(conv_ids)} matching inbox conversation(s) routed to PR: {listed}.")
    return done
