"""The REST conversation and message lists: what ``FastReadModelSerializer`` writes is exactly what a plain DRF
``ModelSerializer`` with the same fields writes, for rows with every optional field set and with none set, and a
list costs the same number of queries whatever its length."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from dandelion.inbox import services
from dandelion.inbox.api.serializers import ConversationSerializer, MessageSerializer
from dandelion.inbox.models import Conversation, Message
from tests.inbox.conftest import event

pytestmark = pytest.mark.django_db


def plain(serializer_class, **methods):
    """The same declared fields and ``Meta`` on DRF's own ``ModelSerializer``: the reference output."""
    attrs = {name: copy.deepcopy(field) for name, field in serializer_class._declared_fields.items()}
    attrs.update(methods, Meta=serializer_class.Meta)
    return type(f"Plain{serializer_class.__name__}", (serializers.ModelSerializer,), attrs)


@pytest.fixture
def full_and_bare(inbox, deliver):
    """A conversation with every optional field set (team, assignee, tags, every date-time, a routing reason) and
    one with none (no team, no assignee, no tag, no date-time), each with an inbound message and the first with a
    note by an agent."""
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est pas arrivée", id="full1", author="u-full",
                                    name="Fanny Pleine", language="fr"),
            event("Bonjour ?", id="bare1", author="u-bare", name="", language="fr"))
    full = Conversation.objects.get(messages__external_id="full1")
    bare = Conversation.objects.get(messages__external_id="bare1")
    admin = inbox.users.fr_admin
    services.assign_conversation(full, assignee=inbox.users.fr_agent, actor=admin)
    services.tag_conversation(full, actor=admin, add=["livraison", "vip"])
    services.add_note(full, text="Client prioritaire", actor=admin)
    at = timezone.now().replace(microsecond=123456)
    Conversation.objects.filter(pk=full.pk).update(
        waiting_since=at, first_inbound_at=at, first_response_at=at + dt.timedelta(minutes=5),
        last_inbound_at=at, last_outbound_at=at, last_activity_at=at, sla_due_at=at + dt.timedelta(hours=1),
        resolved_at=at, escalated=True, routing_reason={"rule": "VIP", "ids": [1, 2]})
    Conversation.objects.filter(pk=bare.pk).update(
        team=None, assignee=None, waiting_since=None, first_inbound_at=None, first_response_at=None,
        last_inbound_at=None, last_outbound_at=None, last_activity_at=None, sla_due_at=None, resolved_at=None,
        routing_reason={})
    return full, bare


def _rows(pks):
    return list(Conversation.objects.filter(pk__in=pks).select_related("account", "contact", "team", "assignee")
                .prefetch_related("tags").order_by("pk"))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Sao_Paulo"])
def test_conversations_serialise_as_plain_drf_does(full_and_bare, zone):
    rows = _rows([c.pk for c in full_and_bare])
    with timezone.override(zone):
        fast = ConversationSerializer(rows, many=True).data
        reference = plain(ConversationSerializer)(rows, many=True).data
    assert fast == reference
    assert [list(row) for row in fast] == [list(row) for row in reference]  # the keys in the same order
    full, bare = fast
    assert full["tags"] == ["livraison", "vip"] and full["assignee_username"] == "fragent" and full["team_name"]
    assert bare["team"] is None and bare["team_name"] is None and bare["assignee_username"] is None
    assert bare["sla_due_at"] is None and full["sla_due_at"].endswith("Z" if zone == "UTC" else ":00")


def test_messages_serialise_as_plain_drf_does(full_and_bare):
    msgs = list(Message.objects.filter(conversation__in=full_and_bare).select_related("author_identity",
                                                                                      "author_user").order_by("pk"))
    assert any(m.author_user_id for m in msgs) and any(m.author_identity_id is None for m in msgs)
    with timezone.override("Europe/Paris"):
        assert MessageSerializer(msgs, many=True).data == plain(MessageSerializer)(msgs, many=True).data


def test_api_list_detail_and_messages_equal_plain_drf(inbox, full_and_bare, api_for):
    api = api_for(inbox.users.fr_admin)
    results = api.get("/api/v1/conversations/?status=").json()["results"]
    by_id = {row["id"]: row for row in results}
    expected = json.loads(json.dumps(plain(ConversationSerializer)(_rows(by_id), many=True).data))
    assert [by_id[row["id"]] for row in expected] == expected and len(by_id) == 2
    full, _ = full_and_bare
    assert api.get(f"/api/v1/conversations/{full.pk}/").json() == expected[0]
    msgs = api.get(f"/api/v1/conversations/{full.pk}/messages/").json()["results"]
    reference = plain(MessageSerializer)(full.messages.order_by("sent_at", "id"), many=True).data
    assert msgs == json.loads(json.dumps(reference))


def test_fields_it_cannot_read_directly_are_drfs(full_and_bare):
    """A dictionary instead of a model, and a declared field it does not know, go through DRF's code."""

    class WithMethod(ConversationSerializer):
        shout = serializers.SerializerMethodField()

        class Meta(ConversationSerializer.Meta):
            fields = (*ConversationSerializer.Meta.fields, "shout")
            read_only_fields = fields

        def get_shout(self, obj):
            return obj.status.upper()

    rows = _rows([c.pk for c in full_and_bare])
    assert WithMethod(rows, many=True).data == plain(WithMethod, get_shout=WithMethod.get_shout)(
        rows, many=True).data
    assert WithMethod(rows[0]).data["shout"] == rows[0].status.upper()
    assert ConversationSerializer({"id": 7, "status": "open"}).data == \
        plain(ConversationSerializer)({"id": 7, "status": "open"}).data


def test_conversation_list_queries_do_not_grow_with_rows(inbox, deliver, full_and_bare, api_for):
    api = api_for(inbox.users.fr_admin)
    url = "/api/v1/conversations/?status="
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(url).json()["results"]) == 2
    deliver(inbox.fr_account, *[event(f"Bonjour {i} ?", id=f"n{i}", author=f"u-n{i}", language="fr")
                                for i in range(8)])
    admin = inbox.users.fr_admin
    for i, conversation in enumerate(Conversation.objects.filter(messages__external_id__startswith="n")):
        services.tag_conversation(conversation, actor=admin, add=[f"t{i}", "lot"])
        services.assign_conversation(conversation, assignee=inbox.users.fr_agent2 if i % 2 else inbox.users.fr_agent,
                                     actor=admin)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(url).json()["results"]) == 10
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_the_fast_base_adds_nothing_to_the_openapi_schema():
    from drf_spectacular.plumbing import get_doc

    assert get_doc(ConversationSerializer) == get_doc(MessageSerializer) == ""  # no description inherited
