"""``dandelion seed-demo``: load the demo organisation (idempotent) and print the demo logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dandelion.core.demo import DEMO_PASSWORD, PEOPLE, seed_demo


class Command(BaseCommand):
    help = "Load the demo organisation (units, teams, people per role, ~40 accounts, guidelines). Idempotent."

    def handle(self, *args, **options):
        counts = seed_demo()
        self.stdout.write(self.style.SUCCESS(
            "Demo organisation ready: " + ", ".join(f"{v} {k}" for k, v in counts.items())))
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, full_name, role, unit, team in PEOPLE[:8]:
            self.stdout.write(f"  {username:<18} {role.replace('_', ' '):<20} {unit}{' / ' + team if team else ''}")
        self.stdout.write(f"  {'admin':<18} {'superuser':<20} (Django admin at /admin/)")
