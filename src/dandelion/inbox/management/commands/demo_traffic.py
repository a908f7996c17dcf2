"""``dandelion demo-traffic``: feed the multilingual demo generator to the demo accounts, continuously (make demo).

Each account gets traffic in its own languages. Events are stamped with the current time and stored as deliveries
that the workers process (``--inline`` processes them here, for a machine without a worker).
"""

from __future__ import annotations

import random
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Feed demo traffic (the connectors' multilingual generator) to the demo accounts continuously."

    def add_arguments(self, parser):
        parser.add_argument("--rate", type=float, default=0.5, help="Events per second (default 0.5).")
        parser.add_argument("--duration", type=float, default=0,
                            help="Seconds to run (0 = until interrupted).")
        parser.add_argument("--seed", type=int, default=None, help="Generator seed (default: random).")
        parser.add_argument("--unit", help="Only accounts owned by this unit slug (and its subtree).")
        parser.add_argument("--inline", action="store_true", help="Process here instead of in the workers.")
        parser.add_argument("--backfill", type=int, default=0,
                            help="First send this many events at once, stamped over the past hours, so the inbox "
                                 "is not empty when you open it (default 0).")

    def handle(self, *args, **o):
        from dataclasses import replace

        from django.utils import timezone

        from dandelion.assets.choices import AccountStatus
        from dandelion.assets.models import SocialAccount
        from dandelion.connectors.replay.sources import open_replay
        from dandelion.inbox.jobs import process_now
        from dandelion.inbox.services import store_delivery

        if o["rate"] <= 0:
            raise CommandError("--rate must be positive")
        if o["backfill"] < 0:
            raise CommandError("--backfill must be 0 or more")
        accounts = SocialAccount.objects.filter(status=AccountStatus.ACTIVE, archived_at__isnull=True)
        if o["unit"]:
            from dandelion.orgs.models import OrgUnit

            unit = OrgUnit.objects.filter(slug=o["unit"]).first()
            if unit is None:
                raise CommandError(f"no org unit with slug {o['unit']!r}")
            accounts = accounts.filter(owner_unit__path__startswith=unit.path)
        by_handle = {a.handle: a for a in accounts.select_related("owner_unit")}
        if not by_handle:
            raise CommandError("no active accounts: run `dandelion seed-demo` first")
        seed = o["seed"] if o["seed"] is not None else random.randrange(1 << 30)
        stream = open_replay("demo", seed=seed, accounts={h: list(a.languages or []) for h, a in by_handle.items()})
        self.stdout.write(f"Demo traffic: {o['rate']}/s over {len(by_handle)} accounts (seed {seed}). Ctrl-C stops.")
        started = time.monotonic()
        sent = 0
        if o["backfill"]:
            # The recent past: events spread over the last hours, stored as one delivery per account.
            from datetime import timedelta

            now = timezone.now()
            rng = random.Random(seed)
            per_account: dict[int, list] = {}
            for i, record in zip(range(o["backfill"]), stream, strict=False):
                account = by_handle.get(record.account_handle or "") or rng.choice(list(by_handle.values()))
                age = timedelta(minutes=rng.uniform(1, 6 * 60) * (o["backfill"] - i) / o["backfill"])
                per_account.setdefault(account.pk, []).append(
                    (account, replace(record.event, created_at=now - age)))
            for items in per_account.values():
                delivery = store_delivery(items[0][0], [e for _, e in items], source="demo",
                                          enqueue=not o["inline"])
                if o["inline"]:
                    process_now(delivery)
                sent += len(items)
            self.stdout.write(f"Backfilled {sent} events over the last hours.")
        try:
            for record in stream:
                if o["duration"] and time.monotonic() - started >= o["duration"]:
                    break
                account = by_handle.get(record.account_handle or "") or random.choice(list(by_handle.values()))
                event = replace(record.event, created_at=timezone.now())
                delivery = store_delivery(account, [event], source="demo", enqueue=not o["inline"])
                if o["inline"]:
                    process_now(delivery)
                sent += 1
                time.sleep(random.expovariate(o["rate"]))
        except KeyboardInterrupt:
            pass
        self.stdout.write(self.style.SUCCESS(f"Sent {sent} demo events."))
