"""``dandelion retention [--dry-run] [--max-rows N] [--policy NAME ...]``: apply the retention policies now (what
the hourly job ``core.retention`` does), or show what they would delete."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dandelion.core.retention import policies, purge


class Command(BaseCommand):
    help = "Delete the operational rows past their retention (processed webhook deliveries, job results, ...)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")
        parser.add_argument("--max-rows", type=int, default=None,
                            help="At most this many rows per policy (default DANDELION_RETENTION_MAX_ROWS).")
        parser.add_argument("--policy", action="append", dest="only", metavar="NAME",
                            help="Only this policy (repeatable): " + ", ".join(p.name for p in policies()))

    def handle(self, *args, dry_run: bool = False, max_rows: int | None = None, only=None, **options):
        known = {p.name for p in policies()}
        unknown = sorted(set(only or ()) - known)
        if unknown:
            raise CommandError(f"Unknown policy {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        if max_rows is not None and max_rows < 1:
            raise CommandError("--max-rows must be at least 1.")
        verb = "would delete" if dry_run else "deleted"
        for outcome in purge(dry_run=dry_run, max_rows=max_rows, only=only):
            name = outcome.policy.name
            if outcome.cutoff is None:
                self.stdout.write(f"{name}: kept forever ({outcome.policy.setting}=0)")
                continue
            more = " (more left: run again)" if outcome.more else ""
            self.stdout.write(f"{name}: {verb} {outcome.deleted:,} {outcome.policy.label} older than "
                              f"{outcome.days} days (before {outcome.cutoff:%Y-%m-%d %H:%M} UTC){more}")
