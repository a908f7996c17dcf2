"""Raw inbox rows for the analytics tests, written straight to the tables (the inbox pipeline is not under test)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

DAY = dt.date(2026, 3, 10)
_ids = itertools.count(1)


def at(day: dt.date, hour: int = 9, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=dt.UTC)


def conversation(account, *, team=None, language="fr", first_inbound_at, reply_after_s=None, resolve_after_s=None,
                 messages=()):
    """A conversation and its inbound messages: ``messages`` are dicts of Message fields (``sent_at`` defaults to
    the first inbound time); an answer ``reply_after_s`` seconds later marks the needing ones replied."""
    from dandelion.inbox.models import Contact, Conversation, Message

    n = next(_ids)
    first_response_at = first_inbound_at + dt.timedelta(seconds=reply_after_s) if reply_after_s is not None else None
    conv = Conversation.objects.create(
        account=account, contact=Contact.objects.create(name=f"Customer {n}"), team=team, language=language,
        thread_key=f"t-{n}", first_inbound_at=first_inbound_at, first_response_at=first_response_at,
        resolved_at=first_inbound_at + dt.timedelta(seconds=resolve_after_s) if resolve_after_s is not None else None)
    for i, fields in enumerate(messages or ({"needs_reply": True},)):
        fields = dict(fields)
        fields.setdefault("sent_at", first_inbound_at)
        fields.setdefault("language", language)
        replied = first_response_at is not None and fields.get("needs_reply", False)
        Message.objects.create(conversation=conv, account=account, network=account.network,
                               external_id=f"m-{n}-{i}", direction="inbound", text="Hello", replied=replied,
                               replied_at=first_response_at if replied else None, **fields)
    return conv


@pytest.fixture
def traffic(org):
    """A small, known day: France answers fast, Spain slowly, one hidden spam message, one unanswered."""
    fr, es = org.fr_account, org.es_account
    conversation(fr, team=org.fr_team, first_inbound_at=at(DAY, 9), reply_after_s=120, resolve_after_s=3600,
                 messages=[{"needs_reply": True, "sentiment": "negative"}])
    conversation(fr, team=org.fr_team, first_inbound_at=at(DAY, 10), reply_after_s=600,
                 messages=[{"needs_reply": True, "sentiment": "positive"}])
    conversation(fr, team=org.fr_team, first_inbound_at=at(DAY, 11),
                 messages=[{"needs_reply": True}, {"moderation_state": "hidden", "spam": 0.97}])
    conversation(es, team=org.es_team, language="es", first_inbound_at=at(DAY, 12), reply_after_s=7200,
                 messages=[{"needs_reply": True, "sentiment": "neutral"}])
    return org
