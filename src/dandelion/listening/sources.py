"""Where mentions come from: the organisation's inbound messages (a cursor over the inbox's messages), feed and
replay items (:func:`mentions_from_events`). Sources call :func:`services.ingest_mentions`; a source that fails is
written on the health of the queries (``last_error``) and stops nothing else."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from dandelion.core.actors import SYSTEM
from dandelion.core.permissions import require_perm
from dandelion.listening.choices import MentionSource
from dandelion.listening.models import InboundCursor
from dandelion.listening.services import MentionInput, ingest_mentions

BATCH = 2000
CURSOR = "inbound"


def read_inbound_messages(*, actor=SYSTEM, batch: int = BATCH, max_batches: int = 50) -> int:
    """Turn the inbound messages received since the cursor into mentions. Returns how many were read."""
    from dandelion.inbox.choices import Direction
    from dandelion.inbox.models import Message

    require_perm(actor, "listening.add_mention")
    total = 0
    for _ in range(max_batches):
        with transaction.atomic():
            cursor, _created = InboundCursor.objects.select_for_update().get_or_create(name=CURSOR)
            rows = list(Message.objects.filter(pk__gt=cursor.last_id, direction=Direction.INBOUND)
                        .order_by("pk").values_list(
                            "pk", "network", "text", "language", "sentiment", "sent_at", "account_id",
                            "account__owner_unit_id", "account__owner_unit__path", "conversation_id",
                            "author_identity__handle", "author_identity__followers", "needs_reply")[:batch])
            if not rows:
                return total
            items = [MentionInput(unit_id=unit_id, unit_path=path, source=MentionSource.INBOUND,
                                  source_ref=str(pk), text=text or "", posted_at=sent_at, network=network or "",
                                  language=language or "", sentiment=sentiment or "", account_id=account_id,
                                  conversation_id=conversation_id, author=handle or "", author_reach=followers or 0,
                                  needs_reply=bool(needs_reply))
                     for (pk, network, text, language, sentiment, sent_at, account_id, unit_id, path,
                          conversation_id, handle, followers, needs_reply) in rows]
            ingest_mentions(items, actor=actor)
            cursor.last_id = rows[-1][0]
            cursor.save(update_fields=["last_id"])
            total += len(rows)
    return total


def mentions_from_events(events: Iterable, *, unit, source: str = MentionSource.REPLAY,
                         network: str = "") -> list[MentionInput]:
    """``connectors.base.InboundEvent`` items (a feed, a search, a replay) as mentions of ``unit``."""
    out = []
    for e in events:
        out.append(MentionInput(
            unit_id=unit.pk, unit_path=unit.path, source=source, source_ref=e.external_id, text=e.text,
            posted_at=e.created_at, network=network, author=e.author.handle or e.author.name or "",
            author_reach=e.author.followers or 0, language=e.author.language or "",
            country=(e.author.country or "")[:2], kind=e.kind))
    return out
