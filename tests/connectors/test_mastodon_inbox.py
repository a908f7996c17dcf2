"""Mastodon end to end through Dandelion, against a MOCK Mastodon instance (``mastodon_mock.py``; no real Mastodon can
run here): a customer mentions the brand → the polling job puts the conversation in the right team's queue → the
agent's reply (the inbox service, then the delivery job) is on the instance as a reply (``in_reply_to_id``) → a DM
is answered as a direct message → a rate limit delays the next poll without failing it → a revoked token shows on
the account's health and clears with a new token."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from tests.connectors.mastodon_mock import mastodon_mock  # noqa: F401 - the fixture
from tests.inbox.conftest import _analyzer, _fake_store, deliver, inbox, post_hook  # noqa: F401 - shared fixtures

from dandelion.connectors.mastodon import client as clients


@pytest.fixture(autouse=True)
def _fresh_clients():
    clients.forget()
    yield
    clients.forget()


@pytest.fixture
def mastodon_account(inbox, mastodon_mock):
    from dandelion.assets import services as assets

    brand = mastodon_mock.account("acme_fr", "Acme France")
    brand.token = mastodon_mock.token_for(brand)
    account = inbox.fr_account
    account.network, account.connector, account.external_id = "mastodon", "mastodon", brand.id
    account.handle = f"acme_fr@{mastodon_mock.host}"
    account.connector_config = {"instance": mastodon_mock.url, "language": "fr"}
    account.save()
    assets.set_account_credentials(account, credentials={"access_token": brand.token}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    account.brand = brand
    return account


def run_poll():
    from dandelion.inbox.jobs import poll_accounts, process_pending_deliveries

    summary = poll_accounts.call()
    process_pending_deliveries.call()
    return summary


def poll_now(account):
    type(account).objects.filter(pk=account.pk).update(next_poll_at=None)  # due now
    return run_poll()


@pytest.mark.django_db
def test_mention_to_queue_threaded_reply_and_dm_answered_directly(inbox, mastodon_account, mastodon_mock):
    from dandelion.inbox import services
    from dandelion.inbox.jobs import deliver_reply, run_moderation
    from dandelion.inbox.models import Conversation, Message

    mock, brand = mastodon_mock, mastodon_account.brand
    camille = mock.account("camille", "Camille Client")
    run_poll()  # the first poll sets the cursor
    started = time.monotonic()
    mention = mock.post(camille, "@acme_fr bonjour, mon colis n'est pas arrivé, je suis inquiète")
    assert poll_now(mastodon_account)["events"] == 1
    assert time.monotonic() - started < 10
    message = Message.objects.get(external_id=mention["id"])
    conversation = message.conversation
    assert conversation.team == inbox.fr_team and conversation.account == mastodon_account
    assert conversation.needs_reply and message.author_identity.external_id == camille.id
    mastodon_account.refresh_from_db()
    assert mastodon_account.poll_state["own_id"] == brand.id and mastodon_account.last_error == ""

    reply = services.reply_to_conversation(conversation, text="Bonjour, nous regardons tout de suite.",
                                           actor=inbox.users.fr_agent)
    assert deliver_reply.call(reply.pk) == "sent"
    reply.refresh_from_db()
    on_instance = mock.statuses[reply.external_id]
    assert on_instance["account"] == brand.id and on_instance["in_reply_to_id"] == mention["id"]
    assert on_instance["visibility"] == "public" and on_instance["text"].startswith("@camille ")
    assert on_instance["language"] == "fr"

    # the customer answers the brand's reply: it threads into the same conversation; our own reply is not doubled
    answer = mock.post(camille, "@acme_fr merci !", in_reply_to=reply.external_id)
    poll_now(mastodon_account)
    assert Message.objects.get(external_id=answer["id"]).conversation_id == conversation.pk
    assert Message.objects.filter(external_id=reply.external_id).count() == 1

    # a DM: its own private conversation, answered as a direct message
    dm = mock.post(camille, "@acme_fr mon numéro de commande est le 1234", visibility="direct")
    poll_now(mastodon_account)
    dm_message = Message.objects.get(external_id=dm["id"])
    assert dm_message.kind == "dm" and dm_message.conversation_id != conversation.pk
    private = dm_message.conversation
    assert private.team == inbox.fr_team
    dm_reply = services.reply_to_conversation(private, text="Merci, je vérifie la commande 1234.",
                                              actor=inbox.users.fr_agent)
    assert deliver_reply.call(dm_reply.pk) == "sent"
    dm_reply.refresh_from_db()
    stored = mock.statuses[dm_reply.external_id]
    assert stored["visibility"] == "direct" and stored["in_reply_to_id"] == dm["id"]
    assert stored["mentions"] == [camille.id]
    poll_now(mastodon_account)  # the brand's own DM comes back through the conversations: not a new message
    assert Message.objects.filter(external_id=dm_reply.external_id).count() == 1

    # hiding from the inbox: Mastodon has no hidden replies, the result says so and the message is hidden here
    rude = mock.post(camille, "@acme_fr nul nul nul", in_reply_to=reply.external_id)
    poll_now(mastodon_account)
    rude_message = Message.objects.get(external_id=rude["id"])
    services.moderate_message(rude_message, action="hide", actor=inbox.users.fr_agent, reason="insulte")
    assert run_moderation.call(rude_message.pk, "hide") == "done"
    rude_message.refresh_from_db()
    assert rude_message.moderation_state == "hidden" and rude["id"] in mock.statuses
    assert Conversation.objects.filter(account=mastodon_account).count() == 2


@pytest.mark.django_db
def test_rate_limit_delays_the_poll_and_a_revoked_token_shows_on_health(inbox, mastodon_account, mastodon_mock):
    from dandelion.assets import services as assets

    mock, brand = mastodon_mock, mastodon_account.brand
    run_poll()
    mock.spend_budget(brand.token, remaining=-1, reset_in_s=600)  # the instance answers 429
    summary = poll_now(mastodon_account)
    assert summary["failed"] == 1
    mastodon_account.refresh_from_db()
    assert mastodon_account.next_poll_at > timezone.now() + timezone.timedelta(seconds=500)  # X-RateLimit-Reset
    assert mastodon_account.last_error == "" and "connector_error" not in mastodon_account.health_flags()
    mock.spend_budget(brand.token, remaining=300, reset_in_s=300)
    clients.forget()

    mock.revoke_token(brand.token)
    assert poll_now(mastodon_account)["failed"] == 1
    mastodon_account.refresh_from_db()
    assert "revoked" in mastodon_account.last_error and "connector_error" in mastodon_account.health_flags()
    assert mastodon_account.next_poll_at > timezone.now() + timezone.timedelta(hours=5)  # permanent: retried slowly
    assets.set_account_credentials(mastodon_account, credentials={"access_token": mock.token_for(brand)},
                                   expires_at=None, actor=inbox.users.hub_admin)
    assert poll_now(mastodon_account)["failed"] == 0
    mastodon_account.refresh_from_db()
    assert mastodon_account.last_error == ""


@pytest.mark.django_db
def test_mute_and_report_the_author_from_the_conversation_view(inbox, mastodon_account, mastodon_mock, client):
    """The per-message menu offers "Mute author" and "Report…" because the account's connector offers them (no
    network named in the inbox); the actions reach the (mock) instance through the moderation job, audited."""
    from django.urls import reverse

    from dandelion.core.models import AuditEvent
    from dandelion.inbox.jobs import run_moderation
    from dandelion.inbox.models import Message

    mock = mastodon_mock
    troll = mock.account("troll", "Troll")
    run_poll()
    rude = mock.post(troll, "@acme_fr nul nul nul, arnaque")
    poll_now(mastodon_account)
    message = Message.objects.get(external_id=rude["id"])
    conversation = message.conversation
    client.force_login(inbox.users.fr_agent)
    page = client.get(reverse("inbox:conversation-detail", args=[conversation.pk])).content.decode()
    assert 'data-action="mute_author"' in page and 'data-action="report_author"' in page

    action = reverse("inbox:conversation-action", args=[conversation.pk, "moderate"])
    assert client.post(action, {"message": message.pk, "action": "mute_author"}).status_code in (200, 302)
    assert run_moderation.call(message.pk, "mute_author") == "done"
    assert mock.relationships[(mastodon_account.brand.id, troll.id)]["muting"] is True
    assert client.post(action, {"message": message.pk, "action": "report_author",
                                "reason": "insultes répétées"}).status_code in (200, 302)
    assert run_moderation.call(message.pk, "report_author", "insultes répétées") == "done"
    assert mock.reports[0]["target_account"]["id"] == troll.id and mock.reports[0]["status_ids"] == [rude["id"]]
    assert mock.reports[0]["comment"] == "insultes répétées"
    message.refresh_from_db()
    assert message.moderation_state == "visible"  # acting on the author leaves the message as it is
    actions = set(AuditEvent.objects.filter(object_id=str(message.pk)).values_list("action", flat=True))
    assert {"inbox.moderate.mute_author", "inbox.moderate.report_author"} <= actions
    details = [e.data.get("detail", "") for e in conversation.events.filter(kind="moderated")]
    assert "muted on Mastodon" in details and any("reported to the instance" in d for d in details)

    # an agent of another team sees no such menu and may not act
    other = reverse("inbox:conversation-action", args=[conversation.pk, "moderate"])
    client.force_login(inbox.users.es_agent)
    assert client.post(other, {"message": message.pk, "action": "mute_author"}).status_code in (403, 404)


@pytest.mark.django_db
def test_author_actions_are_refused_where_the_network_has_none(inbox, deliver, client):
    """The fake connector offers no mute or report: no buttons, and the service refuses."""
    from django.urls import reverse
    from tests.inbox.conftest import event

    from dandelion.inbox import connect, services
    from dandelion.inbox.exceptions import CapabilityMissing
    from dandelion.inbox.models import Message

    assert connect.author_actions(inbox.fr_account) == {"mute_author": False, "report_author": False}
    deliver(inbox.fr_account, event("Bonjour, ma commande ?", id="plain-1"))
    message = Message.objects.get(external_id="plain-1")
    client.force_login(inbox.users.fr_agent)
    page = client.get(reverse("inbox:conversation-detail", args=[message.conversation_id])).content.decode()
    assert 'data-action="mute_author"' not in page and 'data-action="report_author"' not in page
    for action in ("mute_author", "report_author"):
        with pytest.raises(CapabilityMissing):
            services.moderate_message(message, action=action, actor=inbox.users.fr_agent)
