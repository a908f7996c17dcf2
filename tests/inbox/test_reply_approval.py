"""Issue 16: reply approval. A unit's policy holds replies by some roles (trainees, an external vendor) or on
conversations with some tags (legal, press, VIP); nothing reaches the network until an approver approves (possibly
after editing) or returns the reply with a reason. Audited, permission-checked, never approved by its author."""

import pytest
from django.urls import reverse

from dandelion.connectors import fake
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox import services
from dandelion.inbox.exceptions import InboxError, InvalidTransition, ReasonRequired
from dandelion.inbox.jobs import deliver_reply
from dandelion.inbox.models import Conversation, Message, PendingReply, ReplyApprovalPolicy
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est pas arrivée ?", id="appr-1", author="u-1",
                                    name="Chloé Cliente", language="fr"))
    return Conversation.objects.get(messages__external_id="appr-1")


@pytest.fixture
def policy(inbox):
    """The hub holds helper agents' and the vendor's replies, and every reply on a conversation tagged legal."""
    return services.set_reply_approval_policy(inbox.hub, actor=inbox.users.hub_admin,
                                              author_roles=["helper_agent", "external_moderator"], tags=["Legal"])


def _outbound(conv):
    return conv.messages.filter(direction="outbound")


def test_without_a_policy_a_reply_is_sent_at_once(inbox, conv):
    result = services.reply_to_conversation(conv, text="Bonjour !", actor=inbox.users.fr_agent)
    assert isinstance(result, Message) and not PendingReply.objects.exists()


def test_a_held_reply_sends_nothing_until_approved_then_goes_out_as_the_authors(inbox, conv, policy,
                                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pending = services.reply_to_conversation(conv, text="Bonjour, je regarde.", actor=inbox.users.fr_agent)
    assert isinstance(pending, PendingReply) and pending.status == "pending" and pending.why == "role: helper_agent"
    conv.refresh_from_db()
    assert not _outbound(conv).exists() and conv.needs_reply and conv.first_response_at is None
    assert fake.STORE.replies == []
    held = AuditEvent.objects.get(action="inbox.reply.held")
    assert held.actor == inbox.users.fr_agent and held.changes == {"pending_reply": [None, pending.pk]}

    with django_capture_on_commit_callbacks(execute=True):
        message = services.approve_reply(pending, actor=inbox.users.fr_cm, text="Bonjour Chloé, je regarde.")
    pending.refresh_from_db()
    conv.refresh_from_db()
    assert pending.status == "approved" and pending.reviewer == inbox.users.fr_cm and pending.message == message
    assert message.author_user == inbox.users.fr_agent and message.text == "Bonjour Chloé, je regarde."
    assert conv.first_response_at is not None and not conv.needs_reply
    entry = AuditEvent.objects.get(action="inbox.reply.approved")
    assert entry.actor == inbox.users.fr_cm
    assert entry.changes["text"] == ["Bonjour, je regarde.", "Bonjour Chloé, je regarde."]
    assert entry.changes["approval"] == ["pending", "approved"]
    deliver_reply.call(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == "sent"
    assert [r.reply.text for r in fake.STORE.replies] == ["Bonjour Chloé, je regarde."]
    with pytest.raises(InvalidTransition):
        services.approve_reply(pending, actor=inbox.users.fr_cm)


def test_a_returned_reply_needs_a_reason_and_sends_nothing(inbox, conv, policy):
    pending = services.reply_to_conversation(conv, text="Pas de remboursement.", actor=inbox.users.fr_agent)
    with pytest.raises(ReasonRequired):
        services.reject_reply(pending, actor=inbox.users.fr_admin, reason="  ")
    services.reject_reply(pending, actor=inbox.users.fr_admin, reason="Offer the voucher instead.")
    pending.refresh_from_db()
    assert pending.status == "rejected" and pending.reason == "Offer the voucher instead."
    assert not _outbound(conv).exists()
    entry = AuditEvent.objects.get(action="inbox.reply.rejected")
    assert entry.actor == inbox.users.fr_admin and entry.changes["reason"] == [None, "Offer the voucher instead."]
    with pytest.raises(InvalidTransition):
        services.approve_reply(pending, actor=inbox.users.fr_admin)


def test_tagged_conversations_hold_everyone_but_approvers(inbox, conv, policy):
    services.tag_conversation(conv, actor=inbox.users.fr_cm, add=["legal"])
    pending = services.reply_to_conversation(conv, text="Hello", actor=inbox.users.fr_agent)
    assert isinstance(pending, PendingReply) and pending.why.startswith("role")
    services.set_reply_approval_policy(inbox.hub, actor=inbox.users.hub_admin, author_roles=[], tags=["legal"])
    pending = services.reply_to_conversation(conv, text="Hello again", actor=inbox.users.fr_agent)
    assert isinstance(pending, PendingReply) and pending.why == "tag: legal"
    # an approver's own reply is not held
    assert isinstance(services.reply_to_conversation(conv, text="Réponse", actor=inbox.users.fr_cm,
                                                     confirm_collision=True), Message)


def test_an_inactive_policy_or_another_subtree_holds_nothing(inbox, deliver, conv):
    services.set_reply_approval_policy(inbox.spain, actor=inbox.users.es_admin, author_roles=["helper_agent"])
    assert isinstance(services.reply_to_conversation(conv, text="Bonjour", actor=inbox.users.fr_agent), Message)
    services.set_reply_approval_policy(inbox.france, actor=inbox.users.fr_admin, author_roles=["helper_agent"],
                                       is_active=False)
    assert isinstance(services.reply_to_conversation(conv, text="Encore", actor=inbox.users.fr_agent,
                                                     confirm_collision=True), Message)


@pytest.mark.parametrize("who, allowed", [
    ("fr_cm", True), ("fr_admin", True), ("europe_admin", True), ("hub_admin", True), ("pr", True),
    ("fr_agent", False),  # the author
    ("fr_agent2", False),  # a helper: a held role, not an approver
    ("es_admin", False), ("es_agent", False), ("moderator", False), ("analyst", False), ("nobody", False),
])
def test_approval_permission_matrix(inbox, conv, policy, client_for, who, allowed):
    pending = services.reply_to_conversation(conv, text="Bonjour", actor=inbox.users.fr_agent)
    user = getattr(inbox.users, who)
    assert services.can_approve(user, pending) is allowed
    if not allowed:
        with pytest.raises(PermissionDeniedError):
            services.approve_reply(pending, actor=user)
        with pytest.raises(PermissionDeniedError):
            services.reject_reply(pending, actor=user, reason="no")
    url = reverse("inbox:conversation-action", args=[conv.pk, "approve"])
    response = client_for(user).post(url, {"pending": pending.pk, "text": "Bonjour !"})
    pending.refresh_from_db()
    if allowed:
        assert response.status_code == 302 and pending.status == "approved"
        assert _outbound(conv).get().text == "Bonjour !"
    else:
        assert response.status_code in (302, 403, 404) and pending.status == "pending"
        assert not _outbound(conv).exists()


def test_the_vendor_moderators_replies_are_held_for_the_unit(inbox, conv, policy):
    Conversation.objects.filter(pk=conv.pk).update(team=inbox.vendor_team)
    conv.refresh_from_db()
    pending = services.reply_to_conversation(conv, text="We are on it.", actor=inbox.users.moderator)
    assert isinstance(pending, PendingReply) and pending.why == "role: external_moderator"
    assert services.can_approve(inbox.users.moderator, pending) is False
    services.approve_reply(pending, actor=inbox.users.fr_admin)
    assert _outbound(conv).get().author_user == inbox.users.moderator


def test_the_conversation_page_shows_the_draft_to_the_author_and_the_forms_to_the_approver(inbox, conv, policy,
                                                                                             client_for):
    response = client_for(inbox.users.fr_agent).post(
        reverse("inbox:conversation-action", args=[conv.pk, "reply"]), {"text": "Brouillon à valider"}, follow=True)
    text = response.content.decode()
    assert "waits for approval" in text and "Brouillon à valider" in text and "Approve and send" not in text
    approver = client_for(inbox.users.fr_cm)
    page = approver.get(reverse("inbox:conversation-detail", args=[conv.pk])).content.decode()
    assert "Approve and send" in page and "Return to author" in page
    listing = approver.get(reverse("inbox:approvals")).content.decode()
    assert "Brouillon à valider" in listing
    assert "Brouillon à valider" not in client_for(inbox.users.fr_agent2).get(reverse("inbox:approvals")).content.decode()
    pending = PendingReply.objects.get()
    response = approver.post(reverse("inbox:conversation-action", args=[conv.pk, "reject"]),
                             {"pending": pending.pk, "reason": ""})
    assert response.status_code == 400
    approver.post(reverse("inbox:conversation-action", args=[conv.pk, "reject"]),
                  {"pending": pending.pk, "reason": "Tutoyez pas"})
    page = client_for(inbox.users.fr_agent).get(reverse("inbox:conversation-detail", args=[conv.pk])).content.decode()
    assert "Tutoyez pas" in page and "returned by" in page


def test_the_api_answers_202_for_a_held_reply(inbox, conv, policy, client_for):
    response = client_for(inbox.users.fr_agent).post(f"/api/v1/conversations/{conv.pk}/reply/",
                                                    {"text": "Via l'API"}, content_type="application/json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending" and not _outbound(conv).exists()


@pytest.mark.parametrize("who, allowed", [
    ("hub_admin", True), ("fr_admin", True), ("europe_admin", True),
    ("fr_cm", False), ("fr_agent", False), ("es_admin", False), ("moderator", False), ("pr", False),
    ("analyst", False),
])
def test_policy_permission_matrix(inbox, client_for, who, allowed):
    user = getattr(inbox.users, who)
    if not allowed:
        with pytest.raises(PermissionDeniedError):
            services.set_reply_approval_policy(inbox.france, actor=user, author_roles=["helper_agent"])
    response = client_for(user).post(reverse("inbox:approval-policy"), {
        "unit": inbox.france.pk, "author_roles": ["helper_agent"], "tags": "press, vip", "is_active": "on"})
    policy = ReplyApprovalPolicy.objects.filter(unit=inbox.france).first()
    if allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert policy.author_roles == ["helper_agent"] and policy.tags == ["press", "vip"]
        assert AuditEvent.objects.get(action="inbox.approval_policy.change").actor == user
    else:
        assert response.status_code in (400, 403) and policy is None


def test_policy_validation(inbox):
    admin = inbox.users.hub_admin
    with pytest.raises(InboxError, match="at least one role or one tag"):
        services.set_reply_approval_policy(inbox.hub, actor=admin)
    with pytest.raises(InboxError, match="both need approval and approve"):
        services.set_reply_approval_policy(inbox.hub, actor=admin, author_roles=["community_manager"])
    with pytest.raises(InboxError, match="Unknown role"):
        services.set_reply_approval_policy(inbox.hub, actor=admin, author_roles=["intern"])
    with pytest.raises(InboxError, match="At most"):
        services.set_reply_approval_policy(inbox.hub, actor=admin, tags=["x" * 61])


# --- follow-ups: notifications and withdrawal ---------------------------------------------------------------------


def _told(event_type):
    from dandelion.notifications.models import Notification

    return sorted(Notification.objects.filter(event_type=event_type).values_list("recipient__username", flat=True))


def test_approvers_are_notified_of_a_held_reply_and_the_author_of_the_outcome(inbox, conv, policy,
                                                                               django_capture_on_commit_callbacks):
    from dandelion.notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        pending = services.reply_to_conversation(conv, text="Bonjour", actor=inbox.users.fr_agent)
    # the approver roles on France or above it; never the author, another helper, Spain, the vendor or an analyst
    assert _told("conversation.reply_held") == ["euadmin", "fradmin", "frcm", "hubadmin", "pr"]
    note = Notification.objects.get(event_type="conversation.reply_held", recipient=inbox.users.fr_cm)
    assert "fragent" in note.title and f"#{conv.pk}" in note.title and note.url == conv.get_absolute_url()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_reply(pending, actor=inbox.users.fr_cm)
    assert _told("conversation.reply_approved") == ["fragent"]

    with django_capture_on_commit_callbacks(execute=True):
        second = services.reply_to_conversation(conv, text="Encore", actor=inbox.users.fr_agent, confirm_collision=True)
        services.reject_reply(second, actor=inbox.users.fr_admin, reason="Trop sec")
    returned = Notification.objects.get(event_type="conversation.reply_returned")
    assert returned.recipient == inbox.users.fr_agent and "Trop sec" in returned.title


def test_named_approver_roles_narrow_who_is_notified(inbox, conv, django_capture_on_commit_callbacks):
    services.set_reply_approval_policy(inbox.france, actor=inbox.users.fr_admin, author_roles=["helper_agent"],
                                       approver_roles=["community_manager"])
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_to_conversation(conv, text="Bonjour", actor=inbox.users.fr_agent)
    assert _told("conversation.reply_held") == ["frcm"]


def test_the_author_withdraws_a_held_reply(inbox, conv, policy, django_capture_on_commit_callbacks):
    pending = services.reply_to_conversation(conv, text="Oups", actor=inbox.users.fr_agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_reply(pending, actor=inbox.users.fr_agent)
    pending.refresh_from_db()
    assert pending.status == "withdrawn" and not _outbound(conv).exists()
    entry = AuditEvent.objects.get(action="inbox.reply.withdrawn")
    assert entry.actor == inbox.users.fr_agent and entry.changes["approval"] == ["pending", "withdrawn"]
    with pytest.raises(InvalidTransition):
        services.withdraw_reply(pending, actor=inbox.users.fr_agent)
    with pytest.raises(InvalidTransition):
        services.approve_reply(pending, actor=inbox.users.fr_cm)
    assert _told("conversation.reply_withdrawn") == []


@pytest.mark.parametrize("who, allowed", [
    ("fr_agent", True),  # the author only
    ("fr_agent2", False), ("fr_cm", False), ("fr_admin", False), ("hub_admin", False), ("pr", False),
    ("es_admin", False), ("moderator", False), ("analyst", False), ("nobody", False),
])
def test_withdraw_permission_matrix(inbox, conv, policy, client_for, api_for, who, allowed):
    user = getattr(inbox.users, who)
    pending = services.reply_to_conversation(conv, text="Bonjour", actor=inbox.users.fr_agent)
    if not allowed:
        with pytest.raises(PermissionDeniedError):
            services.withdraw_reply(pending, actor=user)
    response = client_for(user).post(reverse("inbox:conversation-action", args=[conv.pk, "withdraw"]),
                                     {"pending": pending.pk})
    pending.refresh_from_db()
    if allowed:
        assert response.status_code == 302 and pending.status == "withdrawn"
        return
    assert response.status_code in (302, 403, 404) and pending.status == "pending"
    api = api_for(user).post(f"/api/v1/conversations/{conv.pk}/withdraw-reply/", {"pending_reply": pending.pk},
                             format="json")
    assert api.status_code in (403, 404) and PendingReply.objects.get(pk=pending.pk).status == "pending"


def test_withdraw_through_the_api_and_the_page(inbox, conv, policy, client_for, api_for):
    agent = client_for(inbox.users.fr_agent)
    agent.post(reverse("inbox:conversation-action", args=[conv.pk, "reply"]), {"text": "Brouillon"})
    pending = PendingReply.objects.get()
    page = agent.get(reverse("inbox:conversation-detail", args=[conv.pk])).content.decode()
    assert "Withdraw reply" in page and "data-confirm" in page
    assert "Withdraw reply" not in client_for(inbox.users.fr_cm).get(
        reverse("inbox:conversation-detail", args=[conv.pk])).content.decode()
    api = api_for(inbox.users.fr_agent)
    assert api.post(f"/api/v1/conversations/{conv.pk}/withdraw-reply/", {"pending_reply": 0},
                    format="json").status_code == 400
    response = api.post(f"/api/v1/conversations/{conv.pk}/withdraw-reply/", {"pending_reply": pending.pk},
                        format="json")
    assert response.status_code == 200 and response.json() == {"pending_reply": pending.pk, "status": "withdrawn"}
    assert api.post(f"/api/v1/conversations/{conv.pk}/withdraw-reply/", {"pending_reply": pending.pk},
                    format="json").status_code == 400
    page = agent.get(reverse("inbox:conversation-detail", args=[conv.pk])).content.decode()
    assert f'data-pending="{pending.pk}"' not in page  # a withdrawn reply is no longer shown
