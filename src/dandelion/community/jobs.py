"""The community app's periodic jobs (registered by :func:`dandelion.core.jobs.autodiscover`)."""

from django_tasks import task

from dandelion.core.jobs import periodic


@periodic("community.reminders", every=300)
@task()
def send_gathering_reminders() -> dict:
    """Every five minutes: the reminder e-mails due before the coming gatherings (exactly once each)."""
    from dandelion.community.reminders import send_due_reminders

    return {"sent": send_due_reminders()}


@periodic("community.digest", every=3600)
@task()
def send_weekly_digests() -> dict:
    """Hourly: the weekly digests now due (from Monday 08:00 in each member's time zone; once per member and week)."""
    from dandelion.community.digest import send_weekly_digests as send

    return {"sent": send()}
