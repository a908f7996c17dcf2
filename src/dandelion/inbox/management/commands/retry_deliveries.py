"""``dandelion retry-deliveries (--all | --account ID ... | --id N ...)``: put deliveries that failed for good back
in the queue once their cause is fixed (each account's through ``services.retry_failed_deliveries``: audited,
processing enqueued)."""

from __future__ import annotations

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError

from dandelion.assets.models import SocialAccount
from dandelion.core.actors import SYSTEM
from dandelion.inbox.choices import DeliveryState
from dandelion.inbox.models import InboundDelivery
from dandelion.inbox.services import retry_failed_deliveries


class Command(BaseCommand):
    help = "Queue failed inbound deliveries for processing again (after fixing what made them fail)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="everything", help="Every failed delivery of every account.")
        parser.add_argument("--account", type=int, action="append", default=[], metavar="ID",
                            help="The failed deliveries of this account (repeatable).")
        parser.add_argument("--id", type=int, action="append", default=[], dest="ids", metavar="N",
                            help="This delivery (repeatable); left alone unless it failed.")

    def handle(self, *args, everything: bool = False, account: list[int], ids: list[int], **options):
        if not (everything or account or ids):
            raise CommandError("Say which deliveries: --all, --account ID or --id N.")
        failed = InboundDelivery.objects.filter(state=DeliveryState.FAILED)
        wanted: dict[int, list[int] | None] = defaultdict(list)
        if everything:
            wanted.update({pk: None for pk in failed.values_list("account_id", flat=True).distinct()})
        for pk in account:
            if not SocialAccount.objects.filter(pk=pk).exists():
                raise CommandError(f"No account with id {pk}.")
            wanted[pk] = None
        if ids:
            found = dict(InboundDelivery.objects.filter(pk__in=ids).values_list("pk", "account_id"))
            missing = sorted(set(ids) - set(found))
            if missing:
                raise CommandError(f"No delivery with id {', '.join(map(str, missing))}.")
            for pk, account_id in found.items():
                if wanted.get(account_id, []) is not None:
                    wanted[account_id].append(pk)
        total = 0
        for acc in SocialAccount.objects.filter(pk__in=list(wanted)).order_by("pk"):
            count = retry_failed_deliveries(acc, actor=SYSTEM, ids=wanted[acc.pk])
            total += count
            self.stdout.write(f"{acc} (#{acc.pk}): {count} queued again")
        self.stdout.write(f"{total} failed deliver{'y' if total == 1 else 'ies'} queued for processing again.")
