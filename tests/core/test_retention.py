"""Retention of operational rows: what goes, what never goes, bounded runs, the hourly job and the command."""

import datetime as dt
import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dandelion.core import jobs, retention
from dandelion.core.models import AuditEvent, PeriodicJobRun
from dandelion.inbox.models import InboundDelivery

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def deliveries(account, state: str, age_days: float, n: int = 1) -> list[int]:
    made = InboundDelivery.objects.bulk_create([InboundDelivery(account=account, body="{}", state=state)
                                                for _ in range(n)])
    pks = [d.pk for d in made] if made[0].pk else list(
        InboundDelivery.objects.order_by("-pk").values_list("pk", flat=True)[:n])
    finished = state in ("done", "failed")
    InboundDelivery.objects.filter(pk__in=pks).update(received_at=days_ago(age_days),
                                                      processed_at=days_ago(age_days) if finished else None)
    return pks


def job_result(status: str, finished_days_ago: float | None) -> DBTaskResult:
    return DBTaskResult.objects.create(
        id=uuid.uuid4(), status=status, args_kwargs={"args": [], "kwargs": {}}, task_path="x.y", backend_name="default",
        run_after=days_ago(40), finished_at=None if finished_days_ago is None else days_ago(finished_days_ago),
        exception_class_path="", traceback="")


def outcome_of(outcomes, name):
    return next(o for o in outcomes if o.policy.name == name)


def test_only_rows_past_their_time_and_never_work_still_to_do_are_deleted(org):
    acc = org.fr_account
    old_done, recent_done = deliveries(acc, "done", 15, 3), deliveries(acc, "done", 13)
    old_pending, old_processing = deliveries(acc, "pending", 400), deliveries(acc, "processing", 400)
    failed_keep, failed_old = deliveries(acc, "failed", 30), deliveries(acc, "failed", 91)
    PeriodicJobRun.objects.create(name="inbox.sweep", period_start=days_ago(8))
    current = PeriodicJobRun.objects.create(name="inbox.sweep", period_start=NOW)
    ok_old, ok_new = job_result("SUCCESSFUL", 15), job_result("SUCCESSFUL", 1)
    failed_job_kept, failed_job_old = job_result("FAILED", 15), job_result("FAILED", 31)
    queued, running = job_result("READY", None), job_result("RUNNING", None)

    outcomes = retention.purge(now=NOW)

    # other apps' policies (webhook deliveries, notifications...) have nothing to delete here
    assert {o.policy.name: o.deleted for o in outcomes if o.deleted} == {
        "core.periodic_runs": 1, "inbox.deliveries": 3, "inbox.failed_deliveries": 1, "tasks.failed": 1,
        "tasks.successful": 1}
    assert not any(o.more for o in outcomes)
    left = set(InboundDelivery.objects.values_list("pk", flat=True))
    assert left == set(recent_done + old_pending + old_processing + failed_keep)
    assert not left & set(old_done + failed_old)
    assert list(PeriodicJobRun.objects.values_list("pk", flat=True)) == [current.pk]
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {ok_new.pk, failed_job_kept.pk, queued.pk,
                                                                      running.pk}
    assert not DBTaskResult.objects.filter(pk__in=[ok_old.pk, failed_job_old.pk]).exists()
    # one audit row, by the system, with the counts
    row = AuditEvent.objects.get(action="core.retention.purge")
    assert row.actor is None and row.actor_repr == "system"
    assert row.changes["inbox.deliveries"] == {"deleted": 3, "days": 14, "more": False}
    assert "processed webhook deliveries older than 14 days: 3" in row.summary
    # idempotent: a second run deletes nothing and writes no audit row
    assert all(o.deleted == 0 for o in retention.purge(now=NOW))
    assert AuditEvent.objects.filter(action="core.retention.purge").count() == 1


def test_a_backlog_is_worked_off_over_bounded_runs_in_chunks(org, caplog):
    deliveries(org.fr_account, "done", 30, 25)
    first = outcome_of(retention.purge(now=NOW, max_rows=10, chunk=4, only=["inbox.deliveries"]), "inbox.deliveries")
    assert (first.deleted, first.more) == (10, True)
    assert "raise DANDELION_RETENTION_MAX_ROWS" in caplog.text  # falling behind is visible
    assert InboundDelivery.objects.count() == 15
    second = outcome_of(retention.purge(now=NOW, max_rows=10, chunk=4, only=["inbox.deliveries"]),
                        "inbox.deliveries")
    assert (second.deleted, second.more) == (10, True)
    third = outcome_of(retention.purge(now=NOW, max_rows=10, chunk=4, only=["inbox.deliveries"]), "inbox.deliveries")
    assert (third.deleted, third.more) == (5, False)
    assert not InboundDelivery.objects.exists()
    changes = [r.changes["inbox.deliveries"] for r in AuditEvent.objects.filter(action="core.retention.purge")
               .order_by("pk")]
    assert [c["more"] for c in changes] == [True, True, False]


def test_zero_days_keeps_rows_forever(org, settings):
    settings.DANDELION_RETAIN_DELIVERIES_DAYS = 0
    old = deliveries(org.fr_account, "done", 3000)
    outcome = outcome_of(retention.purge(now=NOW), "inbox.deliveries")
    assert outcome.cutoff is None and outcome.deleted == 0
    assert InboundDelivery.objects.filter(pk__in=old).exists()
    assert "kept forever" in outcome.describe()


def test_a_shorter_setting_deletes_sooner(org, settings):
    settings.DANDELION_RETAIN_DELIVERIES_DAYS = 1
    deliveries(org.fr_account, "done", 2)
    assert outcome_of(retention.purge(now=NOW), "inbox.deliveries").deleted == 1


def test_the_hourly_job_is_registered_and_runs_once_per_period(org):
    deliveries(org.fr_account, "done", 20, 2)
    assert jobs.periodic_jobs()["core.retention"].every == 3600
    assert "core.retention" in jobs.tick(NOW, worker="w1")
    assert "core.retention" not in jobs.tick(NOW, worker="w2")
    queued = DBTaskResult.objects.filter(task_path__endswith="apply_retention", status="READY")
    assert queued.count() == 1
    result = jobs.apply_retention.call()
    assert result["inbox.deliveries"] == {"deleted": 2, "more": False}
    assert not InboundDelivery.objects.exists()


def test_the_command_shows_then_applies(org):
    deliveries(org.fr_account, "done", 20, 3)
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert "inbox.deliveries: would delete 3 processed webhook deliveries older than 14 days" in out.getvalue()
    assert InboundDelivery.objects.count() == 3
    assert not AuditEvent.objects.filter(action="core.retention.purge").exists()
    out = io.StringIO()
    call_command("retention", "--max-rows", "2", "--policy", "inbox.deliveries", stdout=out)
    assert "deleted 2 processed webhook deliveries" in out.getvalue() and "more left" in out.getvalue()
    assert "tasks.successful" not in out.getvalue()
    assert InboundDelivery.objects.count() == 1


def test_the_command_refuses_unknown_policies_and_bad_bounds(db):
    with pytest.raises(CommandError, match="Unknown policy nope"):
        call_command("retention", "--policy", "nope")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("retention", "--max-rows", "0")


def test_a_delivery_retried_between_the_select_and_the_delete_is_kept(org, monkeypatch):
    """The DELETE states the policy's condition again: a failed delivery retried meanwhile is no longer past its time
    (on PostgreSQL the re-check happens on the row the DELETE locks, after the retry's commit)."""
    from django.db.models.query import QuerySet

    (old,) = deliveries(org.fr_account, "failed", 100)
    real_delete = QuerySet.delete

    def retried_first(qs):
        InboundDelivery.objects.filter(pk=old).update(state="pending", processed_at=None)  # the retry's commit
        return real_delete(qs)

    monkeypatch.setattr(QuerySet, "delete", retried_first)
    outcome = outcome_of(retention.purge(now=NOW, only=["inbox.failed_deliveries"]), "inbox.failed_deliveries")
    assert outcome.deleted == 0
    assert InboundDelivery.objects.get(pk=old).state == "pending"
