"""Routing fixtures: conversations and messages on the shared ``org`` (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from dandelion.inbox.models import Contact, Conversation, Message
from dandelion.routing.engine import RoutingContext

_seq = itertools.count(1)


def make_ctx(account, **overrides) -> RoutingContext:
    values = {"text": "Bonjour", "language": "fr", "country": account.country or None, "account_id": account.pk,
                  "unit_id": account.owner_unit_id, "unit_path": account.owner_unit.path, "network": account.network,
                  "kind": "comment", "intent": "question", "sentiment": "neutral", "spam": 0.0, "abuse": 0.0, "author_followers": 10,
                  "is_vip": False}
    values.update(overrides)
    return RoutingContext(**values)


@pytest.fixture
def ctx_for():
    return make_ctx


@pytest.fixture
def make_conversation(db):
    def make(account, *, team=None, priority="normal", at=None, text="Bonjour, j'ai un problème", language="fr",
             **message_fields):
        at = at or dt.datetime(2025, 3, 3, 10, 0, tzinfo=dt.UTC)
        n = next(_seq)
        contact = Contact.objects.create(name=f"Customer {n}")
        conversation = Conversation.objects.create(
            account=account, contact=contact, thread_key=f"t-{n}", team=team, priority=priority,
            language=language, waiting_since=at, first_inbound_at=at, last_inbound_at=at, needs_reply=True)
        Message.objects.create(conversation=conversation, network=account.network, external_id=f"m-{n}",
                               direction="inbound", text=text, sent_at=at, language=language, **message_fields)
        return conversation

    return make
