import datetime as dt

import pytest

from dandelion.inbox.models import ConversationEvent
from dandelion.routing.models import AppliedSla, SlaPolicy
from dandelion.routing.sla import apply_sla, check_breaches, record_inbound, record_outbound, record_resolved

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 3, 3, 10, 0, tzinfo=dt.UTC)  # Monday 11:00 Paris
H = dt.timedelta(hours=1)


@pytest.fixture
def policy(org):
    return SlaPolicy.objects.create(team=org.fr_team, first_response_seconds=3600, next_response_seconds=1800,
                                    resolution_seconds=86400)


def clocks(conv):
    return {(a.metric, a.status) for a in AppliedSla.objects.filter(conversation=conv)}


def test_first_response_hit(org, policy, make_conversation):
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(conv, at=T0)
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + H
    assert clocks(conv) == {("first_response", "active"), ("resolution", "active")}
    record_outbound(conv, at=T0 + dt.timedelta(minutes=20))
    assert ("first_response", "hit") in clocks(conv)
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + dt.timedelta(hours=24)


def test_first_response_missed_when_late(org, policy, make_conversation):
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(conv, at=T0)
    record_outbound(conv, at=T0 + 2 * H)
    row = AppliedSla.objects.get(conversation=conv, metric="first_response")
    assert row.status == "missed" and row.breached_at == T0 + H and row.completed_at == T0 + 2 * H


def test_next_response_clock(org, policy, make_conversation):
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(conv, at=T0)
    record_outbound(conv, at=T0 + 0.5 * H)
    conv.first_response_at = T0 + 0.5 * H
    conv.save()
    record_inbound(conv, at=T0 + 3 * H)
    nxt = AppliedSla.objects.get(conversation=conv, metric="next_response", status="active")
    assert nxt.due_at == T0 + 3.5 * H
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + 3.5 * H
    record_outbound(conv, at=T0 + 3.2 * H)
    nxt.refresh_from_db()
    assert nxt.status == "hit"
    record_resolved(conv, at=T0 + 5 * H)
    assert ("resolution", "hit") in clocks(conv)
    conv.refresh_from_db()
    assert conv.sla_due_at is None
    assert not AppliedSla.objects.filter(conversation=conv, status="active").exists()


def test_business_hours_policy_due(org, make_conversation):
    SlaPolicy.objects.create(team=org.fr_team, first_response_seconds=3600, business_hours=True)
    friday = dt.datetime(2025, 3, 7, 16, 30, tzinfo=dt.UTC)  # 17:30 Paris
    conv = make_conversation(org.fr_account, team=org.fr_team, at=friday)
    apply_sla(conv, at=friday)
    conv.refresh_from_db()
    assert conv.sla_due_at == dt.datetime(2025, 3, 10, 8, 30, tzinfo=dt.UTC)  # Monday 09:30 Paris


def test_priority_policy_and_reapply_keeps_start(org, policy, make_conversation):
    SlaPolicy.objects.create(team=org.fr_team, priority="urgent", first_response_seconds=600)
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(conv, at=T0)
    conv.priority = "urgent"
    conv.save()
    apply_sla(conv, at=T0 + dt.timedelta(minutes=5))
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + dt.timedelta(minutes=10)
    assert ("first_response", "cancelled") in clocks(conv)


def test_no_policy_no_clock(org, make_conversation):
    conv = make_conversation(org.fr_account, team=org.es_team, at=T0)
    apply_sla(conv, at=T0)
    conv.refresh_from_db()
    assert conv.sla_due_at is None and not AppliedSla.objects.exists()


def test_breach_escalation(org, policy, make_conversation):
    policy.escalation = {"set_priority": "urgent", "notify_team": org.vendor_team.pk,
                         "reassign_to_team": org.vendor_team.pk}
    policy.save()
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    conv.assignee = org.users.fr_agent
    conv.save()
    apply_sla(conv, at=T0)
    assert check_breaches(now=T0 + 0.5 * H) == 0
    assert check_breaches(now=T0 + 2 * H) == 1
    assert check_breaches(now=T0 + 2 * H) == 0  # idempotent
    conv.refresh_from_db()
    assert conv.priority == "urgent" and conv.team == org.vendor_team and conv.assignee is None
    row = AppliedSla.objects.get(conversation=conv, metric="first_response")
    assert row.status == "missed" and row.breached_at == T0 + 2 * H
    event = ConversationEvent.objects.get(conversation=conv, kind="sla_breached")
    assert event.data["metric"] == "first_response" and event.data["notify_team"] == org.vendor_team.pk
    from dandelion.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="routing.sla.breach").count() == 1
    # a late reply afterwards completes the missed row without turning it into a hit
    record_outbound(conv, at=T0 + 3 * H)
    row.refresh_from_db()
    assert row.status == "missed" and row.completed_at == T0 + 3 * H


def test_periodic_job_registered():
    import dandelion.routing.jobs  # noqa: F401
    from dandelion.core.jobs import periodic_jobs

    job = periodic_jobs()["routing.sla_breaches"]
    assert job.every == 60


# --- after a breach ---------------------------------------------------------------------------------------------
def test_breached_clock_keeps_the_conversation_due_until_answered(org, policy, make_conversation, api_for):
    from dandelion.inbox.templatetags.inbox_tags import sla_state

    late = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(late, at=T0)
    fresh = make_conversation(org.fr_account, team=org.fr_team, at=T0 + 1.5 * H)
    apply_sla(fresh, at=T0 + 1.5 * H)
    assert check_breaches(now=T0 + 2 * H) == 1
    late.refresh_from_db()
    # the missed first response is still what the customer waits for: not the resolution target, not "no SLA"
    assert late.sla_due_at == T0 + H
    assert sla_state(late.sla_due_at, now=T0 + 2 * H) == ("sla-breached", "breached 1 h 00 ago")
    # and the breached conversation stays on top of the queue ordered by SLA due
    ids = [row["id"] for row in api_for(org.users.fr_agent).get("/api/v1/conversations/").json()["results"]]
    assert ids == [late.pk, fresh.pk]
    # a late answer completes the missed clock (still missed), and the remaining clocks apply
    record_outbound(late, at=T0 + 3 * H)
    row = AppliedSla.objects.get(conversation=late, metric="first_response")
    assert row.status == "missed" and row.completed_at == T0 + 3 * H
    late.refresh_from_db()
    assert late.sla_due_at == T0 + 24 * H


def test_breach_is_counted_once_across_sweeps(org, policy, make_conversation):
    from dandelion.core.models import AuditEvent
    from dandelion.inbox.metrics import inbox_metrics
    from dandelion.inbox.sweep import sweep

    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0, needs_reply=True)
    apply_sla(conv, at=T0)
    assert check_breaches(now=T0 + 2 * H) == 1
    assert sweep(now=T0 + 2.5 * H) == [conv.pk]
    assert check_breaches(now=T0 + 3 * H) == 0
    assert sweep(now=T0 + 4 * H) == [conv.pk]  # a later period: swept again, still no new clock
    assert check_breaches(now=T0 + 5 * H) == 0
    assert AppliedSla.objects.filter(conversation=conv, metric="first_response").count() == 1
    assert ConversationEvent.objects.filter(conversation=conv, kind="sla_breached").count() == 1
    assert AuditEvent.objects.filter(action="routing.sla.breach").count() == 1
    totals = inbox_metrics()["totals"]
    assert totals["sla_missed"] == 1 and totals["sla_hit"] == 0
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + H


def test_priority_change_and_handover_after_breach_start_no_new_clock(org, policy, make_conversation):
    from django.utils import timezone

    from dandelion.inbox import services

    SlaPolicy.objects.create(team=org.fr_team, priority="urgent", first_response_seconds=600,
                             resolution_seconds=86400)
    SlaPolicy.objects.create(team=org.es_team, first_response_seconds=3600, resolution_seconds=86400)
    start = timezone.now() - 2 * H
    conv = make_conversation(org.fr_account, team=org.fr_team, at=start)
    apply_sla(conv, at=start)
    assert check_breaches() == 1
    services.set_priority(conv, priority="urgent", actor=org.users.fr_agent)
    assert check_breaches() == 0
    services.handover_conversation(conv, reason="Spanish speaker", actor=org.users.fr_admin, to_team=org.es_team)
    assert check_breaches() == 0
    assert AppliedSla.objects.filter(conversation=conv, metric="first_response").count() == 1
    assert AppliedSla.objects.filter(conversation=conv, metric="resolution", status="active").count() == 1
    assert ConversationEvent.objects.filter(conversation=conv, kind="sla_breached").count() == 1
    conv.refresh_from_db()
    assert conv.sla_due_at == start + H


def test_new_message_after_breach_starts_no_second_first_response_clock(org, policy, make_conversation):
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(conv, at=T0)
    assert check_breaches(now=T0 + 2 * H) == 1
    record_inbound(conv, at=T0 + 2.5 * H)
    assert AppliedSla.objects.filter(conversation=conv, metric="first_response").count() == 1
    assert check_breaches(now=T0 + 4 * H) == 0


def test_breached_next_response_is_not_restarted(org, policy, make_conversation):
    conv = make_conversation(org.fr_account, team=org.fr_team, at=T0)
    apply_sla(conv, at=T0)
    record_outbound(conv, at=T0 + 0.5 * H)
    conv.first_response_at = T0 + 0.5 * H
    conv.save()
    record_inbound(conv, at=T0 + H)
    conv.waiting_since, conv.needs_reply = T0 + H, True
    conv.save()
    assert check_breaches(now=T0 + 2 * H) == 1  # next response due at T0 + 1.5 h
    conv.priority = "high"
    conv.save()
    apply_sla(conv, at=T0 + 2.5 * H)
    assert check_breaches(now=T0 + 3 * H) == 0
    assert AppliedSla.objects.filter(conversation=conv, metric="next_response").count() == 1
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + 1.5 * H
    record_outbound(conv, at=T0 + 3 * H)
    assert ("next_response", "missed") in clocks(conv)
    conv.refresh_from_db()
    assert conv.sla_due_at == T0 + 24 * H

def test_late_reply_after_breach_is_one_miss_with_its_first_response_time(org, policy, make_conversation):
    from django.utils import timezone

    from dandelion.inbox import services
    from dandelion.inbox.metrics import inbox_metrics
    from dandelion.inbox.sweep import sweep

    org.fr_account.connector = "fake"
    org.fr_account.save(update_fields=["connector"])
    start = timezone.now() - 3 * H
    conv = make_conversation(org.fr_account, team=org.fr_team, at=start, needs_reply=True)
    apply_sla(conv, at=start)
    assert check_breaches(now=start + 2 * H) == 1
    assert sweep(now=start + 2.5 * H) == [conv.pk]
    assert check_breaches() == 0
    services.reply_to_conversation(conv, text="Désolés pour l'attente, nous regardons.", actor=org.users.fr_agent)
    row = AppliedSla.objects.get(conversation=conv, metric="first_response")
    assert row.status == "missed" and row.completed_at is not None
    conv.refresh_from_db()
    assert conv.first_response_at is not None and conv.sla_due_at == start + 24 * H
    totals = inbox_metrics()["totals"]
    assert totals["sla_missed"] == 1 and totals["sla_hit"] == 0 and totals["sla_hit_rate"] == 0
    assert totals["conversations_answered"] == 1
    assert totals["first_response_median_s"] == pytest.approx(3 * 3600, abs=120)
