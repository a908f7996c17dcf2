"""The brand's own post as the thread root: a sent variant enters the inbox as the brand's outbound message, and
the network's comments (``in_reply_to`` = the post's id) thread under it, end to end through the sandbox
connector (publish, then a signed generic webhook delivery parsed by the same connector)."""

import json

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dandelion.connectors import registry, sandbox
from dandelion.connectors.generic import sign
from dandelion.core.models import AuditEvent
from dandelion.inbox import pipeline
from dandelion.inbox import services as inbox_services
from dandelion.inbox.choices import ConversationStatus, Direction
from dandelion.inbox.connect import account_ref
from dandelion.inbox.models import Conversation, Message
from dandelion.publishing import jobs, services
from dandelion.publishing.choices import PostState


def _sandbox_post(pub, text="Bonjour à tous"):
    pub.fr_account.connector = "sandbox"
    pub.fr_account.save(update_fields=["connector"])
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=text, accounts=[pub.fr_account])
    services.submit_post(post, actor=pub.users.fr_cm)
    services.schedule_post(post, actor=pub.users.fr_cm)
    assert services.send_due(worker="w")["sent"] == 1
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED
    variant = post.variants.get()
    # the inbox copy is a job of its own, enqueued by the send batch (never in the way of the next claim)
    queued = DBTaskResult.objects.get(task_path__endswith=".record_sent_in_inbox")
    assert queued.args_kwargs["args"] == [[variant.pk]]
    assert not Message.objects.filter(external_id=variant.external_id).exists()
    jobs.record_sent_in_inbox.call(*queued.args_kwargs["args"])
    return post, variant


def _deliver(account, events):
    """A signed delivery in the generic webhook format, parsed by the account's own (sandbox) connector."""
    ref = account_ref(account)
    body = json.dumps({"events": events}).encode()
    parsed = registry.connector_for(ref).parse_webhook(
        ref, body, {"X-Dandelion-Signature": sign(body, ref.webhook_secret)}
    )
    return pipeline.ingest_events(account, parsed)


def test_sent_post_is_the_thread_root_and_comments_thread_under_it(pub):
    post, variant = _sandbox_post(pub)
    assert variant.external_id in sandbox.PUBLISHED
    root = Message.objects.get(account=pub.fr_account, external_id=variant.external_id)
    assert root.direction == Direction.OUTBOUND and root.text == "Bonjour à tous" and root.in_reply_to == ""
    assert root.author_user_id == pub.users.fr_cm.pk
    conv = root.conversation
    assert conv.status == ConversationStatus.RESOLVED and conv.thread_key == variant.external_id
    assert AuditEvent.objects.filter(action="inbox.own_post").count() == 1
    # nothing to answer yet: not listed on the post's page
    assert services.post_conversations(post, pub.users.fr_cm) == []

    now = timezone.now().isoformat()
    result = _deliver(
        pub.fr_account,
        [
            {
                "id": "c-1",
                "kind": "comment",
                "text": "Super !",
                "created_at": now,
                "in_reply_to": variant.external_id,
                "author": {"id": "cust-1", "name": "Camille Client"},
            },
            {
                "id": "c-2",
                "kind": "comment",
                "text": "Moi aussi",
                "created_at": now,
                "in_reply_to": variant.external_id,
                "author": {"id": "cust-2", "name": "Dominique"},
            },
            {
                "id": "c-3",
                "kind": "comment",
                "text": "Merci Camille",
                "created_at": now,
                "in_reply_to": "c-1",
                "author": {"id": "cust-2", "name": "Dominique"},
            },
        ],
    )
    assert result.created == 3 and result.conversations_created == 0 and result.orphan_echoes == 0
    conv.refresh_from_db()
    assert list(conv.messages.values_list("external_id", flat=True)) == [
        variant.external_id,
        "c-1",
        "c-2",
        "c-3",
    ]
    assert conv.status == ConversationStatus.OPEN  # the first comment reopened it
    assert conv.contact.name == "Camille Client"  # the first commenter, no longer the brand
    assert (
        Conversation.objects.filter(account=pub.fr_account).count() == 1
    )  # every comment in one conversation
    assert [c.pk for c in services.post_conversations(post, pub.users.fr_cm)] == [conv.pk]
    assert services.post_conversations(post, pub.users.es_agent) == []  # fails closed

    # an echo (the brand answering a comment outside Dandelion) threads too: no orphan
    result = _deliver(
        pub.fr_account,
        [
            {
                "id": "e-1",
                "kind": "reply",
                "text": "Merci !",
                "created_at": now,
                "in_reply_to": "c-1",
                "from_account": True,
                "author": {"id": pub.fr_account.external_id, "name": "Brand"},
            }
        ],
    )
    assert result.echoes == 1 and result.orphan_echoes == 0


def test_storing_the_root_is_idempotent(pub):
    _post, variant = _sandbox_post(pub)
    again = inbox_services.record_own_posts(
        [
            inbox_services.OwnPost(
                account=pub.fr_account, external_id=variant.external_id, text="x", sent_at=timezone.now()
            )
        ],
        actor=pub.users.fr_cm,
    )
    assert again == []
    assert Message.objects.filter(external_id=variant.external_id).count() == 1


def test_an_inbox_failure_never_fails_the_send(pub, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("inbox down")

    monkeypatch.setattr(inbox_services, "record_own_posts", boom)
    _post, variant = _sandbox_post(pub)
    assert variant.external_id and not Message.objects.filter(external_id=variant.external_id).exists()
