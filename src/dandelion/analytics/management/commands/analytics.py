"""``dandelion analytics backfill [--start D] [--end D] [--days N]``: recompute the rollups of a range of days with
a progress bar; ``dandelion analytics rebuild-day D``: one day, exactly."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dandelion.analytics import services
from dandelion.analytics.exceptions import BadPeriod
from dandelion.core.actors import SYSTEM


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (expected YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Compute the analytics rollups: backfill a range of days, or rebuild one day."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        backfill = sub.add_parser("backfill", help="Recompute every day of a range (default: the last 90 days).")
        backfill.add_argument("--start", type=_date)
        backfill.add_argument("--end", type=_date)
        backfill.add_argument("--days", type=int, default=90)
        backfill.add_argument("--no-progress", action="store_true")
        one = sub.add_parser("rebuild-day", help="Recompute one day exactly.")
        one.add_argument("day", type=_date)

    def handle(self, *args, action, **options):
        if action == "rebuild-day":
            rows = services.rebuild_day(options["day"], actor=SYSTEM)
            self.stdout.write(f"{options['day']}: {rows} rows")
            return
        end = options["end"] or timezone.now().date()
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        start = options["start"] or end - dt.timedelta(days=options["days"] - 1)
        if end < start:
            raise CommandError(f"the end ({end}) is before the start ({start})")
        from tqdm import tqdm

        bar = tqdm(total=(end - start).days + 1, unit="day", disable=options["no_progress"], file=self.stderr)

        def progress(day, rows):
            bar.set_postfix_str(f"{day} {rows} rows")
            bar.update(1)

        try:
            total = services.rebuild_days(start, end, actor=SYSTEM, progress=progress)
        except BadPeriod as exc:
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {start} to {end}: {total} rows"))
