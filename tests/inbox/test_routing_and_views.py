"""Routing rules applied by the pipeline, the inbox UI and API, and who sees what (the permission matrix)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.connectors import fake
from dandelion.inbox import services
from dandelion.inbox.choices import EventKind, ModerationState
from dandelion.inbox.models import CannedResponse, Conversation, ConversationEvent, Message
from tests.inbox.conftest import event

pytestmark = pytest.mark.django_db


def test_spam_rule_hides_spam(inbox, deliver):
    from dandelion.routing.services import create_routing_rule

    rule = create_routing_rule(actor=inbox.users.hub_admin, unit=inbox.hub, name="Spam → hide",
                               conditions={"any": [{"field": "spam", "op": "gte", "value": 0.8},
                                                   {"field": "keywords", "op": "any", "value": ["free followers"]}]},
                               actions={"hide": True, "add_tags": ["spam"]})
    deliver(inbox.fr_account,
            event("FREE FOLLOWERS!!! click http://spam.example/win now win win", id="sp1", author="bot-1"),
            event("Bonjour, où est ma commande ?", id="ok1", author="u-ok", language="fr"))
    spam = Message.objects.get(external_id="sp1")
    assert spam.moderation_state == ModerationState.HIDDEN
    conv = spam.conversation
    assert not conv.needs_reply and list(conv.tags.values_list("name", flat=True)) == ["spam"]
    ev = ConversationEvent.objects.get(conversation=conv, kind=EventKind.MODERATED)
    assert ev.data["via_connector"] is True and rule.pk in ev.data["rule"]
    assert Message.objects.get(external_id="ok1").moderation_state == ModerationState.VISIBLE
    from dandelion.inbox.jobs import run_moderation

    run_moderation.call(spam.pk, "hide")
    assert [r.result.target_external_id for r in fake.STORE.moderation] == ["sp1"]


def test_hides_of_one_batch_are_one_job_and_each_message_its_own_outcome(inbox, deliver, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from dandelion.inbox import jobs
    from dandelion.inbox.jobs import run_moderation_many
    from dandelion.routing.services import create_routing_rule

    create_routing_rule(actor=inbox.users.hub_admin, unit=inbox.hub, name="Spam → hide",
                        conditions={"field": "keywords", "op": "any", "value": ["free followers"]},
                        actions={"hide": True})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbox.fr_account, *[event(f"free followers here #{i}", id=f"sp{i}", author=f"bot-{i}")
                                    for i in range(3)], event("Bonjour ?", id="ok", author="u-ok", language="fr"))
    queued = list(DBTaskResult.objects.filter(task_path__endswith="run_moderation_many"))
    ids = sorted(Message.objects.filter(external_id__startswith="sp").values_list("pk", flat=True))
    assert len(queued) == 1 and sorted(queued[0].args_kwargs["args"][0]) == ids
    assert queued[0].args_kwargs["args"][1] == "hide"
    # the job: a temporary failure of the first message re-enqueues it alone, the others are hidden on the network
    fake.FakeConnector.fail_next(1, retry_after=5.0, message="HTTP 503")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_moderation_many.call(ids, "hide")
    assert outcome == {"retry": 1, "done": 2}
    assert sorted(r.result.target_external_id for r in fake.STORE.moderation) == ["sp1", "sp2"]
    retry = DBTaskResult.objects.get(task_path__endswith=".run_moderation")
    assert retry.args_kwargs["args"] == [ids[0], "hide"]
    # a message whose moderation breaks, and whose retry cannot even be enqueued, does not stop the others
    fake.STORE.moderation.clear()

    def broken(*args, **kwargs):
        raise RuntimeError("queue down")

    real = jobs.run_moderation

    class Breaking:  # run_moderation as run_moderation_many sees it
        enqueue = staticmethod(broken)

        @staticmethod
        def call(pk, action):
            return broken() if pk == ids[0] else real.call(pk, action)

    monkeypatch.setattr(jobs, "run_moderation", Breaking)
    assert run_moderation_many.call(ids, "hide") == {"lost": 1, "done": 2}
    assert sorted(r.result.target_external_id for r in fake.STORE.moderation) == ["sp1", "sp2"]


def test_a_spam_wave_is_moderated_by_several_jobs(inbox, deliver, monkeypatch, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from dandelion.inbox import jobs
    from dandelion.routing.services import create_routing_rule

    monkeypatch.setattr(jobs, "MODERATION_JOB_SIZE", 2)
    create_routing_rule(actor=inbox.users.hub_admin, unit=inbox.hub, name="Spam → hide",
                        conditions={"field": "keywords", "op": "any", "value": ["free followers"]},
                        actions={"hide": True})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(inbox.fr_account, *[event(f"free followers here #{i}", id=f"sp{i}", author=f"bot-{i}")
                                    for i in range(5)])
    sizes = sorted(len(job.args_kwargs["args"][0])
                   for job in DBTaskResult.objects.filter(task_path__endswith="run_moderation_many"))
    assert sizes == [1, 2, 2]


def test_auto_acknowledgement_is_not_a_response(inbox, deliver):
    from dandelion.routing.services import create_routing_rule

    canned = services.create_canned_response(unit=inbox.france, title="Ack", shortcut="ack", language="fr",
                                             body="Bonjour {contact_name}, nous revenons vers vous vite.",
                                             actor=inbox.users.fr_admin)
    create_routing_rule(actor=inbox.users.fr_admin, unit=inbox.france, name="Ack",
                        conditions={}, actions={"auto_acknowledge": canned.pk})
    deliver(inbox.fr_account, event("Bonjour ?", id="ack1", author="u-ack", name="Léa", language="fr"))
    conv = Conversation.objects.get()
    auto = conv.messages.get(direction="outbound")
    assert auto.is_automatic and auto.text == "Bonjour Léa, nous revenons vers vous vite."
    assert conv.needs_reply and conv.first_response_at is None


# --- UI -------------------------------------------------------------------------------------------------------------


def test_queue_and_detail_for_an_agent(inbox, two_queues, client_for):
    fr, _am = two_queues
    c = client_for(inbox.users.fr_agent)
    page = c.get(reverse("inbox:queue") + "?tab=all")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Camille Martin" in html and "Abebe Kebede" in html  # France's unit owns both threads' account
    assert "left" in html  # SLA countdown
    partial = c.get(reverse("inbox:queue") + "?tab=all&search=remboursement", HTTP_HX_REQUEST="true")
    assert "Camille Martin" in partial.content.decode() and "Abebe" not in partial.content.decode()
    assert "<html" not in partial.content.decode()
    detail = c.get(fr.get_absolute_url())
    text = detail.content.decode()
    assert detail.status_code == 200 and "remboursement" in text and "Default:" in text
    assert 'name="seen_message_id"' in text


def test_moderator_sees_only_its_queue(inbox, two_queues, client_for, api_for):
    fr, am = two_queues
    c = client_for(inbox.users.moderator)
    html = c.get(reverse("inbox:queue") + "?tab=all").content.decode()
    assert "Abebe Kebede" in html and "Camille Martin" not in html
    assert c.get(fr.get_absolute_url()).status_code == 404
    assert c.post(reverse("inbox:conversation-action", args=[fr.pk, "take"])).status_code == 404
    assert c.get(am.get_absolute_url()).status_code == 200
    api = api_for(inbox.users.moderator)
    ids = [row["id"] for row in api.get("/api/v1/conversations/").json()["results"]]
    assert ids == [am.pk]
    assert api.get(f"/api/v1/conversations/{fr.pk}/").status_code == 404
    assert api.get(f"/api/v1/conversations/{fr.pk}/messages/").status_code == 404
    assert api.post(f"/api/v1/conversations/{fr.pk}/take/", {}).status_code == 404
    r = api.post(f"/api/v1/conversations/{am.pk}/reply/", {"text": "ሰላም"}, format="json")
    assert r.status_code == 201
    # metrics within its scope only
    metrics = api.get("/api/v1/metrics/inbox/?group_by=team").json()
    assert metrics["totals"]["inbound"] == 1


def test_nobody_and_other_spoke_get_404(inbox, two_queues, client_for, api_for):
    fr, _ = two_queues
    assert client_for(inbox.users.es_agent).get(fr.get_absolute_url()).status_code == 404
    assert api_for(inbox.users.es_agent).get(f"/api/v1/conversations/{fr.pk}/").status_code == 404
    assert client_for(inbox.users.nobody).get(fr.get_absolute_url()).status_code == 404
    assert api_for(inbox.users.nobody).get("/api/v1/conversations/").json()["count"] == 0


def test_analyst_can_read_but_not_act(inbox, two_queues, api_for):
    fr, _ = two_queues
    api = api_for(inbox.users.analyst)
    assert api.get(f"/api/v1/conversations/{fr.pk}/").status_code == 200
    r = api.post(f"/api/v1/conversations/{fr.pk}/reply/", {"text": "hi"}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


def test_ui_reply_with_collision_then_confirm(inbox, two_queues, client_for):
    fr, _ = two_queues
    seen = fr.messages.order_by("-id").first().pk
    services.reply_to_conversation(fr, text="Je regarde", actor=inbox.users.fr_agent2)
    c = client_for(inbox.users.fr_agent)
    url = reverse("inbox:conversation-action", args=[fr.pk, "reply"])
    r = c.post(url, {"text": "Bonjour !", "seen_message_id": seen}, HTTP_HX_REQUEST="true")
    assert r.status_code == 409
    body = r.content.decode()
    assert "fragent2" in body and "send anyway?" in body and "Send anyway" in body
    r = c.post(url, {"text": "Bonjour !", "seen_message_id": seen, "confirm_collision": "on"},
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert fr.messages.filter(direction="outbound").count() == 2


def test_ui_actions(inbox, two_queues, client_for):
    fr, _ = two_queues
    services.assign_conversation(fr, assignee=inbox.users.fr_agent2, actor=inbox.users.fr_cm)
    c = client_for(inbox.users.fr_agent)
    act = lambda name, **data: c.post(reverse("inbox:conversation-action", args=[fr.pk, name]), data,
                                      HTTP_HX_REQUEST="true")
    assert act("take", reason="I know this customer").status_code == 200
    assert act("note", text="Customer called too").status_code == 200
    assert act("priority", priority="urgent").status_code == 200
    assert act("tag", add="delivery, lost").status_code == 200
    r = act("handover", to_user=inbox.users.fr_agent2.pk, reason="")
    assert r.status_code == 400
    assert act("handover", to_user=inbox.users.fr_agent2.pk, reason="Off shift").status_code == 200
    msg = fr.messages.get(external_id="fr1")
    assert act("moderate", message=msg.pk, action="hide").status_code == 200
    assert act("resolve").status_code == 200
    fr.refresh_from_db()
    assert fr.status == "resolved" and fr.priority == "urgent" and fr.assignee == inbox.users.fr_agent2
    kinds = list(fr.events.values_list("kind", flat=True))
    assert {"taken", "handover", "priority", "tagged", "moderated", "status"} <= set(kinds)
    assert act("reopen").status_code == 200
    assert c.post(reverse("inbox:conversation-action", args=[fr.pk, "take"])).status_code == 302


def test_canned_picker_fills_the_reply_box(inbox, two_queues, client_for):
    fr, _ = two_queues
    canned = services.create_canned_response(unit=inbox.france, title="Sorry", shortcut="sorry", language="fr",
                                             body="Désolé {contact_name} !", actor=inbox.users.fr_admin)
    r = client_for(inbox.users.fr_agent).get(reverse("inbox:canned-preview", args=[fr.pk]),
                                             {"canned_response": canned.pk}, HTTP_HX_REQUEST="true")
    assert "Désolé Camille Martin !" in r.content.decode()


def test_canned_responses_offered_where_the_conversation_lives(inbox, two_queues, client_for, api_for):
    """Hub answers reach every spoke; a spoke's answers stay in it; the vendor uses its own and the hub's on its
    queue (a team-scoped grant), and nobody can send an answer from a unit outside the conversation's chain."""
    fr, am = two_queues
    hub_admin = inbox.users.hub_admin
    hub = services.create_canned_response(unit=inbox.hub, title="Hub thanks", shortcut="thanks", language="en",
                                          body="Thanks {contact_name}", translations={"fr": "Merci {contact_name}"},
                                          actor=hub_admin)
    fr_own = services.create_canned_response(unit=inbox.france, title="Colis", shortcut="colis", language="fr",
                                             body="Votre colis, {contact_name}", actor=hub_admin)
    es_own = services.create_canned_response(unit=inbox.spain, title="Paquete", shortcut="paquete", language="es",
                                             body="Tu paquete", actor=hub_admin)
    vendor_own = services.create_canned_response(unit=inbox.vendor, title="Vendor ack", shortcut="ack",
                                                 language="en", body="Seen, {contact_name}", actor=hub_admin)

    def offered(user, conversation):
        page = client_for(user).get(conversation.get_absolute_url()).content.decode()
        return {c.title for c in (hub, fr_own, es_own, vendor_own) if f">{c.title} (" in page}

    assert offered(inbox.users.fr_agent, fr) == {"Hub thanks", "Colis"}
    # the Amharic thread sits on the French account but with the vendor's team: the moderator gets the chain's
    # answers and the vendor's own, never Spain's
    assert offered(inbox.users.moderator, am) == {"Hub thanks", "Colis", "Vendor ack"}
    assert offered(inbox.users.fr_admin, am) == {"Hub thanks", "Colis", "Vendor ack"}

    preview = client_for(inbox.users.fr_agent).get(reverse("inbox:canned-preview", args=[fr.pk]),
                                                   {"canned_response": hub.pk}, HTTP_HX_REQUEST="true")
    assert "Merci Camille Martin" in preview.content.decode()  # the translation in the conversation's language
    blocked = client_for(inbox.users.fr_agent).get(reverse("inbox:canned-preview", args=[fr.pk]),
                                                   {"canned_response": es_own.pk}, HTTP_HX_REQUEST="true")
    assert "Tu paquete" not in blocked.content.decode()

    api = api_for(inbox.users.moderator)
    r = api.post(f"/api/v1/conversations/{am.pk}/reply/", {"canned_response": vendor_own.pk}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["text"] == "Seen, Abebe Kebede"
    r = api_for(inbox.users.fr_agent).post(f"/api/v1/conversations/{fr.pk}/reply/",
                                           {"canned_response": es_own.pk}, format="json")
    assert r.status_code == 400 and r.json() == {"canned_response": "Unknown canned response."}
    assert not fr.messages.filter(direction="outbound").exists()  # the refused reply wrote nothing


def test_canned_crud_ui(inbox, client_for):
    admin = client_for(inbox.users.fr_admin)
    assert admin.get(reverse("inbox:canned-list")).status_code == 200
    r = admin.post(reverse("inbox:canned-create"), {
        "unit": inbox.france.pk, "title": "Thanks", "shortcut": "thanks", "language": "fr",
        "body": "Merci {contact_name}", "translations_text": "en: Thanks {contact_name}\nes: Gracias"})
    assert r.status_code == 302, r.content.decode()[:2000]
    canned = CannedResponse.objects.get()
    assert canned.translations == {"en": "Thanks {contact_name}", "es": "Gracias"}
    r = admin.post(reverse("inbox:canned-edit", args=[canned.pk]), {
        "unit": inbox.france.pk, "title": "Thank you", "shortcut": "thanks", "language": "fr",
        "body": "Merci", "translations_text": ""})
    assert r.status_code == 302
    canned.refresh_from_db()
    assert canned.title == "Thank you" and canned.translations == {}
    assert client_for(inbox.users.analyst).get(reverse("inbox:canned-create")).status_code == 403
    assert client_for(inbox.users.es_admin).get(reverse("inbox:canned-edit", args=[canned.pk])).status_code == 404
    admin.post(reverse("inbox:canned-edit", args=[canned.pk]), {"delete": "1"})
    assert not CannedResponse.objects.exists()


# --- API ------------------------------------------------------------------------------------------------------------


def test_api_list_filters_search_and_messages(inbox, two_queues, api_for):
    fr, am = two_queues
    api = api_for(inbox.users.fr_cm)
    rows = api.get("/api/v1/conversations/").json()["results"]
    assert {r["id"] for r in rows} == {fr.pk, am.pk}
    assert [r["id"] for r in api.get(f"/api/v1/conversations/?team={inbox.vendor_team.pk}").json()["results"]] == [am.pk]
    assert [r["id"] for r in api.get("/api/v1/conversations/?language=fr").json()["results"]] == [fr.pk]
    assert [r["id"] for r in api.get("/api/v1/conversations/?search=Abebe").json()["results"]] == [am.pk]
    assert [r["id"] for r in api.get("/api/v1/conversations/?search=rembourse").json()["results"]] == [fr.pk]
    msgs = api.get(f"/api/v1/conversations/{fr.pk}/messages/").json()["results"]
    assert msgs[0]["language"] == "fr" and {"sentiment", "intent", "spam", "abuse", "needs_reply"} <= set(msgs[0])


def test_api_actions(inbox, two_queues, api_for):
    fr, _ = two_queues
    api = api_for(inbox.users.fr_agent)
    seen = fr.messages.order_by("-id").first().pk
    r = api.post(f"/api/v1/conversations/{fr.pk}/reply/", {"text": "Bonjour !", "last_seen_message": seen},
                 format="json")
    assert r.status_code == 201 and r.json()["delivery_status"] == "pending"
    r = api_for(inbox.users.fr_agent2).post(f"/api/v1/conversations/{fr.pk}/reply/",
                                            {"text": "Aussi", "last_seen_message": seen}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "collision"
    r = api.post(f"/api/v1/conversations/{fr.pk}/assign/", {"assignee": inbox.users.fr_agent2.pk}, format="json")
    assert r.status_code == 200 and r.json()["assignee"] == inbox.users.fr_agent2.pk
    r = api.post(f"/api/v1/conversations/{fr.pk}/take/", {"reason": "back"}, format="json")
    assert r.json()["assignee"] == inbox.users.fr_agent.pk
    msg = fr.messages.get(external_id="fr1")
    r = api.post(f"/api/v1/conversations/{fr.pk}/hide/", {"message": msg.pk}, format="json")
    assert r.status_code == 200 and r.json()["moderation_state"] == "hidden"
    r = api.post(f"/api/v1/conversations/{fr.pk}/resolve/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert api.post(f"/api/v1/conversations/{fr.pk}/resolve/", {}, format="json").status_code == 400


def test_api_canned_responses(inbox, api_for):
    api = api_for(inbox.users.fr_admin)
    r = api.post("/api/v1/canned-responses/", {"unit": inbox.france.pk, "title": "Hi", "shortcut": "hi",
                                               "body": "Bonjour {contact_name}", "language": "fr",
                                               "translations": {"en": "Hello {contact_name}"}}, format="json")
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert api.patch(f"/api/v1/canned-responses/{pk}/", {"title": "Hello"}, format="json").json()["title"] == "Hello"
    r = api_for(inbox.users.es_admin).post("/api/v1/canned-responses/", {
        "unit": inbox.france.pk, "title": "x", "shortcut": "x", "body": "x"}, format="json")
    assert r.status_code == 400 and "unit" in r.json()  # France is outside their scope: as if it did not exist
    assert api.delete(f"/api/v1/canned-responses/{pk}/").status_code == 204


def test_escalated_to_pr_reaches_the_pr_queue_while_helpers_keep_it(inbox, deliver, client_for, api_for):
    """"Escalate to PR" keeps the thread with the French helpers (the customer still gets their answer) and puts it
    in front of PR: in the PR team's queue, in an "Escalated to PR" tab, and through ``?escalated=true``."""
    from dandelion.orgs.choices import Role, TeamKind
    from dandelion.routing.services import create_routing_rule
    from tests.factories import MembershipFactory, TeamFactory, UserFactory

    pr_team = TeamFactory(unit=inbox.hub, name="Group PR", kind=TeamKind.PR, languages=["en", "fr"])
    pr_person = UserFactory(username="prteam")
    MembershipFactory(user=pr_person, unit=inbox.hub, role=Role.PR_MANAGER, team=pr_team)
    create_routing_rule(actor=inbox.users.hub_admin, unit=inbox.hub, name="Press → PR",
                        conditions={"all": [{"field": "keywords", "op": "any", "value": ["journaliste", "avocat"]}]},
                        actions={"escalate_to_pr": True, "set_priority": "urgent"})
    deliver(inbox.fr_account,
            event("Je suis journaliste au Monde, votre service client ne répond pas.", id="press1", author="u-j",
                  name="Jeanne Presse", language="fr"),
            event("Bonjour, où est ma commande ?", id="calm1", author="u-c", name="Paul Calme", language="fr"))
    press = Conversation.objects.get(messages__external_id="press1")
    calm = Conversation.objects.get(messages__external_id="calm1")
    assert press.escalated and press.team == inbox.fr_team and press.priority == "urgent"
    assert not calm.escalated
    assert press.events.filter(kind="escalated").exists()

    pr = client_for(pr_person)
    queue = pr.get(reverse("inbox:queue"), {"tab": f"team-{pr_team.pk}"}).content.decode()
    assert "Jeanne Presse" in queue and "Paul Calme" not in queue
    tab = pr.get(reverse("inbox:queue"), {"tab": "escalated"}).content.decode()
    assert "Jeanne Presse" in tab and "Paul Calme" not in tab
    helpers = client_for(inbox.users.fr_agent).get(reverse("inbox:queue"), {"tab": f"team-{inbox.fr_team.pk}"})
    assert "Jeanne Presse" in helpers.content.decode()  # still the helpers' to answer

    r = api_for(pr_person).get("/api/v1/conversations/", {"escalated": "true"})
    assert [c["id"] for c in r.json()["results"]] == [press.pk]
    # the Spanish spoke sees nothing of France's escalations
    assert api_for(inbox.users.es_admin).get("/api/v1/conversations/", {"escalated": "true"}).json()["count"] == 0


def test_sla_breach_notifies_the_team_the_policy_names(inbox, deliver, client_for):
    """A policy's escalation ``notify_team`` puts each breached conversation in that team's queue too (the
    conversation stays with its own team)."""
    import datetime as dt

    from django.utils import timezone

    from dandelion.orgs.choices import Role, TeamKind
    from dandelion.routing.models import SlaPolicy
    from dandelion.routing.sla import check_breaches
    from tests.factories import MembershipFactory, TeamFactory, UserFactory

    leads = TeamFactory(unit=inbox.europe, name="Europe leads", kind=TeamKind.COMMUNITY, languages=[])
    lead = UserFactory(username="eulead")
    MembershipFactory(user=lead, unit=inbox.europe, role=Role.COMMUNITY_MANAGER, team=leads)
    SlaPolicy.objects.filter(team=inbox.fr_team).update(escalation={"notify_team": leads.pk})
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est jamais arrivée ?", id="late1", author="u-l",
                                    name="Lina Retard", language="fr"),
            event("Bonjour, une question sur ma facture ?", id="fine1", author="u-f", name="Félix Alheure",
                  language="fr"))
    late = Conversation.objects.get(messages__external_id="late1")
    queue_url = reverse("inbox:queue")
    assert "Lina Retard" not in client_for(lead).get(queue_url, {"tab": f"team-{leads.pk}"}).content.decode()

    from dandelion.routing.models import AppliedSla

    AppliedSla.objects.filter(conversation=late, metric="first_response").update(
        due_at=timezone.now() - dt.timedelta(minutes=5))
    assert check_breaches(now=timezone.now()) == 1
    page = client_for(lead).get(queue_url, {"tab": f"team-{leads.pk}"}).content.decode()
    assert "Lina Retard" in page and "Félix Alheure" not in page
    late.refresh_from_db()
    assert late.team == inbox.fr_team  # notified, not moved


def test_queue_page_counts_messages_per_row_in_constant_queries(inbox, deliver, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deliver(inbox.fr_account, event("Bonjour, ma commande ?", id="q1", author="u-q", name="Quentin Deux",
                                    language="fr"),
            event("Toujours rien ?", id="q2", author="u-q", name="Quentin Deux", kind="reply", in_reply_to="q1",
                  language="fr"))
    c = client_for(inbox.users.fr_admin)
    url = reverse("inbox:queue") + "?tab=all"
    page = c.get(url).content.decode()
    assert "2 msg" in page
    with CaptureQueriesContext(connection) as few:
        c.get(url)
    deliver(inbox.fr_account, *[event(f"Bonjour {i} ?", id=f"qm{i}", author=f"u-qm{i}", language="fr")
                                for i in range(8)])
    with CaptureQueriesContext(connection) as many:
        assert c.get(url).status_code == 200
    assert len(many) == len(few)  # one grouped count for the page, not a query per row
