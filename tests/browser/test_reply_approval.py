"""In real Chromium (issue 16, reply approval): a hub admin sets the policy in the form; a helper agent's reply is
held and the agent sees it waiting; a community manager returns one with a reason the agent reads, then approves an
edited draft, which is sent. Nothing reaches the network before the approval."""

import pytest

from tests.browser.conftest import login, settled, shot
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.context.clear_cookies()


def test_policy_hold_return_then_approve_an_edited_reply(page, inbox, deliver):
    from dandelion.connectors import fake
    from dandelion.core.models import AuditEvent
    from dandelion.inbox.jobs import deliver_reply
    from dandelion.inbox.models import Conversation, PendingReply, ReplyApprovalPolicy

    deliver(inbox.fr_account, event("Bonjour, je veux un remboursement", id="ap-1", author="u-ap", name="Inès Morel",
                                    language="fr"))
    conv = Conversation.objects.get(messages__external_id="ap-1")

    # the hub admin requires approval of helper agents' replies, through the form
    login(page, "hubadmin")
    page.goto("/inbox/approvals/policy/")
    page.select_option("#id_unit", str(inbox.hub.pk))
    page.check("input[name=author_roles][value=helper_agent]")
    page.check("input[name=author_roles][value=community_manager]")  # a mistake: refused with a clear error
    page.fill("#id_tags", "legal, press")
    page.check("#id_is_active")
    page.click("#approval-policy-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "cannot both need approval and approve" in page.inner_text("#approval-policy-form")
    shot(page, "approval-policy-error")
    page.uncheck("input[name=author_roles][value=community_manager]")
    page.click("#approval-policy-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Reply approval policy saved." in page.content()
    policy = ReplyApprovalPolicy.objects.get(unit=inbox.hub)
    assert policy.author_roles == ["helper_agent"] and policy.tags == ["legal", "press"]
    shot(page, "approval-policy-saved")
    _logout(page)

    # the helper agent's reply is held
    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    page.fill("#reply-text textarea", "Pas de remboursement possible.")
    page.click("button:has-text('Send reply')")
    page.wait_for_selector(".pending-reply[data-status=pending]")
    settled(page)
    assert "awaiting approval" in page.inner_text(".pending-reply")
    assert page.locator(".pending-reply .approve-form").count() == 0  # the author cannot approve
    assert conv.messages.filter(direction="outbound").count() == 0
    shot(page, "approval-held-for-agent")
    _logout(page)

    # the community manager returns it with a reason
    login(page, "frcm")
    page.goto("/inbox/approvals/")
    assert "Pas de remboursement possible." in page.inner_text("#approvals")
    page.click("#approvals a")
    page.wait_for_selector(".pending-reply .reject-form")
    page.fill(".reject-form input[name=reason]", "Propose le bon d'achat.")
    page.click(".reject-form button:has-text('Return to author')")
    page.wait_for_selector(".pending-reply[data-status=rejected]")
    settled(page)
    _logout(page)

    login(page, "fragent")
    page.goto(conv.get_absolute_url())
    assert "Propose le bon d'achat." in page.inner_text(".pending-reply[data-status=rejected]")
    shot(page, "approval-returned-to-agent")
    page.fill("#reply-text textarea", "Nous vous proposons un bon d'achat.")
    page.click("button:has-text('Send reply')")
    page.wait_for_selector(".pending-reply[data-status=pending]")
    settled(page)
    _logout(page)

    # the community manager edits the draft and approves: it is sent as the agent's reply
    login(page, "frcm")
    page.goto(conv.get_absolute_url())
    shot(page, "approval-approver-view")
    page.fill(".approve-form textarea", "Bonjour Inès, nous vous proposons un bon d'achat.")
    page.click(".approve-form button:has-text('Approve and send')")
    page.wait_for_selector(".msg.success, .messages", timeout=10_000)
    settled(page)
    pending = PendingReply.objects.get(status="approved")
    assert pending.reviewer.username == "frcm" and pending.message.author_user.username == "fragent"
    deliver_reply.call(pending.message.pk)
    assert [r.reply.text for r in fake.STORE.replies] == ["Bonjour Inès, nous vous proposons un bon d'achat."]
    assert AuditEvent.objects.filter(action="inbox.reply.approved").count() == 1
    assert AuditEvent.objects.filter(action="inbox.reply.rejected").count() == 1
    shot(page, "approval-approved")
