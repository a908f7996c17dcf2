"""``dandelion seed-demo``: load the demo organisation (idempotent) and print the demo logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dandelion.core.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the demo organisation (units, teams, people per role, ~40 accounts, guidelines). Idempotent."

    def handle(self, *args, **options):
        demo = seed_demo()
        self.stdout.write(self.style.SUCCESS(
            "Demo organisation ready: " + ", ".join(f"{v} {k}" for k, v in demo.counts.items())))
        if demo.logins:
            self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
            for username, role, where in demo.logins:
                self.stdout.write(f"  {username:<18} {role:<20} {where}")
