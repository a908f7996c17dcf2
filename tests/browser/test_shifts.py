"""In real Chromium (issue 16): one working shift per demo role, through the UI only.

A helper agent lands on the queue, takes a colleague's conversation, answers it with a canned response, resolves it
and follows "next conversation"; an external moderator sees only their queue and hides spam after a confirmation
that says how many; a spoke admin builds a routing rule with the builder, previews it on recent messages and saves
it; a helper escalates a thread to PR and the PR manager owns it; a hub admin, in French, edits an SLA policy and
filters the audit log by a person's name (French labels, French dates); an analyst reads the metrics with their
dates filled. Screenshots: ``test-artifacts/shift-*.png``."""

import re

import pytest

from tests.browser.conftest import login, settled, shot, wait_for
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _conversation(inbox, deliver, text, *, id, name, language="fr"):
    from dandelion.inbox.models import Conversation

    deliver(inbox.fr_account, event(text, id=id, author=f"u-{id}", name=name, language=language))
    return Conversation.objects.get(messages__external_id=id)


def _open(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_helper_agent_shift(page, inbox, deliver):
    from dandelion.inbox import services

    first = _conversation(inbox, deliver, "Bonjour, mon colis est perdu depuis lundi", id="h-1", name="Camille Martin")
    second = _conversation(inbox, deliver, "Bonjour, puis-je changer mon adresse ?", id="h-2", name="Bruno Petit")
    services.assign_conversation(first, assignee=inbox.users.fr_agent2, actor=inbox.users.fr_admin)
    services.assign_conversation(second, assignee=inbox.users.fr_agent, actor=inbox.users.fr_admin)
    services.create_canned_response(unit=inbox.france, title="Lost parcel", shortcut="lost", language="fr",
                                    body="Bonjour {contact_name}, {agent_name} recherche votre colis.",
                                    actor=inbox.users.fr_admin)

    login(page, "fragent")
    assert page.url.endswith("/inbox/")  # lands on the queue, on their own conversations
    assert "Bruno Petit" in page.inner_text("#queue-table")
    page.click(f"nav.tabs a[href='?tab=team-{inbox.fr_team.pk}']")
    page.wait_for_load_state("networkidle")
    queue = page.inner_text("#queue-table")
    assert "Camille Martin" in queue and "mon colis est perdu" in queue  # the row previews the message
    shot(page, "shift-helper-queue")

    page.click("#queue-table a:has-text('Camille Martin')")
    page.wait_for_load_state("networkidle")
    page.fill("input[name=reason][placeholder]", "fragent2 is off today")
    page.click("button:has-text('Take ownership')")
    page.wait_for_selector("button:has-text('Take ownership')", state="detached")
    settled(page)
    page.select_option("#id_canned_response", label="Lost parcel (lost)")
    wait_for(page, "document.querySelector('#reply-text textarea').value.includes('Bonjour Camille Martin')")
    page.click("button:has-text('Send reply')")
    wait_for(page, "document.querySelector('#conversation').innerText.includes('recherche votre colis')")
    settled(page)
    page.click("button.primary:has-text('Resolve')")
    page.wait_for_selector("#next-conversation")
    settled(page)
    assert "Bruno Petit" in page.inner_text("#next-conversation")
    shot(page, "shift-helper-resolved")
    page.click("#next-conversation")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(second.get_absolute_url())

    first.refresh_from_db()
    assert (first.status, first.assignee.username) == ("resolved", "fragent")
    assert first.messages.get(direction="outbound").text == "Bonjour Camille Martin, fragent recherche votre colis."


def test_external_moderator_shift(page, inbox, deliver):
    from dandelion.core.models import AuditEvent
    from dandelion.inbox.models import Conversation

    _conversation(inbox, deliver, "ሰላም ትዕዛዜ የት ነው?", id="m-1", name="Abebe Kebede", language="am")
    spam = _conversation(inbox, deliver, "Get free followers now http://spam.example", id="m-2", name="Follower Shop",
                         language="en")
    _conversation(inbox, deliver, "Bonjour, ma facture est fausse", id="m-3", name="Camille Martin")
    assert spam.team == inbox.vendor_team

    login(page, "moderator")
    assert page.url.endswith("/inbox/")
    tabs = page.inner_text("#queue-tabs")
    assert "ModCo moderation" in tabs and "FR helpers" not in tabs and "Escalated to PR" not in tabs
    page.click("#queue-tabs [data-tab=all]")
    page.wait_for_load_state("networkidle")
    queue = page.inner_text("#queue-table")
    assert "Abebe Kebede" in queue and "Follower Shop" in queue
    assert "Camille Martin" not in queue  # only their own queue
    shot(page, "shift-moderator-queue")

    page.check(f"#queue-table input[name=ids][value='{spam.pk}']")
    page.select_option("#bulk-action", "hide")
    page.fill("#bulk-form input[name=reason]", "spam: sells followers")
    page.click("#bulk-apply")
    page.wait_for_load_state("networkidle")
    assert "1 conversation" in page.inner_text("h1")
    assert "Follower Shop" in page.inner_text("main")
    shot(page, "shift-moderator-confirm-hide")
    assert Conversation.objects.get(pk=spam.pk).status == "open"  # nothing done before the confirmation
    page.click("#bulk-confirm")
    page.wait_for_load_state("networkidle")
    assert Conversation.objects.get(pk=spam.pk).status == "hidden"
    assert "Follower Shop" not in page.inner_text("#queue-table")
    page.click("#queue-tabs [data-tab=hidden]")
    page.wait_for_load_state("networkidle")
    assert "Follower Shop" in page.inner_text("#queue-table")
    assert AuditEvent.objects.filter(action="inbox.hide", actor_repr__contains="moderator").count() == 1
    # a typed address outside the role: a clear refusal, not an empty page
    assert page.goto("/audit/").status == 403


def test_spoke_admin_builds_a_rule_with_preview(page, inbox, deliver):
    from dandelion.routing.models import RoutingRule

    _conversation(inbox, deliver, "Bonjour, c'est inacceptable, toujours pas livré", id="s-1", name="Camille Martin")
    login(page, "fradmin")
    page.click("nav.sidebar a[href='/routing/']")
    page.wait_for_load_state("networkidle")
    page.click("main a[href='/routing/rules/new/']")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_unit", label="France")
    page.fill("#id_name", "French complaints to FR helpers")
    page.check("input[name=mode][value=builder]")
    page.select_option("#id_b_languages", label="French")
    page.select_option("#id_b_team", label=f"{inbox.fr_team.name} (France)")
    page.select_option("#id_b_priority", label="High")
    page.click("#rule-form button:has-text('Preview')")
    wait_for(page, "document.querySelector('#rule-preview').innerText.includes('would have matched')")
    settled(page)
    preview = page.inner_text("#rule-preview")
    assert re.search(r"1\s+of the 1 latest inbound messages", preview), preview
    assert "toujours pas livré" in preview
    shot(page, "shift-spoke-admin-preview")
    page.click("#rule-form button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    rule = RoutingRule.objects.get(name="French complaints to FR helpers")
    assert rule.actions == {"route_to_team": inbox.fr_team.pk, "set_priority": "high"}
    _open(page, "/routing/")
    assert "French complaints to FR helpers" in page.inner_text("main")
    shot(page, "shift-spoke-admin-rules")


def test_pr_manager_shift_escalation_and_ownership(page, inbox, deliver):
    from dandelion.core.models import AuditEvent

    conv = _conversation(inbox, deliver, "Journaliste au Monde : votre produit a brûlé ma cuisine, un commentaire ?",
                         id="p-1", name="Claire Presse")
    # the helper who reads it escalates it to PR, with the reason
    login(page, "fragent")
    _open(page, conv.get_absolute_url())
    page.click("button[data-action=escalate]")  # no reason: the browser asks for one, nothing sent
    conv.refresh_from_db()
    assert not conv.escalated
    page.fill(".escalate-form input[name=reason]", "a journalist asks for a statement")
    page.click("button[data-action=escalate]")
    page.wait_for_selector("button[data-action=escalate]", state="detached")
    settled(page)
    assert "Escalated to PR" in page.inner_text("#conversation")
    shot(page, "shift-helper-escalated")
    conv.refresh_from_db()
    assert conv.escalated
    assert AuditEvent.objects.filter(action="inbox.escalate", object_id=str(conv.pk)).count() == 1

    page.context.clear_cookies()
    login(page, "pr")
    _open(page, "/inbox/?tab=escalated")
    assert "Claire Presse" in page.inner_text("#queue-table")
    page.click("#queue-table a:has-text('Claire Presse')")
    page.wait_for_load_state("networkidle")
    assert "a journalist asks for a statement" in page.inner_text("#conversation .history")
    page.click("button:has-text('Take ownership')")
    page.wait_for_selector("button:has-text('Take ownership')", state="detached")
    settled(page)
    # the ownership list names her, not "— nobody —"
    assert page.locator("select[name=assignee] option:checked").inner_text() == "pr"
    assert "Assignee\npr\n" in page.inner_text("#conversation dl.props") + "\n"
    shot(page, "shift-pr-owner")
    conv.refresh_from_db()
    assert conv.assignee.username == "pr"


def test_hub_admin_shift_in_french(page, inbox, deliver):
    from dandelion.core.models import AuditEvent, UserProfile
    from dandelion.routing.models import SlaPolicy

    UserProfile.objects.update_or_create(user=inbox.users.hub_admin, defaults={"language": "fr"})
    policy = SlaPolicy.objects.get(team=inbox.fr_team)
    login(page, "hubadmin")
    assert page.evaluate("document.documentElement.lang") == "fr"
    _open(page, "/routing/sla/")
    main = page.inner_text("main")
    assert "Politiques de SLA" in main and "première réponse" in main.lower() and "3600" not in main
    assert "any" not in main.split()  # every label in French
    assert "Administrateur du hub" in page.inner_text("nav.sidebar")  # the role, too
    page.click(f"a[href='/routing/sla/{policy.pk}/']")
    page.wait_for_load_state("networkidle")
    page.fill("#id_first_response_seconds", "45m")
    page.click("#sla-form button.primary")
    page.wait_for_load_state("networkidle")
    policy.refresh_from_db()
    assert policy.first_response_seconds == 2700
    assert "45m" in page.inner_text("main")
    shot(page, "shift-hub-admin-sla-fr")

    # the audit log, filtered by the name of the person who acted, read in French
    _open(page, "/audit/")
    main = page.inner_text("main")
    assert "Journal d’audit" in main
    page.fill("input[name=actor]", "hubadm")
    page.press("input[name=actor]", "Enter")
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=unit]", label="France")  # a unit by its name, not its id
    settled(page)
    assert "France" in page.locator("select[name=unit] option:checked").inner_text()
    table = page.inner_text("#audit-table")
    assert "routing.sla_policy.update" in table
    assert "fradmin" not in table
    # the entry, its date written the French way ("6 décembre 2026 22:15")
    event = AuditEvent.objects.get(action="routing.sla_policy.update")
    page.click(f"#audit-table a[href='{event.get_absolute_url()}']")
    page.wait_for_load_state("networkidle")
    from django.utils import timezone

    local = timezone.localtime(event.created_at)  # no zone chosen on the profile: the server's
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    assert f"{local.day} {months[local.month - 1]} {local.year}" in page.inner_text("main")
    shot(page, "shift-hub-admin-audit-fr")


def test_analyst_shift(page, inbox, deliver):
    _conversation(inbox, deliver, "Bonjour, quand rouvre le magasin ?", id="a-1", name="Paul Petit")
    login(page, "analyst")
    page.click("nav.sidebar a:has-text('Inbox')")
    page.wait_for_load_state("networkidle")
    page.click("main a:has-text('Metrics')")
    page.wait_for_load_state("networkidle")
    since, until = page.input_value("#id_since"), page.input_value("#id_until")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", since) and re.fullmatch(r"\d{4}-\d\d-\d\d", until) and since < until
    assert "FR helpers" in page.inner_text("main")
    shot(page, "shift-analyst-metrics")
    # a reversed period is reported, with the period shown instead
    page.fill("#id_since", until)
    page.fill("#id_until", since)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Check the dates" in page.inner_text("#metrics-errors")
    # the analyst reads but does not work the conversations
    page.goto("/inbox/?tab=all")
    assert page.locator("#bulk-form").count() == 0
