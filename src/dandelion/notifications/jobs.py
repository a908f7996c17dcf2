"""The notifications app's periodic jobs (registered by :func:`dandelion.core.jobs.autodiscover`)."""

from django_tasks import task

from dandelion.core.jobs import periodic


@periodic("notifications.digest", every=3600)
@task()
def send_daily_digests() -> dict:
    """Hourly: the daily digests of what waits on each person now due (from 08:00 in their time zone; once per
    person and day; nothing when nothing waits)."""
    from dandelion.notifications.digest import send_daily_digests as send

    return {"sent": send()}
