"""The send job wakes at each post's time (a deferred run per second, enqueued when the post is scheduled) instead of
waiting for the 15-second periodic run; a full batch enqueues another run at once so idle workers join the drain.
Through the real database task backend (``django_tasks_db``): the queued rows are what a worker would run."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dandelion.connectors import fake
from dandelion.core.models import JobSlot
from dandelion.publishing import jobs, services
from dandelion.publishing.choices import PostState

pytestmark = pytest.mark.django_db


def _schedule(pub, when: dt.datetime, text="Bonjour à tous"):
    """An approved post (no workflow here) scheduled at the instant ``when``."""
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=text, accounts=[pub.fr_account])
    post = services.submit_post(post, actor=pub.users.fr_cm)
    local = when.astimezone(ZoneInfo(post.schedule_timezone or "UTC")).replace(tzinfo=None)
    return services.schedule_post(post, actor=pub.users.fr_cm, scheduled_local=local)


def _send_runs():
    return list(DBTaskResult.objects.filter(task_path__endswith=".send_due_posts").order_by("run_after", "id"))


def test_scheduling_enqueues_one_run_at_the_due_second(pub, django_capture_on_commit_callbacks):
    when = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):  # three posts due in the same second: one run
            _schedule(pub, when, text=f"Post {i}")
    runs = _send_runs()
    assert len(runs) == 1
    assert runs[0].run_after == when and not DBTaskResult.objects.ready().exists()  # deferred to its second
    limit, slot = runs[0].args_kwargs["args"]
    assert limit == jobs.SEND_LIMIT and slot == f"publishing.send_due@{int(when.timestamp())}"
    assert JobSlot.objects.filter(name=slot).exists()
    # another second: another run
    with django_capture_on_commit_callbacks(execute=True):
        _schedule(pub, when + dt.timedelta(seconds=1))
    assert [r.run_after for r in _send_runs()] == [when, when + dt.timedelta(seconds=1)]


def test_the_woken_run_frees_its_slot_and_sends(pub, django_capture_on_commit_callbacks):
    when = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        post = _schedule(pub, when)
    run = _send_runs()[0]
    # the worker runs it at its time (here: the variant made due, as the clock would)
    post.variants.update(due_at=timezone.now())
    result = jobs.send_due_posts.call(*run.args_kwargs["args"])
    assert result["sent"] == 1 and len(fake.STORE.published) == 1
    assert not JobSlot.objects.filter(name=run.args_kwargs["args"][1]).exists()
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED


def test_a_full_batch_enqueues_another_run_now(pub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            _schedule(pub, timezone.now() + dt.timedelta(minutes=1), text=f"P{i}")
    DBTaskResult.objects.all().delete()
    JobSlot.objects.all().delete()
    from dandelion.publishing.models import PostVariant

    PostVariant.objects.update(due_at=timezone.now())
    first = jobs.send_due_posts.call(2)  # a batch of 2 of the 3 due: more may be due
    assert first["claimed"] == 2
    more = _send_runs()
    # ready now, for whichever worker is free
    assert len(more) == 1 and list(DBTaskResult.objects.ready().filter(pk=more[0].pk)) == more
    second = jobs.send_due_posts.call(*more[0].args_kwargs["args"])
    assert second["claimed"] == 1 and len(fake.STORE.published) == 3
    assert len(_send_runs()) == 1  # a partial batch: nothing more enqueued


def test_resume_wakes_the_posts_still_ahead(pub, django_capture_on_commit_callbacks):
    when = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    _schedule(pub, when)
    pause = services.pause_subtree(actor=pub.users.hub_admin, unit=pub.france, reason="Crisis")
    DBTaskResult.objects.all().delete()
    JobSlot.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_pause(pause, actor=pub.users.hub_admin) == {"resumed": 1, "fell_due": 0}
    assert [r.run_after for r in _send_runs()] == [when]
