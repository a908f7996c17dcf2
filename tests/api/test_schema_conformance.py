"""Every read operation of the API, on real rows, answers what /api/schema/ documents.

The fuzzing in ``test_schemathesis.py`` runs on an empty inbox and mostly meets ids that do not exist; here each
``GET`` with a path parameter is called with ids of rows that exist (a conversation with its messages, a note and an
outbound reply, a failed delivery, an archived account, a rule, a policy, a canned response, a published guideline, audit events), as a
hub admin and as the vendor's moderator, and each response is held to the schema: a field documented non-null that
comes back null, an enum value the schema does not list or an undocumented status fails."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.api.conftest import keeping_test_connection
from tests.api.test_schemathesis import CHECKS, schema
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(inbox, two_queues, post_hook):
    """``{path prefix: [ids]}``: rows of every resource, in both queues where the resource is queued."""
    from dandelion.assets import services as account_services
    from dandelion.core.models import AuditEvent
    from dandelion.inbox import services as inbox_services
    from dandelion.inbox.models import InboundDelivery
    from dandelion.orgs import services as org_services
    from dandelion.orgs.models import Membership
    from dandelion.routing import services as routing_services
    from dandelion.routing.models import SlaPolicy

    fr, am = two_queues
    admin = inbox.users.hub_admin
    inbox_services.add_note(fr, text="Looked into it", actor=admin)
    inbox_services.reply_to_conversation(fr, text="Nous regardons.", actor=admin)
    post_hook(inbox.fr_account, {"events": "not a list"})  # a delivery that fails processing
    from dandelion.inbox.jobs import process_pending_deliveries

    process_pending_deliveries.call()
    rule = routing_services.create_routing_rule(actor=admin, unit=inbox.france, name="Spam",
                                                conditions={"all": [{"field": "spam", "op": "gte", "value": 0.9}]},
                                                actions={"hide": True})
    canned = inbox_services.create_canned_response(unit=inbox.france, title="Thanks", shortcut="thanks",
                                                   body="Merci !", actor=admin, language="fr")
    archived = SocialAccountFactory(owner_unit=inbox.spain, network="x", handle="@old_es", external_id="x-old")
    account_services.archive_account(archived, actor=admin, reason="Closed")  # read back as "archived"
    guideline = org_services.create_guideline(actor=admin, title="Tone", body="Be *kind*.")
    org_services.publish_guideline(actor=admin, guideline=guideline)
    from dandelion.webhooks import services as webhook_services
    from dandelion.webhooks.models import WebhookDelivery

    hook, _secret = webhook_services.create_subscription(actor=admin, unit=inbox.france, name="CRM",
                                                         url="https://crm.example.com/hooks/dandelion",
                                                         event_types=["conversation.created"])
    delivery = WebhookDelivery.objects.create(subscription=hook, event_id="e-1", event_type="conversation.created",
                                              payload={"type": "conversation.created"}, status="failed",
                                              attempts=3, response_code=500, error="HTTP 500")
    from dandelion.community import services as community_services

    article = community_services.create_article(actor=admin, unit=inbox.france, title="Escalation",
                                                body="Escalate within 15 minutes.", tags=["crisis"])
    question = community_services.ask_question(actor=admin, title="Trolls?", body="On live videos.")
    community_services.answer_question(question, actor=admin, body="Hide them.")
    start = timezone.now() + dt.timedelta(days=5)
    gathering = community_services.create_gathering(
        actor=admin, unit=inbox.france, title="Meetup", starts_at=start, ends_at=start + dt.timedelta(hours=2),
        capacity=10, place="Lyon", speakers=[{"name": "Ada", "is_guest": True}],
        agenda=[{"starts_at": start, "title": "Welcome", "speaker": "Ada"}])
    from dandelion.community import guest_access

    guest_grant = guest_access.invite_guest(gathering, actor=admin, email="ada@peer.example", name="Ada Peer")
    profile = community_services.update_profile(actor=admin, user=admin, unit=inbox.hub, skills=["crisis"],
                                                languages=["en"], visibility="group")
    from dandelion.community import enablement as community_enablement

    learning_path = community_enablement.create_learning_path(
        actor=admin, unit=inbox.hub, title="Basics", articles=[article], certification_name="Certified basics",
        quiz=[{"text": "Escalate within?", "choices": ["15 minutes", "a day"], "correct": [0]}])
    community_enablement.take_quiz(learning_path, actor=admin, answers={learning_path.quiz.get().pk: [0]})
    from dandelion.publishing import services as publishing_services

    pub_rule = publishing_services.create_rule(actor=admin, unit=inbox.hub, name="No rivals", kind="banned_terms",
                                               params={"terms": ["Globex"]})
    pub_workflow = publishing_services.create_workflow(actor=admin, unit=inbox.hub, name="Hub",
                                                       steps=[{"role": "hub_admin"}])
    draft = publishing_services.create_post(actor=inbox.users.fr_cm, unit=inbox.france, text="Bonjour Globex",
                                            accounts=[inbox.fr_account])
    publishing_services.run_post_checks(draft)
    review = publishing_services.create_post(actor=inbox.users.fr_cm, unit=inbox.france, text="Bonjour",
                                             accounts=[inbox.fr_account])
    publishing_services.submit_post(review, actor=inbox.users.fr_cm)
    publishing_services.approve_post(review, actor=admin, comment="ok")
    pub_pause = publishing_services.pause_subtree(actor=admin, unit=inbox.spain, reason="Storm")
    from dandelion.publishing import campaigns as publishing_campaigns

    soon = timezone.now().replace(tzinfo=None) + dt.timedelta(days=1)
    pub_campaign = publishing_campaigns.create_campaign(
        actor=admin, unit=inbox.hub, name="Summer", master_text="Summer!", starts_local=soon,
        ends_local=soon + dt.timedelta(days=7), spokes=[inbox.france, inbox.spain])
    publishing_campaigns.localise_campaign(pub_campaign.spokes.get(unit=inbox.france), actor=inbox.users.fr_cm,
                                           accounts=[inbox.fr_account])
    from dandelion.analytics import services as analytics_services
    from dandelion.analytics.models import DailyRollup
    from dandelion.core.actors import SYSTEM

    today = dt.date.today()
    analytics_services.rebuild_days(today - dt.timedelta(days=2), today, actor=SYSTEM)
    story = analytics_services.create_story(actor=admin, unit=inbox.france, title="Faster", body="*Evenings*",
                                            before_start=today - dt.timedelta(days=14),
                                            before_end=today - dt.timedelta(days=8),
                                            after_start=today - dt.timedelta(days=7), after_end=today)
    from dandelion.listening import services as listening_services
    from dandelion.listening.models import Alert

    query = listening_services.create_query(actor=admin, unit=inbox.france, name="Brand", text="acme OR #acme")
    listening_services.ingest_mentions([listening_services.MentionInput(
        unit_id=inbox.france.pk, unit_path=inbox.france.path, source="replay", source_ref="r1",
        text="acme is down #acme", posted_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC), sentiment="negative")])
    alert = Alert.objects.create(query=query, started_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC),
                                 last_seen_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC), severity=4)
    from dandelion.crisis import services as crisis_services

    playbook = crisis_services.create_playbook(actor=admin, unit=inbox.hub, name="Any crisis", steps=[
        {"title": "Draft the holding statement", "owner_role": "owner", "due_minutes": 15}])
    incident, _opened = crisis_services.open_incident_for_alert(alert, actor=SYSTEM)
    crisis_services.assign_owner(incident, actor=admin, owner=admin)
    crisis_services.tick_item(incident.checklist.get(), actor=admin)
    crisis_services.close_incident(incident, actor=admin, summary="Over.")
    # an open room: a translated statement pushed to the helpers, publishing paused, a conversation routed to PR
    from dandelion.crisis.routing import route_conversations

    room_query = listening_services.create_query(actor=admin, unit=inbox.france, name="Parcels", text="colis")
    room = crisis_services.open_incident(actor=admin, unit=inbox.france, title="Lost parcels", query=room_query)
    crisis_services.save_holding_statement(room, actor=admin, text="Nous enquêtons.")
    crisis_services.save_statement_translation(room, actor=admin, language="en", text="We are looking into it.")
    crisis_services.push_statement_to_helpers(room, actor=admin)
    crisis_services.pause_publishing(room, actor=admin)
    assert route_conversations([fr.pk]) == [(room.pk, fr.pk)]
    from dandelion.sso import services as sso_services

    provider = sso_services.create_provider(actor=admin, name="Group IdP", slug="group",
                                            issuer="https://idp.example", client_id="c", client_secret="s",
                                            bound_unit=inbox.france)
    claim_rule = sso_services.create_rule(actor=admin, provider=provider, value="fr", unit=inbox.france,
                                          role="helper_agent")
    sso_services.set_local_passwords(actor=admin, unit=inbox.vendor, allowed=False)
    from dandelion.publishing import advocacy
    from dandelion.sso.models import LocalPasswordPolicy

    advocacy_item = advocacy.create_item(actor=admin, unit=inbox.france, title="Our report",
                                         url="https://example.org/report", suggested_texts={"fr": "Lisez notre rapport"})
    personal = advocacy.register_personal_account(actor=admin, unit=inbox.france, network="bluesky",
                                                  handle="me.test", external_id="did:plc:me")
    from dandelion.sites import services as site_services

    website = site_services.create_site(actor=admin, unit=inbox.france, template="corporate",
                                        hostname="fr.localhost")
    return {
        "sites": [website.pk],
        "advocacy-items": [advocacy_item.pk],
        "personal-accounts": [personal.pk],
        "publishing-settings": [inbox.france.pk],
        "sso-providers": [provider.pk],
        "sso-rules": [claim_rule.pk],
        "sso-local-passwords": list(LocalPasswordPolicy.objects.values_list("pk", flat=True)),
        "crisis-incidents": [incident.pk, room.pk],
        "crisis-playbooks": [playbook.pk],
        "analytics-rollups": list(DailyRollup.objects.values_list("pk", flat=True)[:3]),
        "success-stories": [story.pk],
        "community-articles": [article.pk],
        "community-questions": [question.pk],
        "community-gatherings": [gathering.pk],
        "community-guest-invitations": [guest_grant.pk],
        "community-members": [profile.pk],
        "community-paths": [learning_path.pk],
        "community-certifications": [learning_path.certification.pk],
        "accounts": [inbox.fr_account.pk, inbox.es_account.pk, archived.pk],
        "listening-queries": [query.pk],
        "listening-alerts": [alert.pk],
        "audit-events": list(AuditEvent.objects.order_by("-id").values_list("pk", flat=True)[:3]),
        "canned-responses": [canned.pk],
        "conversations": [fr.pk, am.pk],
        "guidelines": [guideline.pk],
        "inbound-deliveries": list(InboundDelivery.objects.values_list("pk", flat=True)),
        "memberships": list(Membership.objects.filter(user__in=[admin, inbox.users.moderator])
                            .values_list("pk", flat=True)),
        "org-units": [inbox.france.pk, inbox.vendor.pk],
        "routing-rules": [rule.pk],
        "sla-policies": list(SlaPolicy.objects.values_list("pk", flat=True)[:2]),
        "teams": [inbox.fr_team.pk, inbox.vendor_team.pk],
        "webhooks": [hook.pk],
        "webhook-deliveries": [delivery.pk],
        "posts": [draft.pk, review.pk],
        "guideline-rules": [pub_rule.pk],
        "workflows": [pub_workflow.pk],
        "crisis-pauses": [pub_pause.pk],
        "campaigns": [pub_campaign.pk],
        "campaign-spokes": list(pub_campaign.spokes.values_list("pk", flat=True)),
    }


def _read_operations():
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "GET":
            yield operation


def _path_values(path: str, rows: dict) -> list[dict]:
    """The path parameters to call ``path`` with: each seeded row of its resource."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return [{}]
    resource = path.removeprefix("/api/v1/").split("/")[0]
    assert names == ["id"], f"{path}: map its path parameters to seeded rows in this test"
    assert resource in rows, f"{path}: seed a row of {resource!r} in the rows fixture"
    return [{"id": pk} for pk in rows[resource]]


@pytest.mark.parametrize("role", ["hub_admin", "moderator"])
def test_read_operations_on_real_rows_match_the_schema(role, rows, inbox):
    from rest_framework.authtoken.models import Token

    token = Token.objects.get_or_create(user=getattr(inbox.users, role))[0].key
    seen = set()
    with keeping_test_connection():  # again: the rows fixture's webhook posts went through the test client
        for operation in _read_operations():
            for path_parameters in _path_values(operation.path, rows):
                case = operation.Case(path_parameters=path_parameters)
                response = case.call(headers={"Authorization": f"Token {token}"})
                case.validate_response(response, checks=CHECKS)
                seen.add((operation.path, response.status_code))
    # the rows were there to be read: the hub admin reads every one, the moderator at least its own queue
    assert ("/api/v1/conversations/{id}/messages/", 200) in seen
    if role == "hub_admin":
        assert all(status == 200 for _, status in seen), sorted(s for s in seen if s[1] != 200)


@pytest.mark.parametrize("role", ["hub_admin", "moderator"])
def test_bulk_action_on_real_rows_matches_the_schema(role, inbox, two_queues):
    """``POST /conversations/bulk/`` (no path parameter, so not among the reads above), on the seeded queues: its
    per-id results, done and refused, and its 400, as documented."""
    from rest_framework.authtoken.models import Token

    fr, am = two_queues
    token = Token.objects.get_or_create(user=getattr(inbox.users, role))[0].key
    operation = schema["/api/v1/conversations/bulk/"]["POST"]
    headers = {"Authorization": f"Token {token}"}
    with keeping_test_connection():
        case = operation.Case(body={"action": "tag", "ids": [fr.pk, am.pk, 2**40], "tags": ["checked"]},
                              media_type="application/json")
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
        results = {r["id"]: r["status"] for r in response.json()["results"]}
        # the hub admin tags both; the vendor's moderator its own (Amharic) queue only; an unknown id is refused
        assert results == {fr.pk: "done" if role == "hub_admin" else "refused", am.pk: "done", 2**40: "refused"}
        bad = operation.Case(body={"action": "tag", "ids": [fr.pk], "tags": []}, media_type="application/json")
        response = bad.call(headers=headers)
        assert response.status_code == 400
        bad.validate_response(response, checks=CHECKS)
