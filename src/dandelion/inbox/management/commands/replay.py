"""``dandelion replay <format> [path]``: feed a dataset (or the demo generator) through the inbound pipeline.

Records are mapped to accounts: ``--account ID`` forces one; otherwise each record's ``account_handle`` is matched
to a SocialAccount handle (with or without '@', case-insensitive). Nothing is created silently: unknown handles are
reported and their records skipped, unless ``--create-accounts --unit SLUG --network KEY`` creates replay accounts
under that unit. Records are stored as InboundDelivery batches (source "replay") and processed inline, or left to
the workers with ``--enqueue``. ``--speed 0`` (default) replays as fast as possible with the source's timestamps;
``--speed N`` paces the stream N times faster than real time and stamps events with the current time
(``--max-delay S`` caps any wait at S seconds).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from dandelion.inbox.pipeline import IngestResult


def _norm(handle: str | None) -> str:
    return (handle or "").strip().lstrip("@").lower()


class Command(BaseCommand):
    help = "Replay a dataset (twcs, xlmt, crisislex) or the demo stream through the inbound pipeline."

    def add_arguments(self, parser):
        parser.add_argument("format", help="twcs, xlmt, crisislex or demo")
        parser.add_argument("path", nargs="?", default=None,
                            help="Dataset file or folder (default: the shared datasets folder; none for demo).")
        parser.add_argument("--speed", type=float, default=0.0,
                            help="Speed-up over real time; 0 = as fast as possible (keeps source timestamps).")
        parser.add_argument("--max-delay", type=float, default=None,
                            help="With --speed: never wait longer than this many seconds between two records "
                                 "(quiet nights of a dataset pass quickly in a demo).")
        parser.add_argument("--account", type=int, help="Send every record to this account id.")
        parser.add_argument("--limit", type=int, help="Stop after this many records.")
        parser.add_argument("--batch", type=int, default=500, help="Events per stored delivery (default 500).")
        parser.add_argument("--enqueue", action="store_true", help="Store only; leave processing to the workers.")
        parser.add_argument("--create-accounts", action="store_true",
                            help="Create a replay account for each unknown handle (needs --unit and --network).")
        parser.add_argument("--unit", help="Slug of the org unit owning created accounts.")
        parser.add_argument("--network", help="Network key of created accounts (see the connectors' catalogue).")
        parser.add_argument("--connector", default="replay",
                            help="Connector of created accounts (default replay: inbound only; sandbox lets agents "
                                 "answer without sending anything).")
        parser.add_argument("--seed", type=int, default=0, help="Seed (demo generator, xlmt shuffle).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **o):
        from dandelion.connectors.replay.records import ReplayError, play
        from dandelion.connectors.replay.sources import open_replay

        if o["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        if o["speed"] < 0:
            raise CommandError("--speed must be 0 (as fast as possible) or positive")
        accounts = self._accounts(o)
        options = {}
        if o["format"] in ("demo", "xlmt"):
            options["seed"] = o["seed"]
        if o["format"] == "demo" and o["account"] is None:
            options["accounts"] = {a.handle: list(a.languages or []) for a in accounts["by_handle"].values()} or None
        try:
            records = open_replay(o["format"], o["path"], **options)
        except ReplayError as exc:
            raise CommandError(str(exc)) from exc
        if o["limit"]:
            records = itertools.islice(records, o["limit"])
        elif o["format"] == "demo":
            raise CommandError("the demo stream is endless: give --limit (or use `dandelion demo-traffic`)")
        if o["max_delay"] is not None and o["max_delay"] < 0:
            raise CommandError("--max-delay must be 0 or more seconds")
        if o["speed"] > 0:
            records = play(records, speedup=o["speed"], retime=True, max_delay_s=o["max_delay"])
        summary = self.replay(records, accounts=accounts, options=o)
        self._report(summary, o)

    # --- accounts ---------------------------------------------------------------------------------------------
    def _accounts(self, o):
        from dandelion.assets.choices import AccountStatus
        from dandelion.assets.models import SocialAccount

        active = SocialAccount.objects.filter(archived_at__isnull=True).exclude(status=AccountStatus.ARCHIVED)
        forced = None
        if o["account"] is not None:
            forced = active.select_related("owner_unit").filter(pk=o["account"]).first()
            if forced is None:
                raise CommandError(f"no active account with id {o['account']}")
        by_handle = {_norm(a.handle): a for a in active.select_related("owner_unit").order_by("id")}
        unit = None
        if o["create_accounts"]:
            from dandelion.connectors import registry
            from dandelion.orgs.models import OrgUnit

            if not o["unit"] or not o["network"]:
                raise CommandError("--create-accounts needs --unit SLUG and --network KEY")
            unit = OrgUnit.objects.filter(slug=o["unit"]).first()
            if unit is None:
                raise CommandError(f"no org unit with slug {o['unit']!r}")
            try:
                registry.get_network(o["network"])
                registry.get(o["connector"])
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
        return {"forced": forced, "by_handle": by_handle, "unit": unit}

    def _create_account(self, handle: str, accounts, o):
        """The replay account for ``handle`` (registered through the assets service, as the SYSTEM actor)."""
        from dandelion.assets.models import SocialAccount
        from dandelion.assets.services import register_account
        from dandelion.core.actors import SYSTEM

        name = handle.strip().lstrip("@")
        external_id = f"replay-{o['format']}-{name}"[:150]
        existing = SocialAccount.objects.filter(network=o["network"], external_id=external_id).first()
        if existing is not None:
            return existing
        return register_account(
            actor=SYSTEM, owner_unit=accounts["unit"], network=o["network"], connector=o["connector"],
            handle=f"@{name}", external_id=external_id, display_name=name,
            connector_config={"format": o["format"]} if o["connector"] == "replay" else {},
            notes=f"Created by `dandelion replay {o['format']}`.",
        )

    # --- the replay loop ----------------------------------------------------------------------------------------
    def replay(self, records, *, accounts, options) -> dict:
        from tqdm import tqdm

        from dandelion.inbox.jobs import process_now
        from dandelion.inbox.services import store_delivery

        total = IngestResult()
        unknown: Counter = Counter()
        unmapped = 0
        created_accounts = []
        deliveries = 0
        buffers: dict[int, list] = {}
        account_of: dict[int, object] = {}
        started = time.monotonic()
        last_flush = time.monotonic()
        live = options["speed"] > 0

        def flush(account_id):
            nonlocal deliveries
            events = buffers.pop(account_id, [])
            if not events:
                return
            delivery = store_delivery(account_of[account_id], events, body="", source="replay",
                                      enqueue=options["enqueue"])
            deliveries += 1
            if not options["enqueue"]:
                total.merge(process_now(delivery))

        bar = tqdm(records, total=options["limit"], unit="ev", disable=options["no_progress"],
                   desc=f"replay {options['format']}")
        count = 0
        for record in bar:
            count += 1
            account = accounts["forced"]
            if account is None:
                key = _norm(record.account_handle)
                account = accounts["by_handle"].get(key) if key else None
                if account is None and key and accounts["unit"] is not None:
                    account = self._create_account(record.account_handle, accounts, options)
                    accounts["by_handle"][key] = account
                    created_accounts.append(account.handle)
                if account is None:
                    if key:
                        unknown[record.account_handle] += 1
                    else:
                        unmapped += 1
                    continue
            account_of[account.pk] = account
            buffers.setdefault(account.pk, []).append(record.event)
            if len(buffers[account.pk]) >= options["batch"]:
                flush(account.pk)
            if live and time.monotonic() - last_flush >= 1.0:
                for pk in list(buffers):
                    flush(pk)
                last_flush = time.monotonic()
            if count % 200 == 0:
                bar.set_postfix(created=total.created, dup=total.duplicates)
        for pk in list(buffers):
            flush(pk)
        bar.close()
        return {"records": count, "deliveries": deliveries, "result": total, "unknown": unknown,
                "unmapped": unmapped, "created_accounts": created_accounts, "seconds": time.monotonic() - started}

    def _report(self, s, o):
        r: IngestResult = s["result"]
        rate = s["records"] / s["seconds"] if s["seconds"] else 0
        self.stdout.write(self.style.SUCCESS(
            f"Replayed {s['records']} records in {s['seconds']:.1f} s ({rate:.0f}/s): {s['deliveries']} deliveries"))
        if o["enqueue"]:
            self.stdout.write("  stored for the workers (--enqueue): run `dandelion worker` to process them")
        else:
            self.stdout.write(
                f"  messages created {r.created}, duplicates {r.duplicates}, brand answers (echoes) {r.echoes}, "
                f"echoes of unknown posts {r.orphan_echoes}, conversations created {r.conversations_created}, "
                f"routed {r.routed}, hidden {r.hidden}")
        if s["created_accounts"]:
            self.stdout.write(f"  created {len(s['created_accounts'])} replay accounts: "
                              + ", ".join(s["created_accounts"][:20]) + (" …" if len(s["created_accounts"]) > 20 else ""))
        if s["unknown"]:
            top = ", ".join(f"{h} ({n})" for h, n in s["unknown"].most_common(15))
            self.stdout.write(self.style.WARNING(
                f"  {sum(s['unknown'].values())} records skipped: {len(s['unknown'])} unknown account handles: {top}"
                "\n  (create accounts with these handles, force one with --account ID, or use "
                "--create-accounts --unit SLUG --network KEY)"))
        if s["unmapped"]:
            self.stdout.write(self.style.WARNING(
                f"  {s['unmapped']} records skipped: the source names no account (use --account ID)"))
        self.summary = s
